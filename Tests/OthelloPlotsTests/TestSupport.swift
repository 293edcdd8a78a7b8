import Foundation
import XCTest
@testable import OthelloPlots
import WorkbenchSupport

/// A fresh temporary folder, removed when the test ends.
func temporaryFolder(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("othello-plots-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Writes `figure` as a PNG in a temporary folder and decodes it again with libpng.
func writtenAndReadBack(_ figure: some Figure, _ test: XCTestCase) throws -> Bitmap {
    let url = try temporaryFolder(test).appendingPathComponent("figure.png")
    try figure.write(to: url)
    return try PNG.read(from: url)
}

/// Largest per-channel difference between two colours.
func distance(_ a: RGB, _ b: RGB) -> Int {
    max(abs(Int(a.red) - Int(b.red)), abs(Int(a.green) - Int(b.green)), abs(Int(a.blue) - Int(b.blue)))
}

func assertColor(_ actual: RGB, _ expected: RGB, tolerance: Int = 2, _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertLessThanOrEqual(distance(actual, expected), tolerance, "\(message) got \(actual), expected \(expected)", file: file, line: line)
}

/// Pixels in `rect` darker than `threshold` luminance.
func darkPixels(in bitmap: Bitmap, _ rect: PixelRect, threshold: Double = 0.25) -> Int {
    var count = 0
    for y in max(0, rect.y)..<min(bitmap.height, rect.maxY) {
        for x in max(0, rect.x)..<min(bitmap.width, rect.maxX) where bitmap.color(x: x, y: y).luminance < threshold {
            count += 1
        }
    }
    return count
}

/// Asserts that `body` throws a `WorkbenchError` whose message contains each of `fragments`.
func assertWorkbenchError(_ fragments: String..., file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("expected a WorkbenchError containing \(fragments)", file: file, line: line)
    } catch let error as WorkbenchError {
        for fragment in fragments {
            XCTAssertTrue(error.description.contains(fragment), "'\(error.description)' does not mention '\(fragment)'", file: file, line: line)
        }
    } catch {
        XCTFail("expected a WorkbenchError, got \(error)", file: file, line: line)
    }
}
