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
        let rows = try TrainingFigures.panels(log: entries, milestones: try milestones.map { try TrainingMilestone.read(URL(fileURLWithPath: $0)) },
                                              title: title, uniformReference: !noReference)
        let image = try Bitmap.tiled(rows)
        try PNG.write(image, to: URL(fileURLWithPath: out))
        let last = entries[entries.count - 1]
        print(String(format: "wrote %@: %d log lines up to %d games; last loss %.4f, legal top-1 %.2f%%",
                     out, entries.count, last.games, last.loss, 100 * last.legalTop1))
    }
}
