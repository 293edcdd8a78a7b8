import Foundation
import OthelloModel
@testable import OthelloSAEs
import XCTest

/// The SAE shipped beside the model (issue #29's sweep's best; its card: Resources/sae-card.md).
final class ShippedSAETests: XCTestCase {
    func testTheShippedSAEReadsTheShippedModel() throws {
        let url = try XCTUnwrap(SAEFile.shippedURL, "Sources/OthelloSAEs/Resources/shipped-sae.safetensors is missing")
        let (sae, name) = try SAEFile.load(path: nil)
        XCTAssertEqual(name, "the shipped SAE")
        XCTAssertEqual(sae.hook, "blocks.3.hook_resid_post")
        XCTAssertEqual(sae.kind, .topK(32))
        try sae.check(fits: .shipped, source: url.path)
        XCTAssertEqual(sae.metadata["model"], "shipped")
        XCTAssertNotNil(sae.metadata["settings"], "the recipe travels in the file")
        // Stored as F16: about 2 bytes per weight.
        let bytes = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int
        XCTAssertLessThan(bytes, 3 * sae.parameterCount)
        let card = url.deletingLastPathComponent().appendingPathComponent("sae-card.md")
        XCTAssertTrue(FileManager.default.fileExists(atPath: card.path), "the SAE card is beside it")
    }
}
