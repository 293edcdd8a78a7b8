import OthelloRules
import XCTest

/// The examples in the doc comments, checked.
final class DocExampleTests: XCTestCase {
    func testExamples() throws {
        XCTAssertEqual(Bitboard.squares(Bitboard.legalMoves(player: Board.start.black, opponent: Board.start.white)), [19, 26, 37, 44])
        XCTAssertEqual(Bitboard.squares(0b1010), [1, 3])
        XCTAssertEqual(Bitboard.of([27, 36]), Board.start.white)

        var board = Board.start
        board.play(37, by: .black)
        XCTAssertEqual(board.count(.black), 4)

        let games = try GameDataset(games: [[37, 43, 34]])
        XCTAssertEqual(games.count, 1)
        XCTAssertEqual(games[0], [37, 43, 34])
        XCTAssertEqual(games.tokens(ofGame: 0), [34, 40, 33])

        let game = try GameReplay(moves: [37, 43, 34], source: "my game")
        XCTAssertEqual(game.steps[2].board.count(.black), 5)
        XCTAssertEqual(game.steps[2].relativeColours[35], .theirs)
        XCTAssertEqual(game.steps[2].legalSquares, Bitboard.squares(game.steps[2].board.legalMoves(.white)))

        XCTAssertEqual(SquareNotation.standard.label(37), "f5")
        XCTAssertEqual(try SquareNotation.othelloGPT.square("E5"), 37)
        XCTAssertNil(SquareNotation.li.square(ifValid: "z9"))

        var position = Position.start
        XCTAssertEqual(position.play(37), 1 << 36)
        XCTAssertEqual(position.next, .white)
        XCTAssertEqual(Bitboard.squares(position.legalMoves), [29, 43, 45])

        XCTAssertEqual(try Vocabulary.token(forSquare: 37), 34)
        XCTAssertEqual(try Vocabulary.square(forToken: 34), 37)
        XCTAssertEqual(Vocabulary.squares[33], 37)
        XCTAssertTrue(RandomGames.generate(count: 20, seed: 1, fullLength: true).lengths.allSatisfy { $0 == 60 })
    }
}
