import Foundation
import OthelloModel
@testable import OthelloTraining
import XCTest

/// `SgemmCheck`: the active OpenBLAS sgemm against a float64 product, measured against the float32 error bound.
final class SgemmCheckTests: XCTestCase {
    /// The measure by hand: k = 2, so the bound of an entry is (2 + 2)·2⁻²⁴·scale = 2⁻²²·scale.
    func testErrorToBoundByHand() {
        // Entry 0: error 2⁻²², bound 2⁻²²·4 → 0.25. Entry 1: exact → 0. Entry 2: scale 0 and exactly 0 → 0.
        let worst = SgemmCheck.worstErrorToBound(computed: [1 + 0x1p-22, -2, 0], exact: [1, -2, 0], scale: [4, 2, 0], k: 2)
        XCTAssertEqual(worst, 0.25)
        // Entry 0 three bounds off: the kernel is wrong.
        XCTAssertEqual(SgemmCheck.worstErrorToBound(computed: [1 + 0x1p-22], exact: [1], scale: [1.0 / 3], k: 2)!, 3, accuracy: 1e-12)
        // Not finite, or not exact where every term is 0: no ratio (fails).
        XCTAssertNil(SgemmCheck.worstErrorToBound(computed: [.nan], exact: [1], scale: [1], k: 2))
        XCTAssertNil(SgemmCheck.worstErrorToBound(computed: [.infinity], exact: [1], scale: [1], k: 2))
        XCTAssertNil(SgemmCheck.worstErrorToBound(computed: [1e-30], exact: [0], scale: [0], k: 2))
    }

    /// The float64 reference by hand, op(A) = [[1, 2, 3], [4, 5, 6]] (2×3), op(B) = [1, −1, 2]ᵀ (3×1): stored as they
    /// are, and stored transposed with α = 2, β = −1 and C = [10, 1].
    func testFloat64ProductByHand() {
        let plain = SgemmCheck.float64Product(SgemmCheck.Shape(m: 2, n: 1, k: 3), a: [1, 2, 3, 4, 5, 6], b: [1, -1, 2], c: [0, 0])
        XCTAssertEqual(plain.product, [5, 11])
        XCTAssertEqual(plain.scale, [9, 21])
        let shape = SgemmCheck.Shape(transA: true, transB: true, m: 2, n: 1, k: 3, alpha: 2, beta: -1)
        let scaled = SgemmCheck.float64Product(shape, a: [1, 4, 2, 5, 3, 6], b: [1, -1, 2], c: [10, 1])
        XCTAssertEqual(scaled.product, [0, 21])      // 2·5 − 10, 2·11 − 1
        XCTAssertEqual(scaled.scale, [28, 43])       // 2·9 + 10, 2·21 + 1
        XCTAssertEqual(shape.description, "2 × 2×3ᵀ · 3×1ᵀ + -1 C")
    }

    /// Every transpose combination passes with 1 and 2 threads (a transposition mixed up on either side would be
    /// far over the bound), and the shapes of a small model are those of its training step and forward pass.
    func testActiveKernelPassesOnEveryTransposeAndTheModelsShapes() throws {
        for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] {
            for (threads, alpha, beta) in [(1, Float(1), Float(0)), (2, 1, 0), (2, 0.125, 1)] {
                let shape = SgemmCheck.Shape(transA: transA, transB: transB, m: 37, n: 29, k: 300, alpha: alpha, beta: beta)
                let result = SgemmCheck.run(shape, threads: threads)
                XCTAssertTrue(result.passed, "\(result.shape): \(String(describing: result.worstErrorToBound))")
                XCTAssertGreaterThan(result.gflops, 0)
            }
        }
        let config = try ModelConfig(nLayers: 1, dModel: 16, nHeads: 2, dMLP: 32)
        let shapes = SgemmCheck.shapes(config: config, gamesPerShard: 2, forwardGames: 3)
        XCTAssertEqual(Set(shapes).count, shapes.count, "distinct")
        XCTAssertTrue(shapes.contains(SgemmCheck.Shape(m: 2 * 59, n: 32, k: 16)), "training W_in")
        XCTAssertTrue(shapes.contains(SgemmCheck.Shape(transA: true, m: 32, n: 16, k: 2 * 59)), "training dW_out")
        XCTAssertTrue(shapes.contains(SgemmCheck.Shape(m: 59, n: 59, k: 8)), "attention scores")
        XCTAssertTrue(shapes.contains(SgemmCheck.Shape(m: 3 * 59, n: 61, k: 16, beta: 1)), "forward unembedding, from the bias")
        XCTAssertTrue(shapes.contains(SgemmCheck.Shape(m: 59, n: 59, k: 8, alpha: 1 / Float(8).squareRoot())), "forward attention scores")
        XCTAssertTrue(shapes.allSatisfy { SgemmCheck.run($0, threads: 2).passed })
    }
}
