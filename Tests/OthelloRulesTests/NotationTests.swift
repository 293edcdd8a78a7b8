import OthelloRules
import WorkbenchSupport
import XCTest

final class NotationTests: XCTestCase {
    func testEveryLabelRoundTripsInEveryNotation() throws {
        for notation in SquareNotation.allCases {
            var labels = Set<String>()
            for square in 0..<64 {
                let label = notation.label(square)
                labels.insert(label)
                XCTAssertEqual(try notation.square(label), square, "\(notation) \(label)")
                XCTAssertEqual(notation.square(ifValid: label.lowercased()), square, "lower-case \(label)")
                XCTAssertEqual(notation.square(ifValid: label.uppercased()), square, "upper-case \(label)")
            }
            XCTAssertEqual(labels.count, 64, "\(notation) labels are distinct")
        }
    }

    func testOthelloGPTLabels() {
        let notation = SquareNotation.othelloGPT
        XCTAssertEqual(notation.label(0), "A0")
        XCTAssertEqual(notation.label(7), "A7")
        XCTAssertEqual(notation.label(8), "B0")
        XCTAssertEqual(notation.label(37), "E5")
        XCTAssertEqual(notation.label(63), "H7")
        XCTAssertEqual(notation.square(ifValid: "D3"), 27)
    }

    func testLiLabels() {
        let notation = SquareNotation.li
        XCTAssertEqual(notation.label(0), "a1")
        XCTAssertEqual(notation.label(7), "a8")
        XCTAssertEqual(notation.label(8), "b1")
        XCTAssertEqual(notation.label(37), "e6")
        XCTAssertEqual(notation.label(63), "h8")
        // Li et al.'s first moves for black: c4 d3 e6 f5 are squares 19 26 37 44.
        XCTAssertEqual(["c4", "d3", "e6", "f5"].compactMap { notation.square(ifValid: $0) }, [19, 26, 37, 44])
    }

    func testStandardNotationHasLetterForColumnAndNoTransposition() {
        let notation = SquareNotation.standard
        XCTAssertEqual(notation.label(0), "a1")
        XCTAssertEqual(notation.label(7), "h1")
        XCTAssertEqual(notation.label(8), "a2")
        XCTAssertEqual(notation.square(ifValid: "f5"), 37)   // row 4, col 5
        XCTAssertEqual(notation.square(ifValid: "F5"), 37)
        XCTAssertEqual(notation.label(63), "h8")
        // The standard openings are black's four legal first moves.
        XCTAssertEqual(["d3", "c4", "f5", "e6"].compactMap { notation.square(ifValid: $0) }, [19, 26, 37, 44])
        // The standard start (white d4 e5, black d5 e4) is the model's start.
        XCTAssertEqual(Bitboard.of(["d4", "e5"].compactMap { notation.square(ifValid: $0) }), Board.start.white)
        XCTAssertEqual(Bitboard.of(["e4", "d5"].compactMap { notation.square(ifValid: $0) }), Board.start.black)
    }

    func testInvalidLabels() {
        for label in ["", "A", "I0", "A8", "A01", "5f", "é1", "  ", "A-"] {
            XCTAssertNil(SquareNotation.othelloGPT.square(ifValid: label), "accepted '\(label)'")
        }
        XCTAssertNil(SquareNotation.othelloGPT.square(ifValid: "A8"))
        XCTAssertNil(SquareNotation.li.square(ifValid: "a0"))
        XCTAssertNil(SquareNotation.li.square(ifValid: "i1"))
        XCTAssertNil(SquareNotation.standard.square(ifValid: "a9"))
        XCTAssertNil(SquareNotation.standard.square(ifValid: "pa"))
        XCTAssertThrowsError(try SquareNotation.standard.square("z9")) { error in
            XCTAssertTrue("\(error)".contains("'z9' is not a square in standard"), "\(error)")
        }
        XCTAssertEqual(SquareNotation.othelloGPT.label(64), "#64")
    }
}
