import Foundation
@testable import OthelloCommands
import OthelloPlots
import OthelloRules
import WorkbenchSupport
import XCTest

/// The `figure` commands as the command line runs them.
final class FigureCommandTests: CommandTestCase {
    /// Two games in Othello-GPT labels: f5 d6 c5 and f5 f6 e6 f4 in standard notation.
    private func writeGames() throws -> String {
        try Data("E5 F3 E2\nE5 F5 F4 D5\n".utf8).write(to: folder.appendingPathComponent("games.txt"))
        return path("games.txt")
    }

    func testBoardDrawsThePositionWithItsLastMoveAndLegalMoves() throws {
        let games = try writeGames()
        XCTAssertNil(try errorMessage(["figure", "board", "--games", games, "--game", "0", "--moves", "3", "--out", path("b.png")]))
        let image = try PNG.read(from: folder.appendingPathComponent("b.png"))
        let figure = try BoardHeatmap.position(ofGame: [37, 43, 34], after: 3, name: "Game 0", title: nil, marksLegalMoves: true)
        XCTAssertEqual(image.width, try figure.render().width)
        XCTAssertEqual(figure.title, "Game 0 after 3 moves: white to move")
        XCTAssertEqual(figure.discs, Disc.discs(of: try GameReplay(moves: [37, 43, 34]).steps[2].board))
        XCTAssertEqual(figure.marks.first, BoardMark(34, .played))
        let legal = try GameReplay(moves: [37, 43, 34]).steps[2].legalSquares
        XCTAssertEqual(figure.marks.dropFirst().map(\.square), legal)
        XCTAssertEqual(figure.markLabels[.played], "last move (E2, black)")

        // The start position, and the whole game by default.
        XCTAssertNil(try errorMessage(["figure", "board", "--games", games, "--moves", "0", "--out", path("start.png")]))
        XCTAssertNil(try errorMessage(["figure", "board", "--games", games, "--game", "1", "--no-legal-moves", "--out", path("end.png")]))
    }

    func testBoardRejectsBadArguments() throws {
        let games = try writeGames()
        XCTAssertEqual(try errorMessage(["figure", "board", "--games", games, "--game", "2", "--out", path("b.png")]),
                       "figure board: --game 2 is out of range; \(games) has 2 games, numbered 0...1")
        XCTAssertEqual(try errorMessage(["figure", "board", "--games", games, "--moves", "4", "--out", path("b.png")]),
                       "figure board: --moves 4 is out of range; game 0 of \(games) has 3 moves, use 0...3")
        XCTAssertNotNil(try errorMessage(["figure", "board", "--games", games, "--out", path("missing/b.png")]))
        XCTAssertNotNil(try errorMessage(["figure", "board", "--games", path("none.npy"), "--out", path("b.png")]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["games.txt"])
    }

    func testDemoWritesEveryFigureKind() throws {
        XCTAssertNil(try errorMessage(["figure", "demo", "--out-dir", path("figures"), "--games", "60"]))
        let names = try FileManager.default.contentsOfDirectory(atPath: path("figures")).sorted()
        XCTAssertEqual(names, ["board-grid.png", "board-heatmap.png", "board-position.png", "line-plot.png", "matrix-heatmap.png"])
        for name in names {
            let image = try PNG.read(from: folder.appendingPathComponent("figures/\(name)"))
            XCTAssertGreaterThan(image.width, 300, name)
        }
        XCTAssertEqual(try errorMessage(["figure", "demo", "--games", "0"]), "figure demo: --games 0 is out of range; use 1...1000000")
    }
}
