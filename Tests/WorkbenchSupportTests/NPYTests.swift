import Foundation
import XCTest
@testable import WorkbenchSupport

final class NPYTests: XCTestCase {
    func testRoundTripInt8() throws {
        let array = NPYArray(shape: [2, 3], values: [Int8](arrayLiteral: 1, -1, 5, 60, 0, -1))
        let parsed = try NPYArray.parse(array.encoded())
        XCTAssertEqual(parsed, array)
        XCTAssertEqual(try parsed.elements(of: Int8.self), [1, -1, 5, 60, 0, -1])
        XCTAssertEqual(array.encoded().count % 64, 6)  // header is padded to 64 bytes, then 6 data bytes
    }

    func testWrongDtypeIsAClearError() throws {
        let array = NPYArray(shape: [2], values: [Float](arrayLiteral: 1, 2))
        XCTAssertThrowsError(try array.elements(of: Int8.self)) { error in
            XCTAssertTrue("\(error)".contains("expected dtype |i1"))
        }
    }

    func testTruncatedFileIsAClearError() throws {
        let data = NPYArray(shape: [100], values: [Float](repeating: 1, count: 100)).encoded().prefix(200)
        XCTAssertThrowsError(try NPYArray.parse(data, file: "x.npy")) { error in
            XCTAssertTrue("\(error)".contains("x.npy: truncated"))
        }
    }

    func testReadsNumPyWrittenHeader() throws {
        // Header exactly as numpy 2.x writes np.zeros((2,), dtype=np.int32).
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, 118, 0])
        let header = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }"
        data.append(contentsOf: Array((header + String(repeating: " ", count: 118 - header.count - 1) + "\n").utf8))
        data.append(contentsOf: [7, 0, 0, 0, 255, 255, 255, 255])
        let array = try NPYArray.parse(data)
        XCTAssertEqual(array.shape, [2])
        XCTAssertEqual(try array.elements(of: Int32.self), [7, -1])
    }

    func testAtomicWriteLeavesNoTemporaryOnFailure() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("out.bin")
        XCTAssertThrowsError(try AtomicFile.write(to: url) { _ in throw WorkbenchError("interrupted") })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
        try AtomicFile.write(Data([1, 2, 3]), to: url)
        XCTAssertEqual(try Data(contentsOf: url), Data([1, 2, 3]))
    }

    func testSeededRandomIsDeterministicPerStream() {
        var a = SeededRandom(seed: 7, stream: 3), b = SeededRandom(seed: 7, stream: 3), c = SeededRandom(seed: 7, stream: 4)
        let xs = (0..<5).map { _ in a.next() }
        XCTAssertEqual(xs, (0..<5).map { _ in b.next() })
        XCTAssertNotEqual(xs, (0..<5).map { _ in c.next() })
        for _ in 0..<1000 { XCTAssertLessThan(a.next(below: 7), 7) }
    }
}
