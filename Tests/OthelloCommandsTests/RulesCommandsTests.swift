import CBaselineOthello
import Foundation
@testable import OthelloCommands
import OthelloRules
import WorkbenchSupport
import XCTest

/// The rules commands (`perft`, `games`, `bench games`) as the command line runs them: bad input gives a
/// one-line WorkbenchError and leaves no output file behind.
final class RulesCommandsTests: CommandTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    func testPerftDepthOutOfRange() throws {
        XCTAssertEqual(try errorMessage(["perft", "0"]), "perft: depth 0 is out of range; use 1...20")
        XCTAssertEqual(try errorMessage(["perft", "21"]), "perft: depth 21 is out of range; use 1...20")
        XCTAssertNil(try errorMessage(["perft", "4", "--json"]))
    }

    func testGenerateWritesTheSeededGames() throws {
        XCTAssertNil(try errorMessage(["games", "generate", "--count", "300", "--seed", "4", "--threads", "2", "--out", path("g.npy")]))
        XCTAssertNil(try errorMessage(["games", "generate", "--count", "300", "--seed", "4", "--threads", "1", "--out", path("g.txt")]))
        let npy = try GameDataset.read(from: folder.appendingPathComponent("g.npy"))
        XCTAssertEqual(npy, RandomGames.generate(count: 300, seed: 4))
        XCTAssertEqual(try GameDataset.read(from: folder.appendingPathComponent("g.txt")), npy)
        XCTAssertNil(try errorMessage(["games", "generate", "--count", "50", "--full-length", "--out", path("f.npy")]))
        XCTAssertEqual(Set(try GameDataset.read(from: folder.appendingPathComponent("f.npy")).lengths), [60])
    }

    func testGenerateRejectsBadArguments() throws {
        XCTAssertEqual(try errorMessage(["games", "generate", "--count", "10", "--out", path("g.csv")]),
                       "\(path("g.csv")): cannot write games to a '.csv' file; use .npy, .txt")
        XCTAssertEqual(try errorMessage(["games", "generate", "--count", "0", "--out", path("g.npy")]),
                       "games generate: --count 0 is out of range; use 1...100000000")
        XCTAssertEqual(try errorMessage(["games", "generate", "--count", "10", "--out", path("missing/g.npy")]),
                       "\(path("missing/g.npy")): the folder \(path("missing")) does not exist; create it first")
        XCTAssertEqual(leftovers, [])
    }

    func testImportConvertsWTHORAndPGN() throws {
        let wtb = Self.root.appendingPathComponent("Games/WTH_2025.wtb").path
        let pgn = Self.root.appendingPathComponent("Games/WTH_2025.pgn").path
        XCTAssertNil(try errorMessage(["games", "import", wtb, "--out", path("w.npy")]))
        XCTAssertNil(try errorMessage(["games", "import", pgn, "--out", path("p.txt")]))
        let fromWTHOR = try GameDataset.read(from: folder.appendingPathComponent("w.npy"))
        XCTAssertEqual(fromWTHOR.count, 2010)
        XCTAssertEqual(try GameDataset.read(from: folder.appendingPathComponent("p.txt")), fromWTHOR)
    }

    func testImportOfBadInputLeavesNoOutput() throws {
        let bytes = try Data(contentsOf: Self.root.appendingPathComponent("Games/WTH_2025.wtb"))
        try bytes.prefix(1000).write(to: folder.appendingPathComponent("cut.wtb"))
        XCTAssertEqual(try errorMessage(["games", "import", path("cut.wtb"), "--out", path("out.npy")]),
                       "\(path("cut.wtb")): truncated WTHOR file: the header announces 2010 games (136696 bytes), the file has 1000 bytes")
        try Data("[Event \"x\"]\n1. F5 D6 C3 Q3\n".utf8).write(to: folder.appendingPathComponent("bad.pgn"))
        XCTAssertEqual(try errorMessage(["games", "import", path("bad.pgn"), "--out", path("out.npy")]),
                       "\(path("bad.pgn")): line 2 (game 0, move 4): 'Q3' is not a square in standard notation (column a-h, row 1-8, e.g. F5)")
        try NPYArray(shape: [1, 60], values: [Float](repeating: 0, count: 60)).write(to: folder.appendingPathComponent("f.npy"))
        XCTAssertEqual(try errorMessage(["games", "import", path("f.npy"), "--out", path("out.txt")]),
                       "\(path("f.npy")): expected dtype int8 (|i1), found <f4; convert with numpy: a.astype('int8')")
        XCTAssertEqual(Set(leftovers), ["cut.wtb", "bad.pgn", "f.npy"], "no output, no temporary file")
    }

    func testShow() throws {
        let pgn = Self.root.appendingPathComponent("Games/WTH_2025.pgn").path
        var show = try XCTUnwrap(try OthelloGPTCommand.parseAsRoot(["games", "show", pgn, "--game", "0"]) as? GamesCommand.Show)
        let (report, board) = try GameListing.read(file: show.file, game: show.game)
        XCTAssertEqual(report.games, 2010)
        XCTAssertEqual(report.moves.count, 59)
        XCTAssertEqual(report.moves[0].standard, "f5")
        XCTAssertEqual(report.moves[0].label, "E5")
        XCTAssertEqual(report.moves.filter(\.afterPass).map(\.number), [59])
        XCTAssertEqual(report.tags["Black"], "Ogura Ryutaro")
        XCTAssertEqual([report.black, report.white], [31, 33])
        XCTAssertEqual(report.recordedBlack, 31)
        XCTAssertEqual(board.count(.black), 31)
        XCTAssertNil(try errorMessage(["games", "show", pgn, "--game", "3", "--json"]))
        show.game = 2010
        XCTAssertThrowsError(try GameListing.read(file: show.file, game: show.game)) { error in
            XCTAssertEqual("\(error)", "\(pgn): no game 2010; the file has 2010 games, numbered from 0")
        }
    }

    func testBenchArgumentsParse() throws {
        XCTAssertTrue(try OthelloGPTCommand.parseAsRoot(["bench", "games", "--threads", "2", "--json"]) is BenchGames)
    }

    /// The bench's reference engine counts and plays like the workbench (so the bench compares like with like).
    func testCBaselineAgreesWithTheWorkbench() throws {
        let start = Board.start
        XCTAssertEqual(cbo_perft(start.black, start.white, 8), 390_216)
        var squares = [Int8](repeating: 0, count: 200 * 60)
        _ = cbo_random_games(3, 0, 200, &squares)
        let games = try GameDataset(squares: squares, source: "C games")
        for index in 0..<games.count {
            XCTAssertTrue(try GameReplay(moves: games[index]).isComplete)
        }
    }
}
