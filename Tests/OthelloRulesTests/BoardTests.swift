import OthelloRules
import XCTest

final class BoardTests: XCTestCase {
    func testStartPosition() {
        let board = Board.start
        XCTAssertEqual(Bitboard.squares(board.white), [27, 36])
        XCTAssertEqual(Bitboard.squares(board.black), [28, 35])
        XCTAssertEqual(Bitboard.squares(board.legalMoves(.black)), [19, 26, 37, 44])
        XCTAssertEqual(Bitboard.squares(board.legalMoves(.white)), [20, 29, 34, 43])
        XCTAssertEqual(board.count(.black), 2)
        XCTAssertEqual(board[27], .white)
        XCTAssertEqual(board[28], .black)
        XCTAssertEqual(board[0], .empty)
    }

    func testPlayFlipsAndRejectsIllegalMoves() {
        var board = Board.start
        XCTAssertEqual(board.play(0, by: .black), 0)
        XCTAssertEqual(board, .start, "an illegal move leaves the board alone")
        let flipped = board.play(37, by: .black)   // standard f5
        XCTAssertEqual(Bitboard.squares(flipped), [36])
        XCTAssertEqual(Bitboard.squares(board.black), [28, 35, 36, 37])
        XCTAssertEqual(Bitboard.squares(board.white), [27])
    }

    func testFlipsInSeveralDirectionsAtOnce() {
        // White discs on every neighbour of square 27 (D3), each closed by a black disc two steps away:
        // black on D3 flips all eight lines at once.
        let neighbours = [18, 19, 20, 26, 28, 34, 35, 36]
        let closers = [9, 11, 13, 25, 29, 41, 43, 45]
        let board = Board(black: Bitboard.of(closers), white: Bitboard.of(neighbours))
        XCTAssertEqual(Bitboard.flips(square: 27, player: board.black, opponent: board.white), Bitboard.of(neighbours))
        // A run that reaches the edge without a closing disc flips nothing.
        let edge = Board(black: 0, white: Bitboard.of([1, 2, 3]))
        XCTAssertEqual(Bitboard.flips(square: 0, player: edge.black, opponent: edge.white), 0)
        // No wrap-around from the end of one row to the start of the next.
        let wrap = Board(black: Bitboard.of([9]), white: Bitboard.of([8]))
        XCTAssertEqual(Bitboard.flips(square: 7, player: wrap.black, opponent: wrap.white), 0)
        XCTAssertEqual(wrap.legalMoves(.black) & (1 << 7), 0)
    }

    func testLegalMovesAgreeWithASlowReferenceOnRandomPositions() {
        // A square-by-square reference, written independently of the bitboard code.
        func slowFlips(_ square: Int, _ player: UInt64, _ opponent: UInt64) -> UInt64 {
            if (player | opponent) & (1 << UInt64(square)) != 0 { return 0 }
            var total: UInt64 = 0
            for dr in -1...1 { for dc in -1...1 where dr != 0 || dc != 0 {
                var r = square / 8 + dr, c = square % 8 + dc, run: UInt64 = 0
                while (0..<8).contains(r), (0..<8).contains(c), opponent & (1 << UInt64(8 * r + c)) != 0 {
                    run |= 1 << UInt64(8 * r + c); r += dr; c += dc
                }
                if (0..<8).contains(r), (0..<8).contains(c), player & (1 << UInt64(8 * r + c)) != 0 { total |= run }
            } }
            return total
        }
        var random = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            let occupied = random.next() & random.next() | random.next() & random.next()
            let player = occupied & random.next(), opponent = occupied & ~player
            var slowMoves: UInt64 = 0
            for square in 0..<64 {
                let flips = slowFlips(square, player, opponent)
                if flips != 0 { slowMoves |= 1 << UInt64(square) }
                if (player | opponent) & (1 << UInt64(square)) == 0 {
                    XCTAssertEqual(Bitboard.flips(square: square, player: player, opponent: opponent), flips)
                }
            }
            XCTAssertEqual(Bitboard.legalMoves(player: player, opponent: opponent), slowMoves)
        }
    }

    func testKthSetBit() {
        let bits = Bitboard.of([3, 17, 40, 63])
        XCTAssertEqual((0..<4).map { Bitboard.square(ofSetBit: $0, in: bits) }, [3, 17, 40, 63])
        XCTAssertEqual((0..<64).map { Bitboard.square(ofSetBit: $0, in: ~0) }, Array(0..<64))
        var random = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let bits = random.next() & random.next()
            let squares = Bitboard.squares(bits)
            XCTAssertEqual(Int(Bitboard.rowTotals(bits) >> 56), squares.count)
            XCTAssertEqual(squares.indices.map { Bitboard.square(ofSetBit: $0, in: bits) }, squares)
        }
    }

    func testPassAndGameEnd() {
        // Black: A0; white: A1. Black plays A2 and flips A1; white has no discs left: game over.
        var position = Position(board: Board(black: Bitboard.of([0]), white: Bitboard.of([1])), next: .black)
        XCTAssertEqual(Bitboard.squares(position.legalMoves), [2])
        XCTAssertEqual(position.play(2).map(Bitboard.squares), [1])
        XCTAssertNil(position.next)
        XCTAssertTrue(position.isOver)
        XCTAssertEqual(position.board.finalScore.black, 64)
        XCTAssertEqual(position.board.winner, .black)
        // White to move with no move, black has one: white passes, black moves again.
        var pass = Position(board: Board(black: Bitboard.of([0]), white: Bitboard.of([1, 9])), next: .black)
        pass.play(2)   // flips A1 only; white keeps B1, and has no move (nothing to outflank)
        XCTAssertEqual(pass.next, .black, "white must pass")
    }

    func testFinalScoreGivesEmptiesToTheWinner() {
        let board = Board(black: Bitboard.of(0..<30), white: Bitboard.of(30..<50))
        XCTAssertEqual(board.finalScore.black, 44)
        XCTAssertEqual(board.finalScore.white, 20)
        let draw = Board(black: Bitboard.of(0..<20), white: Bitboard.of(20..<40))
        XCTAssertEqual(draw.finalScore.black, 32)
        XCTAssertNil(draw.winner)
    }

    func testASCII() {
        let lines = Board.start.ascii(marks: Board.start.legalMoves(.black)).split(separator: "\n")
        XCTAssertEqual(lines.count, 10)
        XCTAssertEqual(lines[0], "    a b c d e f g h")
        XCTAssertEqual(lines[4], "C 3 . . . * . . . .")
        XCTAssertEqual(lines[5], "D 4 . . * O X . . .")
    }
}
