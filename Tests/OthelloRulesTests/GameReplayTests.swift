import Foundation
import OthelloRules
import XCTest

final class GameReplayTests: XCTestCase {
    func testProbeTargetsAfterTheFirstMove() throws {
        let game = try GameReplay(moves: [37])   // black f5
        let step = game.steps[0]
        XCTAssertEqual(step.player, .black)
        XCTAssertEqual(step.next, .white)
        XCTAssertEqual(step.perspective, .white)
        XCTAssertEqual(step.flippedSquares, [36])
        XCTAssertEqual(step.legalSquares, [29, 43, 45])
        XCTAssertEqual(step.colours[37], .black)
        XCTAssertEqual(step.colours[27], .white)
        XCTAssertEqual(step.colours[0], .empty)
        // Mine/theirs relative to the player who moves next (white).
        XCTAssertEqual(step.relativeColours[37], .theirs)
        XCTAssertEqual(step.relativeColours[27], .mine)
        XCTAssertEqual(step.relativeColours[0], .empty)
        XCTAssertEqual(step.relativeColours.filter { $0 == .theirs }.count, 4)
    }

    func testPerspectiveAlternatesWithoutPasses() throws {
        let game = try GameReplay(moves: [37, 43, 34])   // f5 d6 c5
        XCTAssertEqual(game.steps.map(\.perspective), [.white, .black, .white])
        XCTAssertEqual(game.steps[1].relativeColours[43], .theirs, "white's d6, black to move")
        XCTAssertEqual(game.steps[2].board.count(.black), 5)
        XCTAssertFalse(game.isComplete)
    }

    func testPassIsInferred() throws {
        // WTH_2025 game 0: after move 58 black has no move, so white plays moves 58 and 59.
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Games/WTH_2025.wtb")
        let moves = try WTHORFile.read(from: url).games[0].moves
        let game = try GameReplay(moves: moves)
        XCTAssertEqual(game.steps[57].player, .white)
        XCTAssertEqual(game.steps[57].next, .white, "black passes")
        XCTAssertEqual(game.steps[57].perspective, .white)
        XCTAssertEqual(game.steps[57].board.legalMoves(.black), 0)
        XCTAssertEqual(game.steps[58].player, .white)
        XCTAssertTrue(game.isComplete)
        XCTAssertNil(game.steps.last?.next)
        XCTAssertEqual(game.steps.last?.legalMoves, 0)
        XCTAssertEqual(game.steps.last?.perspective, game.steps.last?.player.opponent)
    }

    func testEveryStepIsConsistent() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/WTH_1977.wtb")
        for record in try WTHORFile.read(from: url).games {
            let game = try GameReplay(moves: record.moves)
            var previous = Board.start
            for step in game.steps {
                let mover = step.board.discs(step.player), other = step.board.discs(step.player.opponent)
                XCTAssertEqual(step.flipped & previous.discs(step.player.opponent), step.flipped, "flips were the opponent's")
                XCTAssertEqual(step.flipped & mover, step.flipped, "and are now the mover's")
                XCTAssertEqual(mover.nonzeroBitCount, previous.count(step.player) + step.flipped.nonzeroBitCount + 1)
                XCTAssertEqual(other.nonzeroBitCount, previous.count(step.player.opponent) - step.flipped.nonzeroBitCount)
                XCTAssertEqual(step.legalMoves, step.next.map { step.board.legalMoves($0) } ?? 0)
                previous = step.board
            }
        }
    }

    func testErrors() {
        XCTAssertThrowsError(try GameReplay(moves: [37, 0], source: "g")) { error in
            XCTAssertEqual("\(error)", "g, move 2: A0 (square 0, standard a1) is illegal for white (legal: D5 F3 F5)")
        }
        XCTAssertThrowsError(try GameReplay(moves: [-1], source: "g")) { error in
            XCTAssertEqual("\(error)", "g, move 1: -1 is not a square (squares are 0...63)")
        }
        // The 9-move wipe-out of the NumPy fixture, then one more move.
        XCTAssertThrowsError(try GameReplay(moves: [37, 29, 21, 45, 53, 20, 19, 18, 9, 0], source: "g")) { error in
            XCTAssertEqual("\(error)", "g, move 10: A0 (square 0, standard a1) comes after the end of the game (neither side can move after move 9)")
        }
    }
}
