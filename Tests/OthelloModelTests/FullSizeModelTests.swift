import Foundation
import OthelloModel
import WorkbenchSupport
import XCTest

/// The full Othello-GPT shape (8 layers, d_model 512, 8 heads, d_mlp 2048) with random weights:
/// shapes and invariants that hold for any weights.
final class FullSizeModelTests: XCTestCase {
    func testShapesAndInvariantsOfTheFullModel() throws {
        let config = ModelConfig.othelloGPT
        let model = HookedTransformer.random(config: config, seed: 11, std: 0.05)
        var rng = SeededRandom(seed: 5)
        var tokens = (0..<(2 * 59)).map { _ in Int32(1 + rng.next(below: 60)) }
        let cache = try model.runWithCache(tokens: tokens, games: 2, positions: 59, filter: .all)
        XCTAssertEqual(cache.names.count, 2 + 8 * 18 + 4)
        XCTAssertEqual(cache.logits?.shape, [2, 59, 61])
        XCTAssertEqual(cache["blocks.7.attn.hook_q"]?.shape, [2, 59, 8, 64])
        XCTAssertEqual(cache["blocks.7.attn.hook_pattern"]?.shape, [2, 8, 59, 59])
        XCTAssertEqual(cache["blocks.7.attn.hook_result"]?.shape, [2, 59, 8, 512])
        XCTAssertEqual(cache["blocks.7.mlp.hook_post"]?.shape, [2, 59, 2048])
        XCTAssertEqual(cache["ln_final.hook_scale"]?.shape, [2, 59, 1])

        // Attention is causal: pattern rows sum to 1 with nothing above the diagonal; scores are -inf there.
        let pattern = cache["blocks.4.attn.hook_pattern"]!
        let scores = cache["blocks.4.attn.hook_attn_scores"]!
        for row in stride(from: 0, to: pattern.count, by: 59) {
            let query = (row / 59) % 59
            XCTAssertEqual(pattern.values[row..<(row + 59)].reduce(0, +), 1, accuracy: 1e-5)
            XCTAssertTrue(pattern.values[(row + query + 1)..<(row + 59)].allSatisfy { $0 == 0 })
            XCTAssertTrue(scores.values[(row + query + 1)..<(row + 59)].allSatisfy { $0 == -.infinity })
        }
        // LNPre output has zero mean and unit root-mean-square (up to eps) in every row.
        let normalized = cache["blocks.2.ln2.hook_normalized"]!
        for row in stride(from: 0, to: normalized.count, by: 512) {
            let x = normalized.values[row..<(row + 512)]
            XCTAssertEqual(x.reduce(0, +) / 512, 0, accuracy: 1e-4)
            XCTAssertEqual((x.reduce(0) { $0 + $1 * $1 } / 512).squareRoot(), 1, accuracy: 1e-3)
        }
        // The residual stream adds up: resid_post = resid_mid + mlp_out = resid_pre + attn_out + mlp_out.
        let pre = cache["blocks.5.hook_resid_pre"]!, attn = cache["blocks.5.hook_attn_out"]!
        let mlp = cache["blocks.5.hook_mlp_out"]!, post = cache["blocks.5.hook_resid_post"]!
        for i in stride(from: 0, to: post.count, by: 97) {
            XCTAssertEqual(post.values[i], pre.values[i] + attn.values[i] + mlp.values[i], accuracy: 1e-4)
        }
        // The per-head results add up to attn_out minus b_O.
        let result = cache["blocks.3.attn.hook_result"]!, out = cache["blocks.3.hook_attn_out"]!
        let bias = model.parameters.tensor("blocks.3.attn.b_O")
        for r in stride(from: 0, to: 2 * 59, by: 13) {
            for c in stride(from: 0, to: 512, by: 31) {
                let sum = (0..<8).reduce(Float(0)) { $0 + result.values[(r * 8 + $1) * 512 + c] }
                XCTAssertEqual(sum + bias.values[c], out.values[r * 512 + c], accuracy: 1e-4)
            }
        }
        // Changing move 30 of game 0 leaves every earlier position's logits exactly as they were.
        tokens[30] = tokens[30] % 60 + 1
        let changed = try model.logits(tokens: tokens, games: 2, positions: 59)
        let before = try model.logits(tokens: tokens.enumerated().map { $0.offset == 30 ? Int32((Int($0.element) + 58) % 60 + 1) : $0.element },
                                      games: 2, positions: 59)
        XCTAssertTrue(Array(changed.values[0..<(30 * 61)]) == Array(before.values[0..<(30 * 61)]))
        XCTAssertFalse(Array(changed.values[(30 * 61)..<(31 * 61)]) == Array(before.values[(30 * 61)..<(31 * 61)]))
    }

    func testTrainingArenaSizeAndLayout() {
        let arena = ActivationArena(config: .othelloGPT, maxBatch: 2, mode: .training)
        XCTAssertEqual(arena.layers.count, 8)
        // Distinct layers get distinct memory.
        XCTAssertNotEqual(arena.layer(0).residPost, arena.layer(1).residPost)
        XCTAssertGreaterThan(arena.byteCount, 8 * 2 * 59 * (11 * 512 + 2 * 2048) * 4)
    }
}
