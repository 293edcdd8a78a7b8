import Foundation
@testable import OthelloCommands
import WorkbenchSupport
import XCTest

/// Damaged or hostile files and out-of-range options: each gives a one-line WorkbenchError, never a crash.
final class HostileInputTests: CommandTestCase {
    /// A version-1 `.npy` file with `header` (the dictionary text) and `payload`.
    func writeNPY(_ name: String, header: String, payload: Data) throws {
        var text = header
        text += String(repeating: " ", count: (64 - (10 + text.utf8.count + 1) % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.utf8.count & 0xFF), UInt8(text.utf8.count >> 8)])
        data.append(contentsOf: Array(text.utf8))
        data.append(payload)
        try data.write(to: folder.appendingPathComponent(name))
    }

    func testNPYShapeTooLargeForAnyFile() throws {
        try writeNPY("huge.npy", header: "{'descr': '|i1', 'fortran_order': False, 'shape': (4611686018427387904, 60), }",
                     payload: Data(count: 60))
        XCTAssertEqual(try errorMessage(["games", "show", path("huge.npy")]),
                       "\(path("huge.npy")): the .npy header's shape [4611686018427387904, 60] of |i1 is too large for any file; the header is damaged")
    }

    /// A safetensors file with the JSON `header` and `payload` bytes of data.
    func writeSafetensors(_ name: String, header: String, payload: Data) throws {
        var length = UInt64(header.utf8.count).littleEndian
        var data = Data(bytes: &length, count: 8)
        data.append(contentsOf: Array(header.utf8))
        data.append(payload)
        try data.write(to: folder.appendingPathComponent(name))
    }

    func testSafetensorsShapeTooLargeOrNotIntegers() throws {
        try writeSafetensors("huge.safetensors", header: #"{"embed.W_E": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 16]}}"#,
                             payload: Data(count: 16))
        XCTAssertEqual(try errorMessage(["run", "--model", path("huge.safetensors"), "--games", path("games.npy")]),
                       "\(path("huge.safetensors")): tensor embed.W_E: shape [4611686018427387904, 4] of F32 needs more bytes than any file holds, data_offsets give 16")
        try writeSafetensors("far.safetensors", header: #"{"embed.W_E": {"dtype": "F32", "shape": [4], "data_offsets": [1e30, 1e30]}}"#,
                             payload: Data(count: 16))
        XCTAssertEqual(try errorMessage(["run", "--model", path("far.safetensors"), "--games", path("games.npy")]),
                       "\(path("far.safetensors")): tensor embed.W_E: malformed header entry (needs dtype, shape and data_offsets, as integers)")
    }
}
