import ArgumentParser
import Foundation
import OthelloRules
import WorkbenchSupport

/// `othello-gpt games`: make, convert and look at game datasets.
struct GamesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "games",
        abstract: "Generate synthetic games, import championship games, show a game.",
        discussion: """
        Game files, by extension:
          .npy  NumPy int8 [N, 60]: squares 0-63 (8*row + col), -1 after the end
          .txt  one game per line, Othello-GPT labels A0..H7 separated by spaces
          .wtb  WTHOR database (read only)
          .pgn  PGN, standard notation F5 = column f, row 5 = square 37 (read only)
        Every move of every game is checked when a file is read. Games are numbered from 0, moves from 1.
        """,
        subcommands: [Generate.self, Import.self, Show.self]
    )

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate random legal games (Li et al.'s synthetic dataset).",
            discussion: """
            From the start, the side to move picks uniformly among its legal moves until neither side can \
            move. Passes are not written, so games may end before 60 moves; --full-length keeps only games \
            of 60 moves (the TransformerLens dataset) by drawing again. The same --seed gives the same \
            games whatever --threads.

            Example:
              othello-gpt games generate --count 10000 --full-length --out games.npy
            """
        )

        @Option(help: "Number of games.")
        var count: Int

        @Option(help: "Random seed: the same seed gives the same games.")
        var seed: UInt64 = 1

        @Option(help: "Output file, .npy or .txt.")
        var out: String

        @Flag(help: "Keep only games that run to 60 moves.")
        var fullLength = false

        @Option(name: .customLong("threads"), help: "Threads (default: all cores); the games do not depend on it.")
        var threadsOption: Int?
        var threads: Int { threadsOption ?? Parallel.coreCount }

        func run() throws {
            let url = URL(fileURLWithPath: out)
            _ = try GameFileFormat(url: url, forWriting: true)
            guard (1...100_000_000).contains(count) else {
                throw WorkbenchError("games generate: --count \(count) is out of range; use 1...100000000")
            }
            guard threads >= 1 else { throw WorkbenchError("games generate: --threads must be at least 1, got \(threads)") }
            let progress = ProgressBar(total: count, label: "games")
            let games = RandomGames.generate(count: count, seed: seed, fullLength: fullLength, threads: threads, progress: progress)
            progress.finish()
            try games.write(to: url)
            print("wrote \(RulesOutput.grouped(games.count)) games, \(Summary(games).text), to \(out)")
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Convert games (WTHOR .wtb, PGN, .npy, .txt) to a dataset file (.npy or .txt).",
            discussion: """
            Standard notation maps to squares with the letter as the column and the digit as the row, \
            without transposition: f5 is row 4, column 5, square 37 (Othello-GPT label E5).

            Example:
              othello-gpt games import Games/WTH_2025.wtb --out wthor-2025.npy
            """
        )

        @Argument(help: "The games to read (.wtb, .pgn, .npy, .txt).")
        var file: String

        @Option(help: "Output file, .npy or .txt.")
        var out: String

        func run() throws {
            let url = URL(fileURLWithPath: out)
            _ = try GameFileFormat(url: url, forWriting: true)
            let games = try GameDataset.read(from: URL(fileURLWithPath: file))
            try games.write(to: url)
            print("wrote \(RulesOutput.grouped(games.count)) games, \(Summary(games).text), to \(out)")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print one game: its moves, passes and final board.",
            discussion: """
            Moves are listed with their Othello-GPT label (row letter, column 0-7) and standard label \
            (column letter, row 1-8). Board: X black, O white.

            Example:
              othello-gpt games show Games/WTH_2025.pgn --game 0
            """
        )

        @Argument(help: "The game file (.wtb, .pgn, .npy, .txt).")
        var file: String

        @Option(help: "The game to show, numbered from 0.")
        var game: Int = 0

        @Flag(help: "Print the game as JSON.")
        var json = false

        func run() throws {
            let (report, board) = try GameListing.read(file: file, game: game)
            if json {
                print(try JSONOutput.string(report))
                return
            }
            print("\(file): game \(game) of \(report.games) (numbered from 0), \(report.moves.count) moves")
            for (name, value) in report.tags.sorted(by: { $0.key < $1.key }) { print("  \(name): \(value)") }
            var line = ""
            for move in report.moves {
                var text = "\(move.number). \(move.label)/\(move.standard)"
                if move.afterPass { text = "(\(move.player == "black" ? "white" : "black") passes) " + text }
                if line.count + text.count > 96 { print(line); line = "" }
                line += (line.isEmpty ? "" : "  ") + text
            }
            if !line.isEmpty { print(line) }
            print(board.ascii())
            let ending = report.complete ? "final score (empties to the winner)" : "not finished, \(report.next ?? "") to move; discs"
            let recorded = report.recordedBlack.map { ", recorded black \($0)" } ?? ""
            print("\(ending): black \(report.black), white \(report.white)\(recorded)")
        }
    }
}

/// Move counts of a dataset, for the summary lines.
private struct Summary {
    let text: String

    init(_ games: GameDataset) {
        let moves = games.lengths.reduce(0, +)
        let full = games.lengths.filter { $0 == GameDataset.maxLength }.count
        let mean = games.count > 0 ? Double(moves) / Double(games.count) : 0
        text = "\(RulesOutput.grouped(moves)) moves, mean length \(String(format: "%.2f", mean)), \(RulesOutput.grouped(full)) of 60 moves"
    }
}
