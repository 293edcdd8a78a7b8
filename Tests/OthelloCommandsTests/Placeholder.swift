import XCTest

// Replaced by this module's real tests.
final class OthelloCommandsTestsPlaceholder: XCTestCase {
    func testPlaceholder() {}
}
