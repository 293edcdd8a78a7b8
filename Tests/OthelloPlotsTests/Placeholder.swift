import XCTest

// Replaced by this module's real tests.
final class OthelloPlotsTestsPlaceholder: XCTestCase {
    func testPlaceholder() {}
}
