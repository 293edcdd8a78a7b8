import OthelloRules
import XCTest

final class VocabularyTests: XCTestCase {
    func testKnownTokens() throws {
        let gpt = SquareNotation.othelloGPT
        for (label, token) in [("A0", 1), ("D2", 27), ("D5", 28), ("E2", 33), ("E5", 34), ("H7", 60)] {
            let square = try gpt.square(label)
            XCTAssertEqual(try Vocabulary.token(forSquare: square), token, label)
            XCTAssertEqual(try Vocabulary.square(forToken: token), square, label)
        }
        XCTAssertEqual(Vocabulary.size, 61)
        XCTAssertEqual(Vocabulary.squares.count, 60)
    }

    func testConversionsAgreeWithTheTableBothWays() throws {
        for (index, square) in Vocabulary.squares.enumerated() {
            XCTAssertEqual(Vocabulary.tokenUnchecked(forSquare: square), index + 1)
            XCTAssertEqual(Vocabulary.squareUnchecked(forToken: index + 1), square)
            XCTAssertEqual(try Vocabulary.token(forSquare: square), index + 1)
        }
        XCTAssertEqual(Vocabulary.squares, Vocabulary.squares.sorted())
        XCTAssertTrue(Set(Vocabulary.squares).isDisjoint(with: [27, 28, 35, 36]))
    }

    func testErrors() {
        for square in [27, 28, 35, 36] {
            XCTAssertThrowsError(try Vocabulary.token(forSquare: square)) { error in
                XCTAssertTrue("\(error)".contains("centre square"), "\(error)")
            }
        }
        for square in [-1, 64, 1000] {
            XCTAssertThrowsError(try Vocabulary.token(forSquare: square)) { error in
                XCTAssertTrue("\(error)".contains("off the board"), "\(error)")
            }
        }
        XCTAssertThrowsError(try Vocabulary.square(forToken: 0)) { XCTAssertTrue("\($0)".contains("padding")) }
        XCTAssertThrowsError(try Vocabulary.square(forToken: 61)) { XCTAssertTrue("\($0)".contains("out of range")) }
        XCTAssertThrowsError(try Vocabulary.square(forToken: -3)) { XCTAssertTrue("\($0)".contains("out of range")) }
    }
}
