import ArgumentParser
import Foundation
import OthelloPlots
import OthelloReports
import OthelloRules
import OthelloTraining
import WorkbenchSupport

/// `othello-gpt train figure`: the loss and legal-move error curves of a training log, as a PNG.
struct TrainFigureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "figure",
        abstract: "Draw a training log's loss and legal-move top-1 error against games seen (PNG).",
        discussion: """
        Two panels side by side: the training loss (nats, mean over the steps between log lines) with, \
        dashed, the loss of predicting uniformly among the legal moves — the best possible on Li et al.'s \
        random games (computed here on 4096 random games) — and the held-out legal-move top-1 error on a \
        log scale.

        With `--milestones FILE` (JSON Lines written by scripts/train-d256/milestone.sh: one `othello-gpt \
        study --quick` of a checkpoint per line), a second row shows the world model forming: legal top-1 \
        and the best linear mine/theirs, MLP colour and linear colour probes (%), and Li et al.'s error of \
        the null edit beside the best single-hook probe-direction edit, against games seen.
        """
    )

    @Argument(help: "A training log written by `othello-gpt train --log`.") var log: String
    @Option(help: "The PNG to write.") var out: String
    @Option(help: "A title over the figure.") var title: String?
    @Option(help: "Milestones of the run (JSON Lines: games, legal_top1, best_linear_relative, …) for a second row.") var milestones: String?
    @Flag(name: .customLong("no-reference"), help: "Leave out the random-play optimum (for runs on championship games).") var noReference = false

    func run() throws {
        let entries = try TrainingLog.read(URL(fileURLWithPath: log))
        guard !entries.isEmpty else { throw WorkbenchError("\(log): the training log is empty; train with --log first") }
        let games = entries.map { Double($0.games) / 1000 }
        var lossSeries = [LineSeries("training loss", x: games, y: entries.map(\.loss), markers: entries.count < 30)]
        if !noReference {
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
        if let milestones {
            rows.append(try milestonePanels(try TrainingMilestone.read(URL(fileURLWithPath: milestones)), gamesUpTo: games[games.count - 1]))
        }
        let image = try Bitmap.tiled(rows)
        try PNG.write(image, to: URL(fileURLWithPath: out))
        let last = entries[entries.count - 1]
        print(String(format: "wrote %@: %d log lines up to %d games; last loss %.4f, legal top-1 %.2f%%",
                     out, entries.count, last.games, last.loss, 100 * last.legalTop1))
    }
}

extension TrainFigureCommand {
    /// The world-model panels: probe accuracies and legal top-1 (%), and the edit errors, against games seen
    /// (thousands, from 0 to `gamesUpTo` or the last milestone, like the log's panels above).
    func milestonePanels(_ milestones: [TrainingMilestone], gamesUpTo: Double) throws -> [Bitmap] {
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
