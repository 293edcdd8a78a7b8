import Foundation
import OthelloRules
import XCTest

/// Malformed WTHOR and PGN input: one-line errors naming the file and the place.
final class GameFileErrorTests: XCTestCase {
    let wthor1977 = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/WTH_1977.wtb")

    private func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    func testTruncatedWTHOR() throws {
        let bytes = [UInt8](try Data(contentsOf: wthor1977))
        XCTAssertEqual(message { _ = try WTHORFile.parse(Array(bytes.prefix(100)), file: "t.wtb") },
                       "t.wtb: truncated WTHOR file: the header announces 12 games (832 bytes), the file has 100 bytes")
        XCTAssertEqual(message { _ = try WTHORFile.parse(Array(bytes.prefix(10)), file: "t.wtb") },
                       "t.wtb: truncated WTHOR file: 10 bytes, the header alone is 16")
        XCTAssertEqual(message { _ = try WTHORFile.parse(bytes + [0], file: "t.wtb") },
                       "t.wtb: malformed WTHOR file: the header announces 12 games (832 bytes), the file has 833 bytes")
    }

    func testBadMoveBytes() throws {
        var bytes = [UInt8](try Data(contentsOf: wthor1977))
        let game2move5 = 16 + 68 * 2 + 8 + 4
        bytes[game2move5] = 19   // row 1, column 9
        XCTAssertEqual(message { _ = try WTHORFile.parse(bytes, file: "b.wtb") },
                       "b.wtb: game 2, move 5: byte 19 is not a square (expected 10*row + col, row and col 1-8)")
        bytes[game2move5] = 0
        XCTAssertEqual(message { _ = try WTHORFile.parse(bytes, file: "b.wtb") },
                       "b.wtb: game 2, move 6: move byte \(bytes[game2move5 + 1]) after the end of the game (byte 0 at move 5)")
        bytes[12] = 10
        XCTAssertEqual(message { _ = try WTHORFile.parse(bytes, file: "b.wtb") },
                       "b.wtb: board size 10 in the header; only 8×8 games are supported")
    }

    func testIllegalMoveInAWTHORFile() throws {
        var bytes = [UInt8](try Data(contentsOf: wthor1977))
        bytes[16 + 68 * 3 + 8] = 11   // game 3 opens on a1
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("illegal-\(UUID().uuidString).wtb")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(bytes).write(to: url)
        XCTAssertEqual(message { _ = try GameDataset.read(from: url) },
                       "\(url.path): game 3, move 1: A0 (square 0, standard a1) is illegal for black (legal: C3 D2 E5 F4)")
    }

    func testPGNErrors() {
        let good = "[Event \"x\"]\n[Result \"33-31\"]\n1. F5 D6\n2. C3 D3\n"
        XCTAssertEqual(try PGNFile.parse(good, file: "g.pgn").map(\.moves), [[37, 43, 18, 19]])
        XCTAssertEqual(message { _ = try PGNFile.parse(good + "\n[Event \"y\"]\n1. F5 J9\n", file: "g.pgn") },
                       "g.pgn: line 7 (game 1, move 2): 'J9' is not a square in standard notation (column a-h, row 1-8, e.g. F5)")
        XCTAssertEqual(message { _ = try PGNFile.parse("[Event x]\n1. F5\n", file: "g.pgn") },
                       "g.pgn: line 1: malformed tag [Event x]; expected [Name \"value\"]")
        // Comments, move numbers with dots and a result token are skipped.
        let annotated = "[Event \"x\"]\n1. F5 {a good move} D6 2... C3 33-31\n"
        XCTAssertEqual(try PGNFile.parse(annotated, file: "a.pgn").map(\.moves), [[37, 43, 18]])
    }

    func testIllegalMoveInAPGNFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("illegal-\(UUID().uuidString).pgn")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data("[Event \"x\"]\n1. F5 D6\n\n[Event \"y\"]\n1. F5 F5\n".utf8).write(to: url)
        XCTAssertEqual(message { _ = try GameDataset.read(from: url) },
                       "\(url.path): game 1, move 2: E5 (square 37, standard f5) is illegal for white (legal: D5 F3 F5)")
    }
}
