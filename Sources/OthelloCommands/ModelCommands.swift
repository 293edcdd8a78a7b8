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
        let input = try TokenizedGames(path: games, positions: config.nCtx, limit: limit)
        try model.writeCache(tokens: input.tokens, games: input.count, filter: filter, logits: !noLogits, to: URL(fileURLWithPath: out),
                             batchSize: options.batchSize)
        let arrays = points.count + (noLogits ? 0 : 1)
        print("wrote \(arrays) array\(arrays == 1 ? "" : "s") of \(input.count) games to \(out)")
    }
}
