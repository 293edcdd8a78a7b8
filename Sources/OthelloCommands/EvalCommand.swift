import ArgumentParser
import Foundation
import OthelloModel
import OthelloRules
import WorkbenchSupport

/// `othello-gpt eval`: the legal-move metric of Li et al. (2023).
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "The legal-move metric: how often the model's top-1 prediction is a legal move.",
        discussion: """
        For every game and every position at which the game goes on (59 at most), the model reads the moves so far \
        and its most likely next token is compared with the legal moves of the player to move (passes inferred). \
        The figure is the share of positions where it is legal — the metric of Li et al. (2023), who report an \
        error rate of about 0.01% for the synthetic-data Othello-GPT. Given an 8-layer d512 model, it also runs the \
        TransformerLens demo's game and says whether the predictions match the published synthetic_model.pth's \
        (a check of a download and its conversion).

        Example:
          othello-gpt eval --model othello_gpt.pth --games Games/synthetic-10k.npy \\
            --limit 1000
        """
    )

    @OptionGroup var options: ModelOptions

    @Option(help: ArgumentHelp("Games file (.npy int8 [N, 60], .txt, .wtb or .pgn).", valueName: "file"))
    var games: String

    @Option(help: "Use only the first N games.")
    var limit: Int?

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let model = try options.load()
        let input = try TokenizedGames(path: games, positions: model.config.nCtx, limit: limit)
        let progress = ProgressBar(total: input.count, label: "eval")
        let score = try LegalMoveMetric.evaluate(model, on: input.dataset, games: input.indices,
                                                 batchSize: options.batchSize, source: games, progress: progress)
        progress.finish()
        let legal = score.legal, total = score.positions, share = score.share
        // The published architecture (8 layers, d512): check the download against the TransformerLens demo's predictions.
        let check = PublishedModelCheck.applies(to: model.config) ? try PublishedModelCheck.run(model) : nil
        if json {
            return try printJSON(EvalJSON(games: input.count, positions: total, legal: legal, legalShare: share, errorRate: 1 - share,
                                          publishedCheck: check.map { .init(passed: $0.passed, matches: $0.matches, mismatches: $0.mismatches) }))
        }
        print(String(format: "top-1 prediction legal at %d of %d positions (%d games): %.3f%% (error rate %.3f%%)",
                     legal, total, input.count, 100 * share, 100 * (1 - share)))
        if let check { print("published-model check: \(check.summary)") }
    }
}

/// `eval --json`.
struct EvalJSON: Codable {
    struct Check: Codable {
        var passed: Bool
        var matches: Int
        var mismatches: [Int]
    }
    var games, positions, legal: Int
    var legalShare, errorRate: Double
    var publishedCheck: Check?
}
