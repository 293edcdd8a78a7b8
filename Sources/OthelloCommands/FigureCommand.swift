import ArgumentParser
import Foundation
import OthelloBenchmarks
import OthelloPlots
import OthelloRules
import WorkbenchSupport

/// `othello-gpt figure`: pictures of positions and results, as PNG files.
struct FigureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "figure",
        abstract: "Draw PNG figures: board positions, board heatmaps, plots.",
        discussion: """
        Figures are 8-bit RGB PNG files, written atomically. Text is set in DejaVu Sans (Debian package \
        fonts-dejavu-core; set OTHELLO_GPT_FONT_DIR to use another folder holding DejaVuSans.ttf).

        Squares are labelled A0..H7: row letter A-H from the top, column 0-7 from the left \
        (E5 = square 37).
        """,
        subcommands: [DrawBoard.self, Demo.self, Bench.self]
    )

    struct DrawBoard: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "board",
            abstract: "Draw the position after N moves of a game.",
            discussion: """
            Discs on green felt; the last move framed in amber; the legal moves of the side to move \
            dotted. Games and moves are numbered as in `othello-gpt games show`.

            Example:
              othello-gpt figure board --games Games/WTH_2025.wtb --moves 20 --out b.png
            """
        )

        @Option(help: "Game file: .npy, .txt, .wtb or .pgn.")
        var games: String

        @Option(help: "Game number, from 0.")
        var game: Int = 0

        @Option(help: "Moves played before the position: 0 is the start (default: the whole game).")
        var moves: Int?

        @Option(help: "Output PNG file.")
        var out: String

        @Option(help: "Title (default: the game, the number of moves and the side to move).")
        var title: String?

        @Option(help: "Side of one square in pixels, 8...400.")
        var cellSize: Int = 52

        @Flag(help: "Do not mark the legal moves.")
        var noLegalMoves = false

        func run() throws {
            let dataset = try GameDataset.read(from: URL(fileURLWithPath: games))
            guard (0..<dataset.count).contains(game) else {
                throw WorkbenchError("figure board: --game \(game) is out of range; \(games) has \(dataset.count) games, numbered 0...\(max(0, dataset.count - 1))")
            }
            let moveList = dataset[game]
            let played = moves ?? moveList.count
            guard (0...moveList.count).contains(played) else {
                throw WorkbenchError("figure board: --moves \(played) is out of range; game \(game) of \(games) has \(moveList.count) moves, use 0...\(moveList.count)")
            }
            let figure = try BoardHeatmap.position(ofGame: moveList, after: played, name: "Game \(game)", title: title,
                                                    marksLegalMoves: !noLegalMoves, cellSize: cellSize)
            try figure.write(to: URL(fileURLWithPath: out))
            print("wrote \(out)")
        }
    }

    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time drawing a grid of 64 boards, beside PNG-encoding the same image.",
            discussion: "Build with `swift build -c release` first: debug builds are many times slower."
        )

        @Option(help: "Timed repetitions (the median is reported).")
        var repeats: Int = 7

        func run() throws {
            guard (1...1000).contains(repeats) else { throw WorkbenchError("figure bench: --repeats \(repeats) is out of range; use 1...1000") }
            var random = SeededRandom(seed: 1)
            let boards = (0..<64).map { square in
                BoardHeatmap(values: (0..<64).map { _ in Double(random.nextGaussian()) }, title: SquareNotation.othelloGPT.label(square))
            }
            let grid = BoardGrid(boards: boards, columns: 8, title: "64 boards", scale: .diverging(label: "value"))
            var image = try grid.render()   // warm the glyph cache
            let render = try Timing.median(repeats) { image = try grid.render() }
            let encode = try Timing.median(repeats) { _ = try PNG.encode(image) }
            print(String(format: "board grid of 64 boards (%d×%d px): render %.1f ms, PNG encode (libpng, reference) %.1f ms, ratio %.2f",
                         image.width, image.height, render * 1000, encode * 1000, render / encode))
        }
    }

}
