import Foundation
import OthelloInterventions
import OthelloModel
import OthelloPlots
import OthelloRules

public func moveLabels(_ moves: [Int]) -> [String] { moves.map { SquareNotation.othelloGPT.label($0) } }

/// The patching matrix's column labels: the moves, the corrupted one as `clean/corrupted`.
public func patchingColumns(clean: [Int], corrupted: [Int], at index: Int) -> [String] {
    moveLabels(clean).enumerated().map { $0.offset == index ? "\($0.element)/\(SquareNotation.othelloGPT.label(corrupted[index]))" : $0.element }
}

/// The layer × position matrix of a patching result.
public func patchingFigure(_ result: ActivationPatching.Result, clean: [Int], corrupted: [Int], at index: Int, hook: String) -> MatrixHeatmap {
    let target = SquareNotation.othelloGPT.label(Vocabulary.squareUnchecked(forToken: result.token))
    return MatrixHeatmap(values: result.normalised.map { $0.map { Optional($0) } }, rowLabels: result.rows,
                         columnLabels: patchingColumns(clean: clean, corrupted: corrupted, at: index),
                         title: "Patching \(hook) clean → corrupted, metric: logit of \(target)", xLabel: "position (move)",
                         yLabel: hook == "z" ? "layer, head" : "layer", scale: .diverging(limit: 1, label: "normalised metric"))
}

/// The board of a latent-saliency result: per occupied square the drop of the top move's logit.
public func saliencyFigure(_ result: LatentSaliency.Result, moves: [Int], plan: EditPlan) throws -> BoardHeatmap {
    let board = try GameReplay(moves: moves).steps.last!.board
    let discs: [Disc?] = board.colours.map { $0 == .black ? .black : $0 == .white ? .white : nil }
    return BoardHeatmap(values: result.drops, discs: discs, marks: [BoardMark(result.topMove, .predicted), BoardMark(moves.last!, .played)],
                        cellText: .values(decimals: 1),
                        title: "Drop of the logit of \(SquareNotation.othelloGPT.label(result.topMove)) when each square is flipped (\(plan.label))",
                        scale: .diverging(label: "logit drop"))
}

/// One head's attention pattern on a prefix, with move labels.
public func attentionFigure(_ pattern: [[Double?]], moves: [Int], layer: Int, head: Int, title: String) -> MatrixHeatmap {
    let labels = moveLabels(moves)
    return MatrixHeatmap(values: pattern, rowLabels: labels, columnLabels: labels, title: "L\(layer)H\(head) attention, \(title)",
                         xLabel: "key (move attended to)", yLabel: "query (position)", scale: .probability)
}

/// heads.png (every head's direct logit attribution as a board) and neurons.png (the top neurons') into `folder`.
public func drawAttributionFigures(_ result: DirectLogitAttribution.Result, moves: [Int], config: ModelConfig, in folder: URL) throws {
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

/// The layer × position matrix of patching averaged over pairs corrupted at move `index`.
public func averagePatchingFigure(_ average: ActivationPatching.Average, at index: Int, hook: String) -> MatrixHeatmap {
    let positions = average.normalised.first?.count ?? 0
    return MatrixHeatmap(values: average.normalised.map { $0.map { Optional($0) } }, rowLabels: average.rows,
                         columnLabels: (0..<positions).map { $0 == index ? "\($0) (corrupted)" : "\($0)" },
                         title: "Patching \(hook) clean → corrupted, mean of \(average.pairs) games (move \(index) corrupted)",
                         xLabel: "position (move index)", yLabel: hook == "z" ? "layer, head" : "layer", scale: .diverging(limit: 1, label: "normalised metric"))
}
