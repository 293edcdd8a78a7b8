import OthelloRules
import XCTest

/// Leaf counts from Aart Bik's table (/work/shared/data/README.md): a pass is one ply, a game that ends
/// before the depth counts as one leaf.
final class PerftTests: XCTestCase {
    let table: [UInt64] = [4, 12, 56, 244, 1_396, 8_200, 55_092, 390_216, 3_005_288]

    func testDepthsOneToNineMatchThePublishedTable() {
        for (index, expected) in table.enumerated() {
            XCTAssertEqual(Perft.leaves(depth: index + 1), expected, "depth \(index + 1)")
        }
    }

    func testThreadedCountEqualsSingleThreaded() {
        XCTAssertEqual(Perft.leaves(depth: 9, threads: 4), 3_005_288)
        XCTAssertEqual(Perft.leaves(depth: 8, threads: 2), 390_216)
    }

    func testFinishedGameIsOneLeaf() {
        let over = Position(board: Board(black: ~0, white: 0), next: nil)
        XCTAssertEqual(Perft.leaves(depth: 5, from: over), 1)
        XCTAssertEqual(Perft.leaves(depth: 5, from: over, threads: 2), 1)
    }
}
