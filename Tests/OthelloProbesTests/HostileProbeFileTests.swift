import Foundation
import OthelloModel
import OthelloProbes
import WorkbenchSupport
import XCTest

/// Probe files whose metadata lies: refused with a one-line error naming the file, before the probe is allocated.
final class HostileProbeFileTests: XCTestCase {
    /// The bytes of a workbench linear probe file with `metadata` over the valid one's, holding a tiny `W` and `b`.
    func probeFile(_ metadata: [String: String]) throws -> Data {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("probe-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let valid = ["format": ProbeFile.format, "kind": "linear", "basis": "colour", "hook": "blocks.0.hook_resid_post",
                     "modes": "all", "classes": "empty,black,white", "d_in": "1", "hidden": "0"]
        try SafetensorsFile.write([("W", Tensor(shape: [1])), ("b", Tensor(shape: [1]))], metadata: valid.merging(metadata) { $1 }, to: url)
        return try Data(contentsOf: url)
    }

    func assertRefused(_ metadata: [String: String], _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertThrowsError(try ProbeFile.load(data: try probeFile(metadata), source: "hostile.safetensors"), file: file, line: line) { error in
            XCTAssertEqual((error as? WorkbenchError)?.description, "hostile.safetensors: \(expected)", file: file, line: line)
        }
    }

    /// d_in 10⁸ asked for 77 GB before the tensors were looked at; 2⁶² overflowed computing the layout.
    func testHugeInputWidthIsRefusedBeforeAllocating() throws {
        try assertRefused(["d_in": "100000000"], "W has shape [1], expected [1, 100000000, 8, 8, 3]")
        try assertRefused(["d_in": "4611686018427387904"], "W has shape [1], expected [1, 4611686018427387904, 8, 8, 3]")
    }

    func testUnknownKindNamesTheFile() throws {
        try assertRefused(["kind": "cubic"], "unknown probe kind \"cubic\"; choose linear or mlp")
    }
}
