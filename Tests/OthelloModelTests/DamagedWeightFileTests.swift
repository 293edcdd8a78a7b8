import Foundation
import OthelloModel
import WorkbenchSupport
import XCTest

/// Damaged torch files (scripts/make_damaged_weight_fixtures.py) are refused with a one-line error naming
/// the file, never a crash.
final class DamagedWeightFileTests: XCTestCase {
    func assertRefused(_ name: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        let url = Fixtures.url(name)
        XCTAssertThrowsError(try StateDict.read(from: url), file: file, line: line) { error in
            XCTAssertEqual((error as? WorkbenchError)?.description, "\(url.path): \(expected)", file: file, line: line)
        }
    }

    func testDeeplyNestedPickle() {
        assertRefused("damaged_nested.pth", "malformed pickle (containers nested more than 100 deep; a state dict is a flat dict of tensors)")
        assertRefused("damaged_stored_changed.pth", "malformed pickle (a list changed after it was stored in another container)")
    }

    func testSizesThatOverflow() {
        assertRefused("damaged_storage_count.pth",
                      "key embed.W_E: storage data/0 has 16 bytes, not the 4611686018427387904 elements of 4 bytes the pickle gives it (truncated file?)")
        assertRefused("damaged_view.pth",
                      "key embed.W_E: shape [2, 2], strides [4611686018427387904, 4611686018427387904] and offset 0 reach outside its storage of 4 elements")
        assertRefused("damaged_long_string.pth", "the pickle data.pkl ends early (truncated archive?)")
    }
}
