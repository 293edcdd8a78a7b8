import Foundation
@testable import OthelloAtlas
import XCTest

final class AtlasDataTests: XCTestCase {
    func testQuantizedBoardKeepsTheLargestValueAndTheRestWithinHalfAStep() {
        let values = (0..<64).map { Float($0 - 20) / 7 }
        let board = QuantizedBoard(values)
        let back = board.values
        XCTAssertEqual(back.count, 64)
        let scale = values.map(abs).max()!
        for (a, b) in zip(values, back) { XCTAssertEqual(a, b, accuracy: scale / 254 + 1e-3) }
        XCTAssertEqual(back[63], values[63], accuracy: 1e-3, "the largest magnitude is the scale")
        XCTAssertEqual(QuantizedBoard([Float](repeating: 0, count: 64)).values, [Float](repeating: 0, count: 64))
    }
}
