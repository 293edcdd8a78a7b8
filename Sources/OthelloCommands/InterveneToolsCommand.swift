import ArgumentParser
import Foundation
import OthelloInterventions
import OthelloModel
import OthelloPlots
import OthelloReports
import OthelloProbes
import OthelloRules
import WorkbenchSupport

/// A game prefix from a games file: `--games G --game I --moves M`.
struct PrefixOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Games file (.npy, .txt, .wtb, .pgn).", valueName: "file")) var games: String = "Games/synthetic-10k.npy"
    @Option(help: "The game (from 0).") var game: Int = 0
    @Option(help: "Moves of the prefix (the model's position is the last of them).") var moves: Int = 30

    func prefix(maxPositions: Int) throws -> [Int] {
        let dataset = try GameDataset.read(from: URL(fileURLWithPath: games))
        guard (0..<dataset.count).contains(game) else { throw WorkbenchError("--game \(game): \(games) has games 0…\(dataset.count - 1)") }
        let all = dataset[game]
        guard moves >= 1, moves <= min(all.count, maxPositions) else {
            throw WorkbenchError("--moves \(moves): game \(game) of \(games) has \(all.count) moves; the model reads at most \(maxPositions)")
        }
        return Array(all.prefix(moves))
    }
}

/// `intervene patch --json`.
struct PatchJSON: Codable {
    var rows: [String]
    var normalised: [[Double]]
    var cleanLogit, corruptedLogit: Double
    var target: String
    var corruptedMove: Int
    var corruptedWith: String
}

/// `intervene saliency --json`.
struct SaliencyJSON: Codable {
    var topMove: String
    /// Per square, the drop of the top move's logit (null for empty squares).
    var drops: [Double?]
}

struct IntervenePatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patch",
        abstract: "Activation patching: a clean and a corrupted game that differ in one move, layer × position.",
        discussion: """
        The corrupted game replaces move --corrupt-at (default: five moves before the last, so that the figure \
        shows how the information travels from that position to the last) of the prefix by another legal move after \
        which the rest stays legal. Each (layer[, head], position) of --hook (resid_pre, attn_out, mlp_out, or z \
        per head) is copied from the clean run into the corrupted run; the metric is the logit of --target at the \
        last position (default: the move legal in the clean game whose logit the corruption lowers most), \
        normalised to 0 (corrupted) … 1 (clean). Writes a layer × position matrix figure and, with --json, the values. \
        --pairs N averages the normalised matrix over N games from --game on (the same prefix length and corrupted \
        move, each game's own default target; games whose metric the corruption moves by under 0.5 logits are left \
        out).

        Examples:
          othello-gpt intervene patch --games Games/synthetic-10k.npy --game 3 --moves 30 --hook resid_pre --out patch.png
          othello-gpt intervene patch --games Games/synthetic-10k.npy --moves 30 --corrupt-at 20 --pairs 50 --out patch-50.png
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var prefix: PrefixOptions
    @Option(name: .customLong("corrupt-at"), help: "Which move to change (from 0; default five before the last).") var corruptAt: Int?
    @Option(help: "Average over this many games from --game on.") var pairs: Int = 1
    @Option(help: "resid_pre, attn_out, mlp_out or z.") var hook: String = "resid_pre"
    @Option(help: "The move whose logit is the metric (label such as C3).") var target: String?
    @Option(help: "Where to write the figure.") var out: String = "patch.png"
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let transformer = try model.load()
        let kinds: [String: HookPoint.Kind] = ["resid_pre": .residPre, "attn_out": .attnOut, "mlp_out": .mlpOut, "z": .z]
        guard let kind = kinds[hook] else { throw WorkbenchError("--hook \(hook): choose resid_pre, attn_out, mlp_out or z") }
        let targetToken = try target.map { try Vocabulary.token(forSquare: try SquareNotation.othelloGPT.square($0)) }
        let clean = try prefix.prefix(maxPositions: transformer.config.nCtx)
        let index = corruptAt ?? ActivationPatching.defaultCorruptionIndex(count: clean.count)
        guard clean.indices.contains(index) else { throw WorkbenchError("--corrupt-at \(index): the prefix has moves 0…\(clean.count - 1)") }
        guard pairs >= 1 else { throw WorkbenchError("--pairs must be at least 1, got \(pairs)") }
        if pairs > 1 { return try runAverage(transformer, kind: kind, moves: clean.count, index: index) }
        guard let corrupted = ActivationPatching.corrupt(clean, at: index) else {
            throw WorkbenchError("move \(index) of game \(prefix.game) has no alternative after which the rest of the prefix stays legal; choose another --corrupt-at")
        }
        try checkWritable(out)
        let token = try targetToken ?? ActivationPatching.defaultTarget(model: transformer, clean: clean, corrupted: corrupted)
        let result = try ActivationPatching.run(model: transformer, clean: clean, corrupted: corrupted, kind: kind, token: token, batchSize: model.batchSize)
        let targetLabel = SquareNotation.othelloGPT.label(Vocabulary.squareUnchecked(forToken: token))
        let columns = patchingColumns(clean: clean, corrupted: corrupted, at: index)
        try patchingFigure(result, clean: clean, corrupted: corrupted, at: index, hook: hook).write(to: URL(fileURLWithPath: out))
        if json {
            return try printJSON(PatchJSON(rows: result.rows, normalised: result.normalised, cleanLogit: result.clean, corruptedLogit: result.corrupted,
                                           target: targetLabel, corruptedMove: index, corruptedWith: SquareNotation.othelloGPT.label(corrupted[index])))
        }
        print(String(format: "move %d: %@ → %@; logit of %@: clean %.2f, corrupted %.2f", index, SquareNotation.othelloGPT.label(clean[index]),
                     SquareNotation.othelloGPT.label(corrupted[index]), targetLabel, result.clean, result.corrupted))
        let best = result.normalised.enumerated().flatMap { r, row in row.enumerated().map { (r, $0.offset, $0.element) } }.max { $0.2 < $1.2 }!
        print(String(format: "largest restoration: %@ at position %d (%@): %.2f", result.rows[best.0], best.1, columns[best.1], best.2))
        print("wrote \(out)")
    }

    /// `--pairs N`: the matrix averaged over N games.
    func runAverage(_ transformer: HookedTransformer, kind: HookPoint.Kind, moves: Int, index: Int) throws {
        guard target == nil else { throw WorkbenchError("--target takes one game; with --pairs each game is scored on its own most-lowered move") }
        let dataset = try GameDataset.read(from: URL(fileURLWithPath: prefix.games))
        let chosen = ActivationPatching.pairs(from: dataset, start: prefix.game, count: pairs, moves: moves, corruptAt: index)
        guard !chosen.isEmpty else { throw WorkbenchError("\(prefix.games): no game from \(prefix.game) on has \(moves) moves and an alternative at move \(index)") }
        try checkWritable(out)
        let bar = ProgressBar(total: chosen.count, label: "patching")
        let average = try ActivationPatching.average(model: transformer, pairs: chosen, kind: kind, batchSize: model.batchSize, progress: bar)
        bar.finish()
        try averagePatchingFigure(average, at: index, hook: hook).write(to: URL(fileURLWithPath: out))
        if json { return try printJSON(PatchAverageJSON(rows: average.rows, normalised: average.normalised, pairs: average.pairs, skipped: average.skipped, corruptedMove: index)) }
        print("move \(index) corrupted in \(average.pairs) games of \(prefix.games) (\(average.skipped) left out: the corruption barely moved their metric)")
        for (row, values) in zip(average.rows, average.normalised) {
            print(String(format: "  %@: at the corrupted move %.2f, at the last position %.2f", row, values[index], values[values.count - 1]))
        }
        print("wrote \(out)")
    }
}

/// `intervene patch --pairs N --json`.
struct PatchAverageJSON: Codable {
    var rows: [String]
    var normalised: [[Double]]
    var pairs, skipped, corruptedMove: Int
}

struct InterveneSaliencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "saliency",
        abstract: "Li et al.'s latent saliency: how much the top move's logit drops when each occupied square is flipped.",
        discussion: """
        Example:
          othello-gpt intervene saliency --games Games/synthetic-10k.npy --game 3 --moves 30 --hook blocks.4.hook_resid_post --out saliency.png
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var prefix: PrefixOptions
    @OptionGroup var intervention: InterventionOptions
    @OptionGroup var edit: EditOptions
    @Option(help: "Where to write the figure.") var out: String = "saliency.png"
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let transformer = try model.load()
        let plan = try edit.plan(config: transformer.config)
        let moves = try prefix.prefix(maxPositions: transformer.config.nCtx)
        try checkWritable(out)
        let probes = try intervention.probes(model: transformer, hooks: plan.hooks)
        let result = try LatentSaliency.run(model: transformer, moves: moves, probes: probes, plan: plan, batchSize: model.batchSize)
        try saliencyFigure(result, moves: moves, plan: plan).write(to: URL(fileURLWithPath: out))
        if json { return try printJSON(SaliencyJSON(topMove: SquareNotation.othelloGPT.label(result.topMove), drops: result.drops)) }
        print("top move \(SquareNotation.othelloGPT.label(result.topMove)); largest drops: " +
              result.drops.enumerated().compactMap { i, d in d.map { (i, $0) } }.sorted { $0.1 > $1.1 }.prefix(5)
              .map { String(format: "%@ %.2f", SquareNotation.othelloGPT.label($0.0), $0.1) }.joined(separator: ", "))
        print("wrote \(out)")
    }
}

struct InterveneAttentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "The attention pattern of one head on a game, as a matrix with move labels.",
        discussion: """
        Example:
          othello-gpt intervene attention --games Games/synthetic-10k.npy --game 3 --moves 30 --layer 2 --head 1 --out L2H1.png
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var prefix: PrefixOptions
    @Option(help: "Layer.") var layer: Int
    @Option(help: "Head.") var head: Int
    @Option(help: "Where to write the figure.") var out: String = "attention.png"

    func run() throws {
        let transformer = try model.load()
        let moves = try prefix.prefix(maxPositions: transformer.config.nCtx)
        try checkWritable(out)
        let pattern = try DirectLogitAttribution.pattern(model: transformer, moves: moves, layer: layer, head: head)
        try attentionFigure(pattern, moves: moves, layer: layer, head: head, title: "game \(prefix.game)").write(to: URL(fileURLWithPath: out))
        print("wrote \(out)")
    }
}

struct InterveneAttributionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attribution",
        abstract: "Direct logit attribution of every head and the top neurons at a position, as board heatmaps.",
        discussion: """
        Each head's output (hook_result) and each neuron's write (mlp.hook_post × W_out row) at the prefix's last \
        position, read through the unembedding (centred, divided by the cached ln_final scale): one board per head \
        (the 60 move logits it writes), and the --neurons neurons with the largest |attribution| to the model's top \
        move. Writes heads.png and neurons.png into --out.

        Example:
          othello-gpt intervene attribution --games Games/synthetic-10k.npy --game 3 --moves 30 --out attribution
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var prefix: PrefixOptions
    @Option(help: "Neurons shown.") var neurons: Int = 8
    @Option(help: "Output folder.") var out: String = "attribution"
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let transformer = try model.load()
        let moves = try prefix.prefix(maxPositions: transformer.config.nCtx)
        guard neurons >= 1 else { throw WorkbenchError("--neurons must be at least 1") }
        let folder = URL(fileURLWithPath: out)
        try createOutputFolder(folder)
        let result = try DirectLogitAttribution.run(model: transformer, moves: moves, neurons: neurons)
        try drawAttributionFigures(result, moves: moves, config: transformer.config, in: folder)
        let top = Vocabulary.squareUnchecked(forToken: result.token)
        if json { return try printJSON(result) }
        print("top move \(SquareNotation.othelloGPT.label(top)); top neurons: " +
              result.neurons.map { String(format: "L%dN%d %+.2f", $0.layer, $0.neuron, $0.attribution) }.joined(separator: ", "))
        print("wrote \(out)/heads.png, \(out)/neurons.png")
    }
}
