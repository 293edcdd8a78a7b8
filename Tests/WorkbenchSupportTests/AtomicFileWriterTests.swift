import Foundation
import XCTest
@testable import WorkbenchSupport

final class AtomicFileWriterTests: XCTestCase {
    func testPiecesAppearOnlyOnCommitAndVanishUncommitted() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("writer-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("out.bin")
        do {
            let writer = try AtomicFile.Writer(url: url)
            try writer.write(Data([1]))
        }   // released uncommitted
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
        let writer = try AtomicFile.Writer(url: url)
        try writer.write(Data([1, 2]))
        try writer.write(Data([3]))
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
        try writer.commit()
        XCTAssertEqual(try Data(contentsOf: url), Data([1, 2, 3]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["out.bin"])
    }
}
