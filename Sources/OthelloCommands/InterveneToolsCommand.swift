import ArgumentParser
import Foundation
import OthelloInterventions
import OthelloModel
import OthelloPlots
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

func moveLabels(_ moves: [Int]) -> [String] { moves.map { SquareNotation.othelloGPT.label($0) } }

/// The patching matrix's column labels: the moves, the corrupted one as `clean/corrupted`.
func patchingColumns(clean: [Int], corrupted: [Int], at index: Int) -> [String] {
    moveLabels(clean).enumerated().map { $0.offset == index ? "\($0.element)/\(SquareNotation.othelloGPT.label(corrupted[index]))" : $0.element }
}

/// The layer × position matrix of a patching result.
func patchingFigure(_ result: ActivationPatching.Result, clean: [Int], corrupted: [Int], at index: Int, hook: String) -> MatrixHeatmap {
    let target = SquareNotation.othelloGPT.label(Vocabulary.squareUnchecked(forToken: result.token))
    return MatrixHeatmap(values: result.normalised.map { $0.map { Optional($0) } }, rowLabels: result.rows,
                         columnLabels: patchingColumns(clean: clean, corrupted: corrupted, at: index),
                         title: "Patching \(hook) clean → corrupted, metric: logit of \(target)", xLabel: "position (move)",
                         yLabel: hook == "z" ? "layer, head" : "layer", scale: .diverging(limit: 1, label: "normalised metric"))
}

/// The board of a latent-saliency result: per occupied square the drop of the top move's logit.
func saliencyFigure(_ result: LatentSaliency.Result, moves: [Int], plan: EditPlan) throws -> BoardHeatmap {
    let board = try GameReplay(moves: moves).steps.last!.board
    let discs: [Disc?] = board.colours.map { $0 == .black ? .black : $0 == .white ? .white : nil }
    return BoardHeatmap(values: result.drops, discs: discs, marks: [BoardMark(result.topMove, .predicted), BoardMark(moves.last!, .played)],
                        cellText: .values(decimals: 1),
                        title: "Drop of the logit of \(SquareNotation.othelloGPT.label(result.topMove)) when each square is flipped (\(plan.label))",
                        scale: .diverging(label: "logit drop"))
}

/// One head's attention pattern on a prefix, with move labels.
func attentionFigure(_ pattern: [[Double?]], moves: [Int], layer: Int, head: Int, title: String) -> MatrixHeatmap {
    let labels = moveLabels(moves)
    return MatrixHeatmap(values: pattern, rowLabels: labels, columnLabels: labels, title: "L\(layer)H\(head) attention, \(title)",
                         xLabel: "key (move attended to)", yLabel: "query (position)", scale: .probability)
}

/// heads.png (every head's direct logit attribution as a board) and neurons.png (the top neurons') into `folder`.
func drawAttributionFigures(_ result: DirectLogitAttribution.Result, moves: [Int], config: ModelConfig, in folder: URL) throws {
    func board(_ logits: [Double]) -> [Double?] {
        var out = [Double?](repeating: nil, count: 64)
        for token in 1..<logits.count { out[Vocabulary.squareUnchecked(forToken: token)] = logits[token] }
        return out
    }
    let top = Vocabulary.squareUnchecked(forToken: result.token)
    let legal = try GameReplay(moves: moves).steps.last!.legalSquares.map { BoardMark($0, .legal) }
    try BoardGrid(boards: (0..<config.nLayers).flatMap { l in (0..<config.nHeads).map { h in
        BoardHeatmap(values: board(result.heads[l][h]), marks: legal, title: "L\(l)H\(h)") } },
                  columns: config.nHeads, title: "Direct logit attribution of each head, after \(moves.count) moves (dots: legal moves)",
                  scale: .diverging(label: "logit"), cellSize: 16)
        .write(to: folder.appendingPathComponent("heads.png"))
    try BoardGrid(boards: result.neurons.map { n in
        BoardHeatmap(values: board(n.logits), marks: [BoardMark(top, .predicted)], title: String(format: "L%dN%d (%+.2f)", n.layer, n.neuron, n.attribution)) },
                  columns: min(4, result.neurons.count), title: "Top neurons by attribution to \(SquareNotation.othelloGPT.label(top))",
                  scale: .diverging(label: "logit"), cellSize: 20)
        .write(to: folder.appendingPathComponent("neurons.png"))
}

/// The patching metric's default move: of the moves legal after the clean prefix, the one whose last-position
/// logit the corruption lowers most.
func defaultPatchTarget(model: HookedTransformer, clean: [Int], corrupted: [Int]) throws -> Int {
    let V = model.config.dVocab, T = clean.count
    let a = try model.logits(tokens: clean.map { Int32(Vocabulary.tokenUnchecked(forSquare: $0)) }, games: 1, positions: T).values
    let b = try model.logits(tokens: corrupted.map { Int32(Vocabulary.tokenUnchecked(forSquare: $0)) }, games: 1, positions: T).values
    let legal = try GameReplay(moves: clean).steps.last!.legalSquares.map(Vocabulary.tokenUnchecked(forSquare:))
    guard let best = legal.max(by: { a[(T - 1) * V + $0] - b[(T - 1) * V + $0] < a[(T - 1) * V + $1] - b[(T - 1) * V + $1] }) else {
        throw WorkbenchError("the clean game is over after the prefix; choose fewer --moves")
    }
    return best
}

struct IntervenePatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patch",
        abstract: "Activation patching: a clean and a corrupted game that differ in one move, layer × position.",
        discussion: """
        The corrupted game replaces move --corrupt-at (default the last) of the prefix by another legal move after \
        which the rest stays legal. Each (layer[, head], position) of --hook (resid_pre, attn_out, mlp_out, or z \
        per head) is copied from the clean run into the corrupted run; the metric is the logit of --target at the \
        last position (default: the move legal in the clean game whose logit the corruption lowers most), \
        normalised to 0 (corrupted) … 1 (clean). Writes a layer × position matrix figure and, with --json, the values.

        Example:
          othello-gpt intervene patch --games Games/synthetic-10k.npy --game 3 --moves 30 --hook resid_pre --out patch.png
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var prefix: PrefixOptions
    @Option(name: .customLong("corrupt-at"), help: "Which move to change (from 0; default the last).") var corruptAt: Int?
    @Option(help: "resid_pre, attn_out, mlp_out or z.") var hook: String = "resid_pre"
    @Option(help: "The move whose logit is the metric (label such as C3).") var target: String?
    @Option(help: "Where to write the figure.") var out: String = "patch.png"
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let transformer = try model.load()
        let kinds: [String: HookPoint.Kind] = ["resid_pre": .residPre, "attn_out": .attnOut, "mlp_out": .mlpOut, "z": .z]
        guard let kind = kinds[hook] else { throw WorkbenchError("--hook \(hook): choose resid_pre, attn_out, mlp_out or z") }
        let clean = try prefix.prefix(maxPositions: transformer.config.nCtx)
        let index = corruptAt ?? clean.count - 1
        guard clean.indices.contains(index) else { throw WorkbenchError("--corrupt-at \(index): the prefix has moves 0…\(clean.count - 1)") }
        guard let corrupted = ActivationPatching.corrupt(clean, at: index) else {
            throw WorkbenchError("move \(index) of game \(prefix.game) has no alternative after which the rest of the prefix stays legal; choose another --corrupt-at")
        }
        try checkWritable(out)
        let token = try target.map { try Vocabulary.token(forSquare: try SquareNotation.othelloGPT.square($0)) }
            ?? defaultPatchTarget(model: transformer, clean: clean, corrupted: corrupted)
        let result = try ActivationPatching.run(model: transformer, clean: clean, corrupted: corrupted, kind: kind, token: token, batchSize: model.batchSize)
        let targetLabel = SquareNotation.othelloGPT.label(Vocabulary.squareUnchecked(forToken: token))
        let columns = patchingColumns(clean: clean, corrupted: corrupted, at: index)
        try patchingFigure(result, clean: clean, corrupted: corrupted, at: index, hook: hook).write(to: URL(fileURLWithPath: out))
        if json {
            return try printJSON(["rows": result.rows, "normalised": result.normalised, "clean_logit": result.clean, "corrupted_logit": result.corrupted,
                                  "target": targetLabel, "corrupted_move": index, "corrupted_with": SquareNotation.othelloGPT.label(corrupted[index])])
        }
        print(String(format: "move %d: %@ → %@; logit of %@: clean %.2f, corrupted %.2f", index, SquareNotation.othelloGPT.label(clean[index]),
                     SquareNotation.othelloGPT.label(corrupted[index]), targetLabel, result.clean, result.corrupted))
        let best = result.normalised.enumerated().flatMap { r, row in row.enumerated().map { (r, $0.offset, $0.element) } }.max { $0.2 < $1.2 }!
        print(String(format: "largest restoration: %@ at position %d (%@): %.2f", result.rows[best.0], best.1, columns[best.1], best.2))
        print("wrote \(out)")
    }
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
        if json { return try printJSON(["top_move": SquareNotation.othelloGPT.label(result.topMove), "drops": result.drops.map { $0 as Any? ?? NSNull() }]) }
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
        if json {
            let data = try JSONEncoder().encode(result)
            return try printJSON(try JSONSerialization.jsonObject(with: data))
        }
        print("top move \(SquareNotation.othelloGPT.label(top)); top neurons: " +
              result.neurons.map { String(format: "L%dN%d %+.2f", $0.layer, $0.neuron, $0.attribution) }.joined(separator: ", "))
        print("wrote \(out)/heads.png, \(out)/neurons.png")
    }
}
