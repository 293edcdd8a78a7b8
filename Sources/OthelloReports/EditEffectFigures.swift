import Foundation
import OthelloInterventions
import OthelloModel
import OthelloPlots
import OthelloRules

/// The figures of what an edit changes downstream (`intervene show`, the study's effect step).
public enum EditEffectFigures {
    /// components.png and readings.png, and for a single case boards.png, into `folder`.
    public static func draw(_ effect: EditEffect, study: InterventionStudy, plan: EditPlan, in folder: URL) throws {
        let config = study.model.config
        let columns = ["attn"] + (0..<config.nHeads).map { "H\($0)" } + ["mlp"]
        let values: [[Double?]] = (0..<config.nLayers).map { l in [effect.attention[l]] + effect.heads[l] + [effect.mlp[l]] }
        try MatrixHeatmap(values: values, rowLabels: (0..<config.nLayers).map { "L\($0)" }, columnLabels: columns,
                          title: "Logit attribution of the edit's change (made legal − made illegal)", xLabel: "component", yLabel: "layer",
                          scale: .diverging(label: "logit"), cellText: .values(decimals: 2))
            .write(to: folder.appendingPathComponent("components.png"))
        // The layers whose resid_post probe read the edited state before and after.
        let readings = (0..<config.nLayers).compactMap { l -> (layer: Int, before: Double, after: Double)? in
            let name = HookPoint(.residPost, layer: l).name
            guard let before = effect.readingBefore[name], let after = effect.readingAfter[name] else { return nil }
            return (l, before, after)
        }
        if !readings.isEmpty {
            let x = readings.map { Double($0.layer) }
            try LinePlot(series: [LineSeries("before the edit", x: x, y: readings.map(\.before), markers: true),
                                  LineSeries("after the edit", x: x, y: readings.map(\.after), markers: true)],
                         title: "Probe's probability of the edited state, by layer", xLabel: "layer (resid_post)", yLabel: "probability",
                         yLimits: 0...1)
                .write(to: folder.appendingPathComponent("readings.png"))
        }
        guard study.cases.count == 1, let c = study.cases.first else { return }
        func squares(_ probabilities: [Float]) -> [Double?] {
            var out = [Double?](repeating: nil, count: 64)
            for token in 1..<probabilities.count { out[Vocabulary.squareUnchecked(forToken: token)] = Double(probabilities[token]) }
            return out
        }
        func discs(_ board: Board) -> [Disc?] { board.colours.map { $0 == .black ? .black : $0 == .white ? .white : nil } }
        let before = try study.probabilities(plan: nil)[0], after = try study.probabilities(plan: plan)[0]
        let marks = [BoardMark(c.square, .edited)] + Bitboard.squares(c.legalAfter).map { BoardMark($0, .legal) }
        try BoardGrid(boards: [
            BoardHeatmap(values: squares(before), discs: discs(c.steps[c.position].board), marks: marks, title: "before the edit"),
            BoardHeatmap(values: squares(after), discs: discs(c.editedBoard(at: c.position)), marks: marks, title: "after: \(plan.label)"),
        ], columns: 2, title: "Next-move probabilities, \(c.player) to move; dots: legal moves of the edited board",
           scale: .probability, cellSize: 40, markLabels: [.legal: "legal after the edit", .edited: "edited square"])
            .write(to: folder.appendingPathComponent("boards.png"))
    }
}
