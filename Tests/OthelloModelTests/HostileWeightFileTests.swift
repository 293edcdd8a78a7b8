import Foundation
import OthelloModel
import WorkbenchSupport
import XCTest

/// Weight files made to hurt the reader (found while fuzzing it, scripts/fuzz): each is refused with a one-line
/// error naming the file, promptly, and without allocating more than the file holds.
final class HostileWeightFileTests: XCTestCase {
    func assertRefused(_ base64: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try StateDict.read(data: Data(base64Encoded: base64)!, source: "hostile.pth"), file: file, line: line) { error in
            XCTAssertEqual((error as? WorkbenchError)?.description, "hostile.pth: \(expected)", file: file, line: line)
        }
    }

    /// A deflated data.pkl whose deflate stream runs past the end of the file: ZIPFoundation's inflate (on Linux),
    /// which read torch files before `StoredZip`, never stopped reading it. Compressed entries, which torch.save
    /// never writes, are refused.
    func testCompressedEntryIsRefusedInsteadOfInflatedForever() {
        assertRefused("UEsDBBQAAAAIADZpgV3ykQLFCAAAAAYAAAAQAAAAYXJjaGl2ZS9kYXRhLnBrbAD//wAAeHh4UEsBAhQDFAAAAAgANmmBXfKRAsUIAAAABgAAABAAAAAAAAAAAAAAAIABAAAAAGFyY2hpdmUvZGF0YS5wa2xQSwUGAAAAAAEAAQA+AAAANgAAAAAA",
                      "archive/data.pkl is compressed in the archive; torch.save stores its entries uncompressed — re-save the file with torch.save")
    }

    /// Two bytes "PK": ZIPFoundation's in-memory archive leaked itself when the end record was missing.
    func testZipWithoutEndRecord() {
        assertRefused("UEs=", "not a readable zip archive: no end-of-central-directory record (truncated or corrupt torch file?)")
    }

    /// An end record whose central directory lies past the end of the file crashed ZIPFoundation's in-memory reader
    /// (a range with a negative length); so did the fuzz targets' findings, fuzz_zip_crash_*.pth.
    func testCentralDirectoryPastTheEnd() throws {
        assertRefused("UEsFBgAAAAABAAEALgAAAOgDAAAAAA==",
                      "not a readable zip archive: the central directory (1 entries, 46 bytes at byte 1000) does not fit in the file (truncated or corrupt torch file?)")
        for name in ["fuzz_zip_crash_model.pth", "fuzz_zip_crash_probe.pth"] {
            XCTAssertThrowsError(try StateDict.read(from: Fixtures.url(name))) { XCTAssertTrue($0 is WorkbenchError, "\($0)") }
        }
    }

    /// A list appended to itself (EMPTY_LIST, DUP, APPEND): a cycle that was never freed (found by the pickle target).
    func testListPutIntoItself() {
        let pickle: [UInt8] = [0x80, 0x02, 0x5D, 0x71, 0x00, 0x5D, 0x71, 0x01, 0x5D, 0x32, 0x71, 0x02, 0x61, 0x61, 0x2E]
        XCTAssertThrowsError(try TorchCheckpoint.read(pickle: pickle, source: "hostile.pkl", storage: { _ in nil })) { error in
            XCTAssertEqual((error as? WorkbenchError)?.description, "hostile.pkl: malformed pickle (a list or dict put into itself)")
        }
    }

    /// A config in the metadata claiming 900 million layers: the parameter layout alone would not fit in memory.
    func testBillionLayerConfigIsRefusedBeforeTheLayout() throws {
        let config = String(decoding: try JSONEncoder().encode(ModelConfig(nLayers: 900_000_000, dModel: 1, nHeads: 1, dMLP: 1)), as: UTF8.self)
        let dict = StateDict(source: "hostile.safetensors", tensors: ["embed.W_E": Tensor(shape: [61, 1]), "blocks.0.attn.W_Q": Tensor(shape: [1, 1, 1])],
                             metadata: ["config": config])
        XCTAssertThrowsError(try HookedTransformer(stateDict: dict)) { error in
            XCTAssertEqual((error as? WorkbenchError)?.description,
                           "hostile.safetensors: missing key blocks.1.attn.W_Q (expected shape [1, 1, 1]); is this an Othello-GPT state dict?")
        }
    }

    /// A persistent id whose storage class is an allowed global but not a storage (`collections.OrderedDict`).
    func testPersistentIdMustNameAStorageClass() {
        let pickle: [UInt8] = [0x80, 0x02, 0x28] + Array("X\u{7}\0\0\0storage".utf8) + Array("ccollections\nOrderedDict\n".utf8)
            + Array("X\u{1}\0\0\00X\u{3}\0\0\0cpuK\u{4}tQ.".utf8)
        XCTAssertThrowsError(try TorchCheckpoint.read(pickle: pickle, source: "hostile.pkl", storage: { _ in Data(count: 16) })) { error in
            XCTAssertEqual((error as? WorkbenchError)?.description,
                           "hostile.pkl: unsupported persistent id in the pickle (collections.OrderedDict is not a torch storage class)")
        }
    }
}
