import Foundation
import OthelloRules
import WorkbenchSupport
import XCTest

final class GameDatasetTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("rules-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func testReadsTheNumPyFixture() throws {
        let games = try GameDataset.read(from: Self.fixtures.appendingPathComponent("numpy-games.npy"))
        XCTAssertEqual(games.count, 3)
        XCTAssertEqual(games.lengths, [9, 59, 60])
        XCTAssertEqual(games[0], [37, 29, 21, 45, 53, 20, 19, 18, 9])
        XCTAssertEqual(try GameReplay(moves: games[0]).finalPosition.board.count(.white), 0, "white is wiped out")
        XCTAssertEqual(games.tokens(ofGame: 0), [34, 28, 22, 42, 50, 21, 20, 19, 10])
        let text = try GameDataset.read(from: Self.fixtures.appendingPathComponent("numpy-games.txt"))
        XCTAssertEqual(text, games)
    }

    /// Windows line ends ("\r\n" is one Character in Swift) end lines too; found by the fuzz target's seeds.
    func testTextGamesWithWindowsLineEnds() throws {
        let games = try GameDataset.read(data: Data("E5 F5\tF4,F3\r\n\r\nE5\r\n".utf8), format: .txt, source: "crlf.txt")
        XCTAssertEqual(games.games, [[37, 45, 44, 43], [37]])
    }

    func testWritesWhatNumPyWrites() throws {
        let fixture = Self.fixtures.appendingPathComponent("numpy-games.npy")
        let games = try GameDataset.read(from: fixture)
        let npy = folder.appendingPathComponent("games.npy"), txt = folder.appendingPathComponent("games.txt")
        try games.write(to: npy)
        try games.write(to: txt)
        XCTAssertEqual(try Data(contentsOf: npy), try Data(contentsOf: fixture), "byte for byte what numpy.save wrote")
        XCTAssertEqual(try String(contentsOf: txt, encoding: .utf8),
                       try String(contentsOf: Self.fixtures.appendingPathComponent("numpy-games.txt"), encoding: .utf8))
        XCTAssertEqual(try GameDataset.read(from: txt), games)
    }

    func testTokenRowsArePaddedWithZero() throws {
        let games = try GameDataset.read(from: Self.fixtures.appendingPathComponent("numpy-games.npy"))
        var row = [Int32](repeating: -7, count: 12)
        row.withUnsafeMutableBufferPointer { games.writeTokens(ofGame: 0, into: $0) }
        XCTAssertEqual(row, [34, 28, 22, 42, 50, 21, 20, 19, 10, 0, 0, 0])
        var tokens = [Int](repeating: -7, count: 60)
        tokens.withUnsafeMutableBufferPointer { games.writeTokens(ofGame: 2, into: $0) }
        XCTAssertEqual(tokens, games.tokens(ofGame: 2))
    }

    func testIllegalMovesAreRejectedWithGameMoveAndSquare() {
        XCTAssertThrowsError(try GameDataset(games: [[37, 43], [37, 37]], source: "mine.txt")) { error in
            XCTAssertEqual("\(error)", "mine.txt: game 1, move 2: E5 (square 37, standard f5) is illegal for white (legal: D5 F3 F5)")
        }
        XCTAssertThrowsError(try GameDataset(games: [[37, 64]], source: "x")) { error in
            XCTAssertEqual("\(error)", "x: game 0, move 2: 64 is not a square (squares are 0...63)")
        }
        XCTAssertThrowsError(try GameDataset(games: [Array(repeating: 0, count: 61)], source: "x")) { error in
            XCTAssertTrue("\(error)".contains("game 0 has 61 moves"), "\(error)")
        }
    }

    func testNPYErrorsNameTheFileAndPlace() throws {
        func write(_ array: NPYArray) throws -> URL {
            let url = folder.appendingPathComponent("bad.npy")
            try array.write(to: url)
            return url
        }
        func message(_ url: URL) -> String {
            do { _ = try GameDataset.read(from: url); return "no error" } catch { return "\(error)" }
        }
        let wrongType = try write(NPYArray(shape: [1, 60], values: [Int64](repeating: -1, count: 60)))
        XCTAssertEqual(message(wrongType), "\(wrongType.path): expected dtype int8 (|i1), found <i8; convert with numpy: a.astype('int8')")
        let wrongShape = try write(NPYArray(shape: [2, 30], values: [Int8](repeating: -1, count: 60)))
        XCTAssertTrue(message(wrongShape).hasSuffix("expected shape [N, 60] (one game per row, -1 after its end), found [2, 30]"), message(wrongShape))
        var values = [Int8](repeating: -1, count: 120)
        values[60] = 37; values[61] = 99
        let outOfRange = try write(NPYArray(shape: [2, 60], values: values))
        XCTAssertEqual(message(outOfRange), "\(outOfRange.path): game 1, move 2: 99 is not a square (squares are 0...63, -1 pads after the end)")
        values[61] = -1; values[62] = 43
        let afterEnd = try write(NPYArray(shape: [2, 60], values: values))
        XCTAssertEqual(message(afterEnd), "\(afterEnd.path): game 1, move 3: square 43 after the padding (-1) that ends the game at move 2")
        values[62] = -1; values[61] = 0
        let illegal = try write(NPYArray(shape: [2, 60], values: values))
        XCTAssertTrue(message(illegal).hasPrefix("\(illegal.path): game 1, move 2: A0 (square 0, standard a1) is illegal for white"), message(illegal))
        try Data("not numpy".utf8).write(to: folder.appendingPathComponent("bad.npy"))
        XCTAssertTrue(message(folder.appendingPathComponent("bad.npy")).contains("not a NumPy .npy file"))
    }

    func testTextErrorsNameTheLine() throws {
        let url = folder.appendingPathComponent("bad.txt")
        try Data("E5 D5\n\nE5 Z9\n".utf8).write(to: url)
        XCTAssertThrowsError(try GameDataset.read(from: url)) { error in
            XCTAssertEqual("\(error)", "\(url.path): line 3 (game 1), move 2: 'Z9' is not a square label A0...H7 (row letter, column 0-7)")
        }
    }

    func testUnknownExtensions() {
        XCTAssertThrowsError(try GameDataset.read(from: URL(fileURLWithPath: "/tmp/games.csv"))) { error in
            XCTAssertEqual("\(error)", "/tmp/games.csv: cannot read games from a '.csv' file; use .npy, .txt, .wtb, .pgn")
        }
        XCTAssertThrowsError(try GameDataset(games: []).write(to: URL(fileURLWithPath: "/tmp/games.pgn"))) { error in
            XCTAssertEqual("\(error)", "/tmp/games.pgn: cannot write games to a '.pgn' file; use .npy, .txt")
        }
    }

    func testMissingFile() {
        for name in ["none.npy", "none.pgn", "none.wtb", "none.txt"] {
            XCTAssertThrowsError(try GameDataset.read(from: folder.appendingPathComponent(name))) { error in
                XCTAssertEqual("\(error)", "\(self.folder.appendingPathComponent(name).path): no such file; check the path")
            }
        }
    }
}
