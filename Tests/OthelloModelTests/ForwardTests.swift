import Foundation
import OthelloModel
import WorkbenchSupport
import XCTest

final class ForwardTests: XCTestCase {
    func testErfFastMatchesErf() {
        var worst: Float = 0
        var x: Float = -6
        while x <= 6 {
            worst = max(worst, abs(Kernels.erfFast(x) - Float(erf(Double(x)))))
            x += 0.001
        }
        XCTAssertLessThan(worst, 5e-7)
    }

    func testExpFastMatchesExp() {
        var worst: Double = 0
        var x: Float = -87
        while x <= 88 {
            worst = max(worst, abs(Double(Kernels.expFast(x)) / exp(Double(x)) - 1))
            x += 0.0137
        }
        XCTAssertLessThan(worst, 3e-7)
        XCTAssertEqual(Kernels.expFast(0), 1)
    }

    func testBFloat16SafetensorsLogitsMatchTransformerLens() throws {
        let model = try HookedTransformer.load(from: Fixtures.url("tl_lnpre_bf16.safetensors"))
        XCTAssertEqual(model.config.nLayers, 2)
        XCTAssertEqual(model.config.nHeads, 4)
        XCTAssertEqual(model.config.dMLP, 128)
        XCTAssertEqual(model.config.normalizationType, .LNPre)
        let expected = try Fixtures.tensors("tl_lnpre_bf16_logits.safetensors").tensor("logits")
        assertClose(try fixtureLogits(model), expected, "logits")
    }

    func testTrainingArenaKeepsEveryLayerAndMatchesInference() throws {
        let model = HookedTransformer.random(config: try ModelConfig(nLayers: 3, dModel: 32, nHeads: 4, dMLP: 64), seed: 3, std: 0.3)
        var rng = SeededRandom(seed: 9)
        let tokens = (0..<(4 * 59)).map { _ in Int32(rng.next(below: 61)) }
        let training = ActivationArena(config: model.config, maxBatch: 4, mode: .training)
        let inference = ActivationArena(config: model.config, maxBatch: 8, mode: .inference)
        try model.forward(tokens: tokens, batch: 4, positions: 59, into: training)
        try model.forward(tokens: tokens, batch: 4, positions: 59, into: inference)
        XCTAssertEqual(training.layers.count, 3)
        XCTAssertEqual(inference.layers.count, 1)
        let count = 4 * 59 * 61
        XCTAssertEqual(Array(UnsafeBufferPointer(start: training.logits, count: count)),
                       Array(UnsafeBufferPointer(start: inference.logits, count: count)))
        // Block 1's input is block 0's output.
        let residual = 4 * 59 * 32
        XCTAssertEqual(Array(UnsafeBufferPointer(start: training.layer(1).residPre, count: residual)),
                       Array(UnsafeBufferPointer(start: training.layer(0).residPost, count: residual)))
    }

    func testLargeBatchesGiveTheSameActivationsAsSmallOnes() throws {
        // Large batches take other code paths (packed q/k/v weights); every game must come out the same.
        let model = try HookedTransformer.load(from: Fixtures.url("tl_lnpre.pth"))
        let tokens = try Fixtures.tokens()
        let many = (0..<6).flatMap { _ in tokens }          // 12 games, 708 rows
        let big = try model.runWithCache(tokens: many, games: 12, positions: 59, filter: HookFilter { $0.kind == .q || $0.kind == .v })
        let small = try model.runWithCache(tokens: tokens, games: 2, positions: 59, filter: HookFilter { $0.kind == .q || $0.kind == .v },
                                           options: .init(batchSize: 1))
        for name in small.names {
            for game in 0..<12 {
                assertClose(big[name]!.slice(game), small[name]!.slice(game % 2), tolerance: 1e-5, "\(name) game \(game)")
            }
        }
        for game in 0..<12 {
            assertClose(big.logits!.slice(game), small.logits!.slice(game % 2), tolerance: 1e-5, "logits game \(game)")
        }
    }

    func testParameterLayoutNamesAndShapes() throws {
        let layout = ParameterLayout(config: .othelloGPT)
        XCTAssertEqual(layout["embed.W_E"]?.shape, [61, 512])
        XCTAssertEqual(layout["pos_embed.W_pos"]?.shape, [59, 512])
        XCTAssertEqual(layout["blocks.7.attn.W_Q"]?.shape, [8, 512, 64])
        XCTAssertEqual(layout["blocks.7.attn.b_Q"]?.shape, [8, 64])
        XCTAssertEqual(layout["blocks.0.attn.W_O"]?.shape, [8, 64, 512])
        XCTAssertEqual(layout["blocks.0.mlp.W_in"]?.shape, [512, 2048])
        XCTAssertEqual(layout["unembed.W_U"]?.shape, [512, 61])
        XCTAssertNil(layout["blocks.0.ln1.w"])
        XCTAssertEqual(layout.blocks[7].W_Q, layout["blocks.7.attn.W_Q"]?.offset)
        // The entries tile the buffer exactly.
        var next = 0
        for entry in layout.entries {
            XCTAssertEqual(entry.offset, next)
            next += entry.count
        }
        XCTAssertEqual(next, layout.count)
        XCTAssertEqual(layout.count, 25_295_421, "Othello-GPT parameter count (TL, LNPre)")
    }

    func testConfigValidation() {
        XCTAssertThrowsError(try ModelConfig(nLayers: 2, dModel: 30, nHeads: 4, dMLP: 64)) { error in
            XCTAssertTrue("\(error)".contains("not divisible by n_heads"))
        }
        XCTAssertThrowsError(try ModelConfig(nLayers: 0, dModel: 32, nHeads: 4, dMLP: 64))
    }
}

/// An attention-only model (TransformerLens `attn_only=True`) against TransformerLens' own outputs
/// (`scripts/make_attn_only_fixture.py`).
final class AttentionOnlyModelTests: XCTestCase {
    func testAttentionOnlyModelMatchesTransformerLens() throws {
        let file = try Fixtures.tensors("tl_attn_only.safetensors")
        var weights: [String: Tensor] = [:]
        for name in file.names where name != "tokens" && name != "logits" && !name.hasPrefix("cache.") { weights[name] = try file.tensor(name) }
        let model = try HookedTransformer(stateDict: StateDict(source: "tl_attn_only.safetensors", tensors: weights))
        XCTAssertTrue(model.config.attnOnly)
        XCTAssertEqual(model.config.dMLP, 0)
        XCTAssertEqual(model.config.shapeDescription, "2 layers, d_model 32, 4 heads, attention only")
        let tokens = try file.tensor("tokens").values.map { Int32($0) }
        let points = ["blocks.0.hook_resid_post", "blocks.1.attn.hook_pattern", "blocks.1.hook_attn_out", "blocks.1.hook_resid_post"]
        let cache = try model.runWithCache(tokens: tokens, games: 3, positions: 10, names: points)
        assertClose(cache.logits!, try file.tensor("logits"), tolerance: 2e-4, "logits")
        for name in points { assertClose(cache[try HookPoint(name: name)]!, try file.tensor("cache." + name), tolerance: 2e-4, name) }
        // No MLP hooks, as TransformerLens has none; asking for one is an error, not zeros.
        XCTAssertFalse(HookPoint.all(config: model.config).contains { $0.name.contains("mlp") || $0.name.contains("resid_mid") })
        // Saved and read back (the config in the metadata says attention-only; older configs without the key read as full blocks).
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("attn-only-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.save(to: url)
        let back = try HookedTransformer.load(from: url)
        XCTAssertEqual(back.config, model.config)
        let old = #"{"nLayers":1,"dModel":8,"nHeads":2,"dHead":4,"dMLP":16,"dVocab":61,"nCtx":59,"actFn":"gelu","normalizationType":"LNPre","eps":1e-05}"#
        XCTAssertFalse(try JSONDecoder().decode(ModelConfig.self, from: Data(old.utf8)).attnOnly)
    }
}
