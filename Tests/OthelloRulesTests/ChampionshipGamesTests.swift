import Foundation
import OthelloRules
import XCTest

/// Recorded tournament games (WTHOR database of the Fédération Française d'Othello): every move must be
/// legal with passes inferred, and the replayed final score must equal the recorded one.
final class ChampionshipGamesTests: XCTestCase {
    static let games = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Games").standardized
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// Replays every game; checks the recorded black disc count; returns the number of games with a pass.
    private func replayAll(_ games: [(moves: [Int], blackDiscs: Int)], source: String) throws -> Int {
        var withPass = 0
        for (index, game) in games.enumerated() {
            let replay = try GameReplay(moves: game.moves, source: "\(source): game \(index)")
            XCTAssertEqual(replay.finalPosition.board.finalScore.black, game.blackDiscs, "\(source): game \(index)")
            if zip(replay.steps, replay.steps.dropFirst()).contains(where: { $0.player == $1.player }) { withPass += 1 }
        }
        return withPass
    }

    func testEveryWTHOR2025GameReplaysWithTheRecordedScore() throws {
        let file = try WTHORFile.read(from: Self.games.appendingPathComponent("WTH_2025.wtb"))
        XCTAssertEqual(file.year, 2025)
        XCTAssertEqual(file.games.count, 2010)
        let withPass = try replayAll(file.games.map { ($0.moves, $0.blackDiscs) }, source: "WTH_2025.wtb")
        XCTAssertGreaterThan(withPass, 0, "some games have a pass, so pass inference is exercised")
        // The first game opens with the standard f5 d6 (squares 37, 43).
        XCTAssertEqual(Array(file.games[0].moves.prefix(2)), [37, 43])
    }

    func testThePGNHoldsTheSameGamesAsTheWTHORFile() throws {
        let wthor = try WTHORFile.read(from: Self.games.appendingPathComponent("WTH_2025.wtb")).games
        let pgn = try PGNFile.read(from: Self.games.appendingPathComponent("WTH_2025.pgn"))
        XCTAssertEqual(pgn.count, 2010)
        XCTAssertEqual(pgn.map(\.moves), wthor.map(\.moves))
        XCTAssertEqual(pgn.map { $0.recordedScore?.black }, wthor.map(\.blackDiscs))
        XCTAssertEqual(pgn[0].tags["Black"], "Ogura Ryutaro")
        XCTAssertEqual(pgn[0].tags["Result"], "31-33")
        _ = try replayAll(pgn.map { ($0.moves, $0.recordedScore?.black ?? -1) }, source: "WTH_2025.pgn")
    }

    func testWTHOR1977() throws {
        let file = try WTHORFile.read(from: Self.fixtures.appendingPathComponent("WTH_1977.wtb"))
        XCTAssertEqual(file.year, 1977)
        XCTAssertEqual(file.games.count, 12)
        _ = try replayAll(file.games.map { ($0.moves, $0.blackDiscs) }, source: "WTH_1977.wtb")
    }

    func testEveryOpeningIsOneOfTheFourStandardOnes() throws {
        let games = try GameDataset.read(from: Self.games.appendingPathComponent("WTH_2025.wtb"))
        XCTAssertEqual(Set(games.games.map { $0[0] }).subtracting([19, 26, 37, 44]), [])
    }
}
