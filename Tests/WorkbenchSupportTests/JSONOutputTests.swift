import Foundation
import WorkbenchSupport
import XCTest

/// The one JSON path: snake_case keys from Swift names, dictionary keys as given, non-finite numbers as strings.
final class JSONOutputTests: XCTestCase {
    struct Example: Codable, Equatable {
        var nullError: Double
        var legalTop1: Double
        var reconstructionF1: Double
        var tags: [String: String]
        var missing: Int?
        var path: String
    }

    func testKeysAreSnakeCaseAndDictionaryKeysStayAsGiven() throws {
        let value = Example(nullError: .nan, legalTop1: .infinity, reconstructionF1: 0.5, tags: ["Black": "Kim", "blocks.4.hook_resid_post": "x"],
                            missing: nil, path: "probes/a.safetensors")
        let text = String(decoding: try JSONOutput.lineEncoder.encode(value), as: UTF8.self)
        XCTAssertEqual(text, #"{"legal_top1":"inf","null_error":"nan","path":"probes/a.safetensors","reconstruction_f1":0.5,"tags":{"Black":"Kim","blocks.4.hook_resid_post":"x"}}"#)
        let back = try JSONOutput.decoder.decode(Example.self, from: Data(text.utf8))
        XCTAssertTrue(back.nullError.isNaN)
        XCTAssertEqual(back.legalTop1, .infinity)
        XCTAssertEqual(back.tags, value.tags)
        XCTAssertTrue(try JSONOutput.string(value).contains("\n"), "files are pretty-printed")
    }
}
