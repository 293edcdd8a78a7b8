import Foundation
import OthelloModel
import OthelloPlots
import OthelloRules
import OthelloTraining

/// The figures of a training run (`train figure`): loss and legal-move error against games seen, and, with the
/// run's milestones, its world model (probe accuracies) and how well its board can be edited.
public enum TrainingFigures {
    /// The panels, row by row: the log's loss (beside the uniform-over-legal-moves optimum of random play with
    /// `uniformReference`) and legal-move error; the milestones' accuracies and edit errors when given.
    public static func panels(log entries: [TrainingRun.LogEntry], milestones: [TrainingMilestone]?, title: String?, uniformReference: Bool) throws -> [[Bitmap]] {
        let games = entries.map { Double($0.games) / 1000 }
        var lossSeries = [LineSeries("training loss", x: games, y: entries.map(\.loss), markers: entries.count < 30)]
        if uniformReference {
            let optimum = try EvaluationSet(RandomGames.generate(count: 4096, seed: 0)).uniformLegalMoveLoss
            lossSeries.append(LineSeries(String(format: "uniform over legal moves (%.3f)", optimum),
                                         x: [games[0], games[games.count - 1]], y: [optimum, optimum], dashed: true))
        }
        let loss = LinePlot(series: lossSeries, title: title.map { "\($0): loss" } ?? "Training loss",
                            xLabel: "games seen (thousands)", yLabel: "cross-entropy (nats)")
        let errors = entries.map { max(100 * (1 - $0.legalTop1), 0.01) }
        let error = LinePlot(series: [LineSeries("held-out games", x: games, y: errors, markers: entries.count < 30)],
                             title: title.map { "\($0): legal-move error" } ?? "Legal-move top-1 error",
                             xLabel: "games seen (thousands)", yLabel: "top-1 prediction illegal (%)", logY: true)
        var rows = [[try loss.render(), try error.render()]]
        if let milestones, !milestones.isEmpty {
            rows.append(try milestonePanels(milestones, gamesUpTo: games[games.count - 1], title: title))
        }
        return rows
    }

    /// The world-model panels: probe accuracies and legal top-1 (%), and the edit errors, against games seen
    /// (thousands, from 0 to `gamesUpTo` or the last milestone, like the log's panels above).
    static func milestonePanels(_ milestones: [TrainingMilestone], gamesUpTo: Double, title: String?) throws -> [Bitmap] {
        let games = milestones.map { Double($0.games) / 1000 }
        let xLimits = 0...max(gamesUpTo, games[games.count - 1])
        func percent(_ value: (TrainingMilestone) -> Double) -> [Double] { milestones.map { 100 * value($0) } }
        let accuracy = LinePlot(series: [
            LineSeries("legal top-1", x: games, y: percent(\.legalTop1), markers: true),
            LineSeries("linear mine/theirs (best layer)", x: games, y: percent(\.bestLinearRelative.accuracy), markers: true),
            LineSeries("MLP colour (best layer)", x: games, y: percent(\.bestMlpColour.accuracy), markers: true),
            LineSeries("linear colour (best layer)", x: games, y: percent(\.bestLinearColour), markers: true),
        ], title: title.map { "\($0): world model" } ?? "World model", xLabel: "games seen (thousands)",
           yLabel: "accuracy (%)", xLimits: xLimits)
        let edits = LinePlot(series: [
            LineSeries("null edit", x: games, y: milestones.map(\.nullError), dashed: true, markers: true),
            LineSeries("best single-hook probe-direction edit", x: games, y: milestones.map(\.bestSingleDirectionEdit.error), markers: true),
        ], title: title.map { "\($0): editing the board" } ?? "Editing the board", xLabel: "games seen (thousands)",
           yLabel: "top-N error vs the edited board", xLimits: xLimits)
        return [try accuracy.render(), try edits.render()]
    }
}
