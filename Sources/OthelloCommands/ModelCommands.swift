import ArgumentParser
import Foundation
import OthelloModel
import OthelloRules
import WorkbenchSupport

/// Options shared by the commands that run the model.
struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Weight file: .safetensors, or a torch .pth/.ckpt (TransformerLens or minGPT state dict). Default: the shipped model.", valueName: "file"))
    var model: String?

    @Option(help: "Attention heads, for minGPT checkpoints whose shapes do not tell (default d_model / 64).")
    var heads: Int?

    @Option(help: "Threads for the matrix products and kernels (default: all cores).")
    var threads: Int?

    @Option(help: "Games per forward pass.")
    var batchSize: Int = 64

    func load() throws -> HookedTransformer {
        if let threads {
            guard threads >= 1 else { throw WorkbenchError("--threads must be at least 1") }
            Matmul.setThreads(threads)
        }
        guard batchSize >= 1 else { throw WorkbenchError("--batch-size must be at least 1") }
        return try HookedTransformer.load(path: model, nHeads: heads)
    }

    func runOptions(progress: String?) -> HookedTransformer.RunOptions {
        HookedTransformer.RunOptions(batchSize: batchSize, progressLabel: progress)
    }
}

/// Games read with the rules engine (every move checked legal) and turned into model tokens: the first
/// `positions` moves of each game, padded with token 0 (the TransformerLens Othello convention).
struct TokenizedGames {
    let dataset: GameDataset
    /// The dataset indices of the chosen games.
    let indices: [Int]
    let positions: Int
    /// `count × positions` tokens, row-major.
    let tokens: [Int32]
    var count: Int { indices.count }

    init(path: String, positions: Int, limit: Int? = nil, only game: Int? = nil) throws {
        let dataset = try GameDataset.read(from: URL(fileURLWithPath: path))
        var indices = Array(0..<dataset.count)
        guard dataset.count > 0 else { throw WorkbenchError("\(path): the file holds no games; pass a games file with at least one") }
        if let game {
            guard indices.contains(game) else { throw WorkbenchError("--game \(game): \(path) has games 0…\(dataset.count - 1)") }
            indices = [game]
        }
        if let limit {
            guard limit >= 1 else { throw WorkbenchError("--limit must be at least 1") }
            indices = Array(indices.prefix(limit))
        }
        let tokens = dataset.tokenBatch(indices, positions: positions)
        self.dataset = dataset
        self.indices = indices
        self.positions = positions
        self.tokens = tokens
    }

    /// The moves (squares) of the `row`-th chosen game.
    func moves(_ row: Int) -> [Int] { dataset[indices[row]] }
}

/// `othello-gpt run`: the model's top predictions at every position of a game.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Show the model's top predicted next moves at every position of a game.",
        discussion: """
        Reads games (a .npy file int8 [N, 60] with squares 0…63 and -1 after the end, or .txt, .wtb, .pgn), feeds the first 59 moves of one \
        game to the model as tokens (TransformerLens Othello convention, padded with token 0) and prints, after each \
        move, the moves the model predicts next with their probabilities. Squares are labelled A0…H7 (row letter, \
        0-based column).

        Example:
          othello-gpt run --model othello_gpt.pth --games Games/synthetic-10k.npy \\
            --game 3 --top 5
        """
    )

    @OptionGroup var options: ModelOptions

    @Option(help: ArgumentHelp("Games file: .npy (int8 [N, 60]), .txt, .wtb or .pgn.", valueName: "file"))
    var games: String

    @Option(help: "Which game of the file (from 0).")
    var game: Int = 0

    @Option(help: "Predictions shown per position.")
    var top: Int = 3

    @Flag(help: "Print JSON: one object per position with the move played and the top predictions.")
    var json = false

    func run() throws {
        guard top >= 1 else { throw WorkbenchError("--top must be at least 1") }
        let model = try options.load()
        let positions = model.config.nCtx
        let input = try TokenizedGames(path: games, positions: positions, only: game)
        let logits = try model.logits(tokens: input.tokens, games: 1, positions: positions)
        let vocabulary = model.config.dVocab
        let moves = input.moves(0)
        let label = SquareNotation.othelloGPT.label
        var rows: [RunJSON.Row] = []
        for position in 0..<min(moves.count, positions) {
            let p = Softmax.probabilities(logits.values[(position * vocabulary)..<((position + 1) * vocabulary)])
            let ranked = p.indices.sorted { p[$0] > p[$1] }.prefix(top)
            let predictions = ranked.map { token in
                let square = token == Vocabulary.padding ? nil : Vocabulary.squareUnchecked(forToken: token)
                return RunJSON.Prediction(token: token, square: square, label: square.map(label) ?? "pass", probability: Double(p[token]))
            }
            rows.append(.init(position: position, move: moves[position], label: label(moves[position]), top: predictions))
        }
        if json { return try printJSON(RunJSON(game: game, positions: rows)) }
        print("game \(game) of \(games): \(moves.count) moves; after each move, the model's top \(top) next moves")
        for row in rows {
            let predictions = row.top.map { String(format: "%@ %5.1f%%", $0.label as NSString, 100 * $0.probability) }
            print(String(format: "%3d  %@  → ", row.position + 1, row.label as NSString) + predictions.joined(separator: "  "))
        }
    }
}

/// `othello-gpt cache`: activations of many games written as `.npy` files.
/// `run --json`: per position the move played and the model's top predictions.
struct RunJSON: Codable {
    struct Prediction: Codable {
        var token: Int
        /// The square of the move (null for the padding token, "pass").
        var square: Int?
        var label: String
        var probability: Double

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(token, forKey: .token)
            try container.encode(square, forKey: .square)   // null, not absent, for "pass"
            try container.encode(label, forKey: .label)
            try container.encode(probability, forKey: .probability)
        }
    }
    struct Row: Codable {
        var position, move: Int
        var label: String
        var top: [Prediction]
    }
    var game: Int
    var positions: [Row]
}

struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Run the model on games and write chosen activations as .npy files.",
        discussion: """
        Writes one float32 .npy file per hook, named by its full TransformerLens name (blocks.6.hook_resid_post.npy), \
        shaped [games, positions, …] as TransformerLens caches it ([games, heads, query, key] for attention scores \
        and pattern), and logits.npy [games, 59, 61]. Files are streamed batch by batch and appear only when complete.

        Hook names, per layer L: blocks.L. followed by hook_resid_pre, ln1.hook_scale, ln1.hook_normalized, \
        attn.hook_q, attn.hook_k, attn.hook_v, attn.hook_attn_scores, attn.hook_pattern, attn.hook_z, \
        attn.hook_result, hook_attn_out, hook_resid_mid, ln2.hook_scale, ln2.hook_normalized, mlp.hook_pre, \
        mlp.hook_post, hook_mlp_out or hook_resid_post; once: hook_embed, hook_pos_embed, ln_final.hook_scale, \
        ln_final.hook_normalized, unembed.hook_in, unembed.hook_out. '*' matches any text.

        Example:
          othello-gpt cache --model m.pth --games Games/synthetic-10k.npy \\
            --hooks 'blocks.*.hook_resid_post' --out acts --limit 1000
        """
    )

    @OptionGroup var options: ModelOptions

    @Option(help: ArgumentHelp("Games file: .npy (int8 [N, 60]), .txt, .wtb or .pgn.", valueName: "file"))
    var games: String

    @Option(help: ArgumentHelp("Comma-separated hook names; '*' is a wildcard.", valueName: "names"))
    var hooks: String

    @Option(help: ArgumentHelp("Output folder (created if missing).", valueName: "dir"))
    var out: String

    @Option(help: "Use only the first N games.")
    var limit: Int?

    @Flag(help: "Do not write logits.npy.")
    var noLogits = false

    func run() throws {
        let model = try options.load()
        let config = model.config
        let filter = try HookFilter.patterns(hooks.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
                                             config: config)
        let points = HookPoint.all(config: config, includeResult: true).filter(filter.matches)
        guard !points.isEmpty || !noLogits else { throw WorkbenchError("--hooks names no hook and --no-logits drops the logits: nothing to write") }
        // The final layer norm's and the unembedding's hooks are computed only along with the logits.
        let needsLogits = !noLogits || points.contains { $0.layer == nil && $0.kind >= .residPre }
        let input = try TokenizedGames(path: games, positions: config.nCtx, limit: limit)
        let folder = URL(fileURLWithPath: out)
        let newFolder = !FileManager.default.fileExists(atPath: folder.path)
        try createOutputFolder(folder)
        // On failure, no file is left behind, nor the folder if this run made it.
        var writers: [NPYStreamWriter] = []
        var logitsWriter: NPYStreamWriter?
        var finished = false
        defer {
            writers.forEach { $0.discard() }
            logitsWriter?.discard()
            if !finished && newFolder { rmdir(folder.path) }
        }
        for point in points {
            writers.append(try NPYStreamWriter(url: folder.appendingPathComponent(point.name + ".npy"),
                                               shape: point.shape(batch: input.count, positions: config.nCtx, config: config)))
        }
        if !noLogits {
            logitsWriter = try NPYStreamWriter(url: folder.appendingPathComponent("logits.npy"), shape: [input.count, config.nCtx, config.dVocab])
        }

        let batch = options.batchSize
        let arena = ActivationArena(config: config, maxBatch: min(batch, input.count), mode: .inference)
        let progress = ProgressBar(total: input.count, label: "cache")
        var start = 0
        while start < input.count {
            let count = min(batch, input.count - start)
            let tokens = Array(input.tokens[(start * config.nCtx)..<((start + count) * config.nCtx)])
            var run = options.runOptions(progress: nil)
            run.arena = arena
            run.computeLogits = needsLogits
            let cache = try model.runWithCache(tokens: tokens, games: count, positions: config.nCtx, filter: filter, options: run)
            for (i, point) in points.enumerated() {
                guard let activation = cache[point] else { throw WorkbenchError("cache: the run did not reach \(point.name)") }
                try writers[i].append(activation.values)
            }
            if let logits = cache.logits { try logitsWriter?.append(logits.values) }
            start += count
            progress.advance(by: count)
        }
        progress.finish()
        for i in writers.indices { try writers[i].commit() }
        try logitsWriter?.commit()
        finished = true
        let arrays = points.count + (noLogits ? 0 : 1)
        print("wrote \(arrays) array\(arrays == 1 ? "" : "s") of \(input.count) games to \(out)")
    }
}

/// Writes a float32 `.npy` file in pieces, atomically: it appears under its name only on `commit()`.
struct NPYStreamWriter {
    private let file: AtomicFile.Writer
    private let expected: Int
    private var written = 0

    init(url: URL, shape: [Int]) throws {
        file = try AtomicFile.Writer(url: url)
        expected = shape.reduce(1, *)
        try file.write(NPYArray.header(dtype: Float.npyDType, shape: shape))
    }

    mutating func append(_ values: [Float]) throws {
        try values.withUnsafeBufferPointer { try file.write(Data(buffer: $0)) }
        written += values.count
    }

    /// Renames the finished file onto its name.
    func commit() throws {
        guard written == expected else { throw WorkbenchError("\(file.url.path): wrote \(written) of \(expected) values") }
        try file.commit()
    }

    /// Removes the temporary file if it was not committed.
    func discard() { file.discard() }
}
