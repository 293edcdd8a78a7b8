import XCTest
@testable import OthelloPlots

final class TicksTests: XCTestCase {
    func testNiceLinearTicks() {
        XCTAssertEqual(Ticks.linear(0...1, maxCount: 6).values, [0, 0.2, 0.4, 0.6, 0.8, 1.0].map { $0 }, accuracy: 1e-12)
        XCTAssertEqual(Ticks.linear(-0.87...0.87, maxCount: 9).values, [-0.8, -0.6, -0.4, -0.2, 0, 0.2, 0.4, 0.6, 0.8], accuracy: 1e-12)
        XCTAssertEqual(Ticks.linear(0.55...1.0, maxCount: 6).step, 0.1, accuracy: 1e-12)
        XCTAssertEqual(Ticks.linear(-0.24...8.24, maxCount: 8, integerStep: true).values, [0, 2, 4, 6, 8], accuracy: 1e-12)
        XCTAssertEqual(Ticks.linear(0...2000, maxCount: 8).values, [0, 500, 1000, 1500, 2000], accuracy: 1e-9)
        XCTAssertEqual(Ticks.linear(0...10, maxCount: 3).values, [0, 5, 10], accuracy: 1e-12)
    }

    func testZeroIsExactlyZero() {
        let ticks = Ticks.linear(-0.3...0.3, maxCount: 7).values
        XCTAssertTrue(ticks.contains(0))
        XCTAssertFalse(ticks.contains { $0 != 0 && abs($0) < 1e-12 })
    }

    func testLabels() {
        XCTAssertEqual(Ticks.label(-0.5, step: 0.25), "\u{2212}0.50")
        XCTAssertEqual(Ticks.label(0.4, step: 0.2), "0.4")
        XCTAssertEqual(Ticks.label(1500, step: 500), "1500")
        XCTAssertEqual(Ticks.label(2e-5, step: 1e-5), "2e\u{2212}5")
        XCTAssertEqual(Ticks.label(3e7, step: 1e7), "3e7")
        XCTAssertEqual(Ticks.format(-0.0001, decimals: 2), "0.00")
        XCTAssertEqual(Ticks.format(.nan, decimals: 2), "NaN")
    }

    func testLogTicks() {
        let ticks = Ticks.logarithmic(0.05...20)
        XCTAssertEqual(ticks.major, [0.1, 1, 10], accuracy: 1e-12)
        XCTAssertTrue(ticks.minor.contains { abs($0 - 0.05) < 1e-12 })
        XCTAssertTrue(ticks.minor.contains { abs($0 - 20) < 1e-9 })
        XCTAssertEqual(Ticks.logLabel(0.001), "0.001")
        XCTAssertEqual(Ticks.logLabel(1000), "1000")
        XCTAssertEqual(Ticks.logLabel(1e-6), "1e\u{2212}6")
    }
}

func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "\(a) vs \(b)", file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, "\(a) vs \(b)", file: file, line: line) }
}
