import ArgumentParser
import Foundation
import OthelloPlots
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
        """
    )

    @Argument(help: "A training log written by `othello-gpt train --log`.") var log: String
    @Option(help: "The PNG to write.") var out: String
    @Option(help: "A title over the figure.") var title: String?
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
        let image = try sideBySide(try loss.render(), try error.render())
        try PNG.write(image, to: URL(fileURLWithPath: out))
        let last = entries[entries.count - 1]
        print(String(format: "wrote %@: %d log lines up to %d games; last loss %.4f, legal top-1 %.2f%%",
                     out, entries.count, last.games, last.loss, 100 * last.legalTop1))
    }

    /// `left` and `right` next to each other on white, tops aligned.
    func sideBySide(_ left: Bitmap, _ right: Bitmap) throws -> Bitmap {
        var image = try Bitmap(width: left.width + right.width, height: max(left.height, right.height), channels: 3)
        for (bitmap, x0) in [(left, 0), (right, left.width)] {
            for y in 0..<bitmap.height {
                for x in 0..<bitmap.width {
                    let p = bitmap.pixel(x: x, y: y)
                    let offset = (y * image.width + x0 + x) * 3
                    (image.pixels[offset], image.pixels[offset + 1], image.pixels[offset + 2]) = (p.red, p.green, p.blue)
                }
            }
        }
        return image
    }
}
