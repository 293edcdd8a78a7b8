import Foundation
import WorkbenchSupport
import XCTest

final class DefaultedCodableTests: XCTestCase {
    struct Recipe: DefaultedCodable, Equatable {
        var learningRate: Float = 1e-3
        var steps = 100
        var seed: UInt64 = .max
        var floor: Double = 0.25
        var name = "default"
        init() {}
    }

    func testMissingKeysTakeTheirDefaultsAndPresentOnesAreKept() throws {
        // Plain keys.
        let plain = try Recipe.decode(from: Data(#"{"learningRate": 0.01, "name": "old"}"#.utf8))
        XCTAssertEqual(plain.learningRate, 0.01)
        XCTAssertEqual(plain.name, "old")
        XCTAssertEqual(plain.steps, 100)
        XCTAssertEqual(plain.seed, .max, "a UInt64 default survives the merge exactly")
        XCTAssertEqual(plain.floor, 0.25)
        // The workbench's files: snake_case keys, non-finite floats as strings.
        let snake = try Recipe.decode(from: Data(#"{"learning_rate": 0.5, "floor": "inf"}"#.utf8), decoder: JSONOutput.decoder)
        XCTAssertEqual(snake.learningRate, 0.5)
        XCTAssertEqual(snake.floor, .infinity)
        XCTAssertEqual(snake.steps, 100)
        // A whole file round-trips unchanged.
        var full = Recipe(); full.steps = 7; full.seed = 3; full.floor = .nan
        let back = try Recipe.decode(from: JSONOutput.encoder.encode(full), decoder: JSONOutput.decoder)
        XCTAssertEqual([back.steps, Int(back.seed)], [7, 3])
        XCTAssertTrue(back.floor.isNaN)
    }

    func testAPresentKeyOfTheWrongTypeIsStillAnError() {
        XCTAssertThrowsError(try Recipe.decode(from: Data(#"{"steps": "many"}"#.utf8)))
        XCTAssertThrowsError(try Recipe.decode(from: Data("[1, 2]".utf8)))
        XCTAssertThrowsError(try Recipe.decode(from: Data("{".utf8)))
    }
}
