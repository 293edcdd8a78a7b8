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
        error rate of about 0.01% for the synthetic-data Othello-GPT.

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
        let positions = model.config.nCtx
        let vocabulary = model.config.dVocab
        let input = try TokenizedGames(path: games, positions: positions, limit: limit)
        let arena = ActivationArena(config: model.config, maxBatch: min(options.batchSize, input.count), mode: .inference)
        let progress = ProgressBar(total: input.count, label: "eval")
        var legal = 0, total = 0
        var start = 0
        while start < input.count {
            let batch = min(options.batchSize, input.count - start)
            var run = options.runOptions(progress: nil)
            run.arena = arena
            let logits = try model.logits(tokens: Array(input.tokens[(start * positions)..<((start + batch) * positions)]),
                                          games: batch, positions: positions, options: run)
            for game in 0..<batch {
                let replay = try GameReplay(moves: input.moves(start + game), source: "\(games), game \(input.indices[start + game])")
                // steps[i] follows move i: the model has read moves 0…i and predicts a move of the player to move.
                for (position, step) in replay.steps.prefix(positions).enumerated() where step.legalMoves != 0 {
                    let row = logits.values[((game * positions + position) * vocabulary)..<((game * positions + position + 1) * vocabulary)]
                    let best = row.indices.max { row[$0] < row[$1] }! - row.startIndex
                    total += 1
                    if best != Vocabulary.padding, step.legalMoves & (1 << UInt64(Vocabulary.squareUnchecked(forToken: best))) != 0 {
                        legal += 1
                    }
                }
            }
            start += batch
            progress.advance(by: batch, status: String(format: "legal %.2f%%", 100 * Double(legal) / Double(max(total, 1))))
        }
        progress.finish()
        let share = Double(legal) / Double(max(total, 1))
        if json {
            return try printJSON(["games": input.count, "positions": total, "legal": legal, "legal_share": share, "error_rate": 1 - share])
        }
        print(String(format: "top-1 prediction legal at %d of %d positions (%d games): %.3f%% (error rate %.3f%%)",
                     legal, total, input.count, 100 * share, 100 * (1 - share)))
    }
}
