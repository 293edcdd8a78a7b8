import Foundation
import WorkbenchSupport
import XCTest

final class ActivationMatrixTests: XCTestCase {
    func testLargeActivationsGoToAMappedFile() throws {
        let matrix = try ActivationMatrix(rows: 1000, width: 64, budget: MemoryBudget(bytes: 0))
        XCTAssertTrue(matrix.isMapped)
        matrix.row(999)[63] = 5
        XCTAssertEqual(matrix.row(999)[63], 5)
    }

    func testMatricesShareTheirBudgetAndGiveItBack() throws {
        let budget = MemoryBudget(bytes: 1000 * 64 * 4)
        var first: ActivationMatrix? = try ActivationMatrix(rows: 1000, width: 64, budget: budget)
        XCTAssertFalse(first!.isMapped)
        let second = try ActivationMatrix(rows: 1, width: 1, budget: budget)
        XCTAssertTrue(second.isMapped, "the budget is taken by the first")
        first = nil
        XCTAssertFalse(try ActivationMatrix(rows: 1000, width: 64, budget: budget).isMapped, "released when the first is freed")
        _ = first
    }
}
