import Foundation
import OthelloModel
@testable import OthelloTraining
import XCTest

/// `SgemmCheck`: the active OpenBLAS sgemm against a float64 product, measured against the float32 error bound.
final class SgemmCheckTests: XCTestCase {
    /// The measure by hand: k = 4, so the bound of an entry is 4·2⁻²⁴·scale.
    func testErrorToBoundByHand() {
        // Entry 0: error 2⁻²², bound 4·2⁻²⁴·4 = 2⁻²⁰ → 0.25. Entry 1: exact → 0. Entry 2: scale 0 and exactly 0 → 0.
        let worst = SgemmCheck.worstErrorToBound(computed: [1 + 0x1p-22, -2, 0], exact: [1, -2, 0], scale: [4, 2, 0], k: 4)
        XCTAssertEqual(worst, 0.25)
        // Entry 0 three bounds off: the kernel is wrong.
        XCTAssertEqual(SgemmCheck.worstErrorToBound(computed: [1 + 0x1p-22], exact: [1], scale: [1.0 / 3], k: 4)!, 3, accuracy: 1e-12)
        // Not finite, or not 0 where every term is 0: no ratio (fails).
        XCTAssertNil(SgemmCheck.worstErrorToBound(computed: [.nan], exact: [1], scale: [1], k: 4))
        XCTAssertNil(SgemmCheck.worstErrorToBound(computed: [.infinity], exact: [1], scale: [1], k: 4))
        XCTAssertNil(SgemmCheck.worstErrorToBound(computed: [1e-30], exact: [0], scale: [0], k: 4))
    }

    /// The float64 reference by hand, with A and B stored transposed: op(A) = [[1, 2], [3, 4]], op(B) = [[5, 6], [7, -8]].
    func testFloat64ProductOfTransposedOperands() {
        let shape = SgemmCheck.Shape(transA: true, transB: true, m: 2, n: 2, k: 2)
        let (product, scale) = SgemmCheck.float64Product(shape, a: [1, 3, 2, 4], b: [5, 7, 6, -8])
        XCTAssertEqual(product, [19, -10, 43, -14])
        XCTAssertEqual(scale, [19, 22, 43, 50])
    }

    /// Every transpose combination passes with 1 and 2 threads (a transposition mixed up on either side would be
    /// far over the bound), and the shapes of a small model are those of its training step and forward pass.
    func testActiveKernelPassesOnEveryTransposeAndTheModelsShapes() throws {
        for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] {
            for threads in [1, 2] {
                let result = SgemmCheck.run(SgemmCheck.Shape(transA: transA, transB: transB, m: 37, n: 29, k: 300), threads: threads)
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
        XCTAssertTrue(shapes.contains(SgemmCheck.Shape(m: 3 * 59, n: 61, k: 16)), "forward unembedding")
        XCTAssertTrue(shapes.allSatisfy { SgemmCheck.run($0, threads: 2).passed })
    }
}
