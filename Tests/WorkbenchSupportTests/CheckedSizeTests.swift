import Foundation
import XCTest
@testable import WorkbenchSupport

final class CheckedSizeTests: XCTestCase {
    func testSizesOfShapes() {
        XCTAssertEqual(checkedSize(of: [64, 60], elementSize: 4), 15360)
        XCTAssertEqual(checkedSize(of: []), 1)
        XCTAssertEqual(checkedSize(of: [3, 0, 5]), 0)
        XCTAssertNil(checkedSize(of: [-1, 60]))
        XCTAssertNil(checkedSize(of: [1 << 62, 60]))
        XCTAssertNil(checkedSize(of: [1 << 61], elementSize: 8))
    }
}
