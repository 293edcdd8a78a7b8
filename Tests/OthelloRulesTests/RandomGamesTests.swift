import Foundation
import OthelloRules
import WorkbenchSupport
import XCTest

final class RandomGamesTests: XCTestCase {
    func testSameSeedSameGamesWhateverTheThreads() throws {
        let one = RandomGames.generate(count: 5000, seed: 7, threads: 1)
        let three = RandomGames.generate(count: 5000, seed: 7, threads: 3)
        XCTAssertEqual(one, three)
        XCTAssertNotEqual(one, RandomGames.generate(count: 5000, seed: 8, threads: 1))
        // Game i depends on the seed and i only, not on the number of games.
        XCTAssertEqual(RandomGames.generate(count: 10, seed: 7).games, Array(one.games.prefix(10)))
    }

    func testGamesAreLegalAndComplete() throws {
        let games = RandomGames.generate(count: 3000, seed: 3)
        _ = try GameDataset(squares: games.squares)   // replays every move
        for index in 0..<games.count {
            XCTAssertTrue(try GameReplay(moves: games[index]).isComplete, "game \(index) ends where neither side can move")
        }
        XCTAssertLessThan(games.lengths.filter { $0 == 60 }.count, games.count, "some games end early at this size")
    }

    func testFullLengthKeepsOnlySixtyMoveGames() throws {
        let games = RandomGames.generate(count: 3000, seed: 3, fullLength: true)
        XCTAssertEqual(Set(games.lengths), [60])
        _ = try GameDataset(squares: games.squares)
    }

    func testMovesAreUniformAmongLegalMoves() {
        // The first move is one of four, each with probability 1/4; the reply to f5 one of three.
        let games = RandomGames.generate(count: 20000, seed: 11)
        var first: [Int: Int] = [:], replyToF5: [Int: Int] = [:]
        for index in 0..<games.count {
            let game = games[index]
            first[game[0], default: 0] += 1
            if game[0] == 37 { replyToF5[game[1], default: 0] += 1 }
        }
        XCTAssertEqual(Set(first.keys), [19, 26, 37, 44])
        for count in first.values { XCTAssertEqual(Double(count) / 20000, 0.25, accuracy: 0.015) }   // > 4 sigma
        let replies = replyToF5.values.reduce(0, +)
        XCTAssertEqual(Set(replyToF5.keys), [29, 43, 45])
        for count in replyToF5.values { XCTAssertEqual(Double(count) / Double(replies), 1.0 / 3, accuracy: 0.03) }
    }
}

/// `Games/synthetic-10k.npy` is what its documented command produces.
final class ShippedSyntheticGamesTests: XCTestCase {
    func testTheShippedFileIsSeedOneFullLength() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Games/synthetic-10k.npy")
        let shipped = try GameDataset.read(from: url)   // checks every move
        XCTAssertEqual(shipped.count, 10_000)
        XCTAssertEqual(shipped, RandomGames.generate(count: 10_000, seed: 1, fullLength: true))
    }
}
