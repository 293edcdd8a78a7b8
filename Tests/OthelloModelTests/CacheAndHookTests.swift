import Foundation
import OthelloModel
import WorkbenchSupport
import XCTest

/// Every activation of run_with_cache against TransformerLens 3.9, and the hook mechanism.
final class CacheAndHookTests: XCTestCase {
    func testEveryCachedActivationMatchesTransformerLens() throws {
        let model = try HookedTransformer.load(from: Fixtures.url("tl_lnpre.pth"))
        let reference = try Fixtures.tensors("tl_lnpre_activations.safetensors")
        // Batch size 1 also checks that batching does not change anything.
        let cache = try model.runWithCache(tokens: Fixtures.tokens(), games: 2, positions: 59, filter: .all,
                                           options: .init(batchSize: 1))
        var checked = 0
        for name in reference.names where name != "logits" {
            guard let mine = cache[name] else { XCTFail("not cached: \(name)"); continue }
            let expected = try reference.tensor(name)
            if name.hasSuffix("hook_attn_scores") {
                // Masked entries are -inf in both.
                XCTAssertEqual(zip(mine.values, expected.values).filter { $0 == -.infinity || $1 == -.infinity }.count,
                               zip(mine.values, expected.values).filter { $0 == -.infinity && $1 == -.infinity }.count, name)
            }
            assertClose(mine, expected, name)
            checked += 1
        }
        XCTAssertEqual(checked, 2 + 2 * 17 + 2 + 1, "every hook of a 2-layer model, and blocks.1.attn.hook_result")
        assertClose(cache.logits!, try reference.tensor("logits"), "logits")
        assertClose(cache["unembed.hook_out"]!, try reference.tensor("logits"), "unembed.hook_out")
        assertClose(cache["unembed.hook_in"]!, try reference.tensor("ln_final.hook_normalized"), "unembed.hook_in")
        XCTAssertEqual(Set(cache.names), Set(HookPoint.all(config: model.config, includeResult: true).map(\.name)))
    }

    /// A cache is written in place by the pass, which fuses the attention kernels where no hook looks; a hook that
    /// only reads the scores or pattern takes the step-by-step path. Both must give the same activations.
    func testHooksOnAttentionDoNotChangeTheCache() throws {
        let model = try HookedTransformer.load(from: Fixtures.url("tl_lnpre.pth"))
        let plain = try model.runWithCache(tokens: Fixtures.tokens(), games: 2, positions: 59, filter: .all)
        var seen = 0
        let readers = try [Hook(.actName("attn_scores", 0)) { _ in seen += 1 }, Hook(.actName("pattern", 1)) { _ in seen += 1 }]
        let hooked = try model.runWithCache(tokens: Fixtures.tokens(), games: 2, positions: 59, filter: .all, hooks: readers)
        XCTAssertEqual(seen, 2)
        for name in plain.names {
            XCTAssertEqual(plain[name]!.maxAbsDifference(hooked[name]!), 0, name)
        }
        XCTAssertEqual(plain.logits, hooked.logits)
    }

    func testCacheHoldsOnlyWhatWasAskedAndStopsAtLayer() throws {
        let model = try HookedTransformer.load(from: Fixtures.url("tl_lnpre.pth"))
        let reference = try Fixtures.tensors("tl_lnpre_activations.safetensors")
        let cache = try model.runWithCache(tokens: Fixtures.tokens(), games: 2, positions: 59,
                                           filter: HookFilter { $0.kind == .residPost }, options: .init(stopAtLayer: 1))
        XCTAssertEqual(cache.names, ["blocks.0.hook_resid_post"])
        XCTAssertNil(cache.logits)
        assertClose(cache["blocks.0.hook_resid_post"]!, try reference.tensor("blocks.0.hook_resid_post"), "resid_post 0")
        let patterned = try model.runWithCache(tokens: Fixtures.tokens(), games: 2, positions: 59,
                                               filter: try .patterns(["blocks.*.attn.hook_pattern"], config: model.config))
        XCTAssertEqual(patterned.names, ["blocks.0.attn.hook_pattern", "blocks.1.attn.hook_pattern"])
        XCTAssertThrowsError(try HookFilter.patterns(["blocks.*.hook_nothing"], config: model.config))
    }

    func testActNameFollowsTransformerLens() throws {
        XCTAssertEqual(try HookPoint.actName("resid_post", 6).name, "blocks.6.hook_resid_post")
        XCTAssertEqual(try HookPoint.actName("pattern", 3).name, "blocks.3.attn.hook_pattern")
        XCTAssertEqual(try HookPoint.actName("post", 5).name, "blocks.5.mlp.hook_post")
        XCTAssertEqual(try HookPoint.actName("scale", 2, "ln1").name, "blocks.2.ln1.hook_scale")
        XCTAssertEqual(try HookPoint.actName("scale").name, "ln_final.hook_scale")
        XCTAssertEqual(try HookPoint.actName("embed").name, "hook_embed")
        XCTAssertEqual(try HookPoint.actName("attn", 1).name, "blocks.1.attn.hook_pattern")
        XCTAssertEqual(try HookPoint.actName("pattern3").name, "blocks.3.attn.hook_pattern")
        XCTAssertEqual(try HookPoint.actName("normalized2ln2").name, "blocks.2.ln2.hook_normalized")
        XCTAssertEqual(try HookPoint.actName("blocks.0.attn.hook_q").name, "blocks.0.attn.hook_q")
        XCTAssertThrowsError(try HookPoint(name: "blocks.0.hook_nonsense"))
    }

    func testReplacingAnActivationChangesTheRestOfThePassOnly() throws {
        let model = try HookedTransformer.load(from: Fixtures.url("tl_lnpre.pth"))
        let tokens = try Fixtures.tokens()
        let clean = try model.runWithCache(tokens: tokens, games: 2, positions: 59, filter: HookFilter { $0.kind != .result })
        // Zero resid_mid of layer 1 at position 10: logits change at 10 only (later positions read resid_mid
        // only through layer 1's MLP, which is per position).
        let point = try HookPoint.actName("resid_mid", 1)
        let hooked = try model.runWithCache(tokens: tokens, games: 2, positions: 59, filter: HookFilter { $0.kind != .result },
                                            hooks: [Hook.zeroAblation(point, positions: [10])])
        XCTAssertEqual(hooked.names, clean.names)
        XCTAssertEqual(hooked[point]!.slice(0).slice(10).values, [Float](repeating: 0, count: 64))
        let (a, b) = (clean.logits!, hooked.logits!)
        for position in 0..<59 {
            let changed = a.slice(1).slice(position).maxAbsDifference(b.slice(1).slice(position)) > 0
            XCTAssertEqual(changed, position == 10, "position \(position)")
        }
        // Activations before the hook point are untouched.
        XCTAssertTrue(clean["blocks.1.attn.hook_pattern"] == hooked["blocks.1.attn.hook_pattern"])
        // A fresh run without hooks is clean again: hooks do not leak.
        XCTAssertTrue(try model.logits(tokens: tokens, games: 2, positions: 59) == a)
    }

    func testPatchingEveryPositionFromAnotherRunReproducesIt() throws {
        let model = try HookedTransformer.load(from: Fixtures.url("tl_lnpre.pth"))
        let tokens = try Fixtures.tokens()
        let swapped = Array(tokens[59...]) + Array(tokens[..<59])     // game 1, game 0
        let point = try HookPoint.actName("resid_pre", 1)
        let source = try model.runWithCache(tokens: swapped, games: 2, positions: 59, filter: try .names([point.name]))
        let patched = try model.runWithHooks(tokens: tokens, games: 2, positions: 59,
                                             hooks: [try Hook.patch(point, from: source)], options: .init(batchSize: 1))
        assertClose(patched, try model.logits(tokens: swapped, games: 2, positions: 59), tolerance: 1e-5, "patched run")
    }

    func testPatternHookSeesEveryHeadOfAQueryPosition() throws {
        let model = try HookedTransformer.load(from: Fixtures.url("tl_lnpre.pth"))
        let point = try HookPoint.actName("pattern", 0)
        var sums: [Float] = []
        let hook = Hook.positions(point, [5]) { act, game, position in
            for range in act.slices(game: game, position: position) {
                sums.append(act.buffer[range].reduce(0, +))
            }
        }
        _ = try model.runWithHooks(tokens: Fixtures.tokens(), games: 2, positions: 59, hooks: [hook])
        XCTAssertEqual(sums.count, 2 * 4)
        for sum in sums { XCTAssertEqual(sum, 1, accuracy: 1e-5) }
    }

    func testBadTokensAndShapesAreErrors() throws {
        let model = HookedTransformer.random(config: try ModelConfig(nLayers: 1, dModel: 16, nHeads: 2, dMLP: 32), seed: 1)
        XCTAssertThrowsError(try model.logits(tokens: [1, 2, 61], games: 1, positions: 3)) { error in
            XCTAssertTrue("\(error)".contains("token 61"), "\(error)")
        }
        XCTAssertThrowsError(try model.logits(tokens: [1, 2], games: 1, positions: 3))
        XCTAssertThrowsError(try model.logits(tokens: [Int32](repeating: 1, count: 60), games: 1, positions: 60))
    }
}
