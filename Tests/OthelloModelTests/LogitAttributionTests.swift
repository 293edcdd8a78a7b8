import Foundation
import OthelloModel
import WorkbenchSupport
import XCTest

/// Direct logit attribution on the cache (`LogitAttribution`, `decomposeResidual`, `accumulatedResidual`,
/// `stackHeadResults`): identities any correct attribution satisfies, the three call sites' former formula, and
/// TransformerLens' own `logit_attrs` where its fixture is present.
final class LogitAttributionTests: XCTestCase {
    /// Small models with and without layer-norm weights (the published LNPre layout and the trained LN one).
    func models() throws -> [HookedTransformer] {
        [try HookedTransformer.load(from: Fixtures.url("tl_lnpre.pth")),
         HookedTransformer.random(config: try ModelConfig(nLayers: 2, dModel: 32, nHeads: 4, dMLP: 64, normalizationType: .LN), seed: 5, std: 0.3)]
    }

    /// The attributions of the decomposed final residual stream sum to the logits minus the constant terms
    /// (`b_U`, and `ln_final.b · W_U` in LN models): the classic check of TransformerLens' tutorials.
    func testDecomposedResidualAttributionsSumToTheLogits() throws {
        for model in try models() {
            let config = model.config, V = config.dVocab
            let cache = try model.runWithCache(tokens: try Fixtures.tokens(), games: 2, positions: 59, filter: .all)
            let dla = try LogitAttribution(model: model, cache: cache)
            let logits = try cache.logitValues()
            let w = model.parameters, C = config.dModel
            let constant = (0..<V).map { token -> Double in
                var total = Double(w.base[w.layout.b_U + token])
                if let b = w.layout.lnFinal_b { for i in 0..<C { total += Double(w.base[b + i] * w.base[w.layout.W_U + i * V + token]) } }
                return total
            }
            for (game, position) in [(0, 58), (1, 39), (1, 0)] {
                let (labels, stack) = try cache.decomposeResidual(game: game, position: position, config: config)
                XCTAssertEqual(labels.count, 2 + 2 * config.nLayers)
                XCTAssertEqual(labels.prefix(3), ["embed", "pos_embed", "0_attn_out"])
                // The components sum to resid_post of the last block; with the final one of accumulatedResidual too.
                let accumulated = try cache.accumulatedResidual(game: game, position: position, config: config)
                XCTAssertEqual(accumulated.labels.last, "final_post")
                XCTAssertEqual(accumulated.labels.count, config.nLayers + 1)
                let final = Array(accumulated.stack.suffix(C))
                for i in 0..<C {
                    let sum = stride(from: i, to: stack.count, by: C).reduce(Float(0)) { $0 + stack[$1] }
                    XCTAssertEqual(sum, final[i], accuracy: 1e-4)
                }
                let attributions = dla.logitAttributions(stack, game: game, position: position)
                let whole = dla.logitAttributions(final, game: game, position: position)[0]
                for token in 0..<V {
                    let sum = attributions.reduce(0) { $0 + $1[token] }
                    let expected = Double(logits[(game * 59 + position) * V + token]) - constant[token]
                    XCTAssertEqual(sum, expected, accuracy: 1e-3, "\(labels) token \(token)")
                    XCTAssertEqual(whole[token], expected, accuracy: 1e-3)
                }
            }
        }
    }

    /// The heads' results sum to attn_out minus b_O, and each head's attribution is the former call sites'
    /// formula (centre, divide by the cached scale, times ln_final.w, dot W_U) — what `attribution`,
    /// the edit effects and the circuit computed before they shared it.
    func testHeadResultsAndTheFormerFormula() throws {
        for model in try models() {
            let config = model.config
            let (L, H, C, V) = (config.nLayers, config.nHeads, config.dModel, config.dVocab)
            let cache = try model.runWithCache(tokens: try Fixtures.tokens(), games: 2, positions: 59, filter: .all)
            let dla = try LogitAttribution(model: model, cache: cache)
            let w = model.parameters
            let (game, position) = (1, 20)
            let (labels, stack) = try cache.stackHeadResults(game: game, position: position, config: config)
            XCTAssertEqual(labels.count, L * H)
            XCTAssertEqual(labels[H + 1], "L1H1")
            let attnOut = try cache.values(HookPoint(.attnOut, layer: 1))
            for i in 0..<C {
                let sum = (0..<H).reduce(Float(0)) { $0 + stack[(H + $1) * C + i] } + w.base[w.layout.blocks[1].b_O + i]
                XCTAssertEqual(sum, attnOut[(game * 59 + position) * C + i], accuracy: 1e-4)
            }
            let scale = try cache.values(HookPoint(.lnFinalScale))[game * 59 + position]
            let tokens = [3, 17, 60]
            let attributions = dla.logitAttributions(stack, game: game, position: position, tokens: tokens)
            for row in 0..<(L * H) {
                let v = Array(stack[(row * C)..<((row + 1) * C)])
                let mean = v.reduce(0, +) / Float(C)
                let lnWeight = w.layout.lnFinal_w.map { w.base + $0 }
                let formula = (0..<C).map { (v[$0] - mean) / scale * (lnWeight?[$0] ?? 1) }
                for (k, token) in tokens.enumerated() {
                    let expected = Double((0..<C).reduce(Float(0)) { $0 + formula[$1] * w.base[w.layout.W_U + $1 * V + token] })
                    XCTAssertEqual(attributions[row][k], expected, accuracy: 1e-6)
                }
                XCTAssertEqual(dla.meanLogitAttribution(v, game: game, position: position, tokens: tokens),
                               attributions[row].reduce(0, +) / 3, accuracy: 1e-9)
            }
            XCTAssertEqual(dla.meanLogitAttribution(Array(stack.prefix(C)), game: game, position: position, tokens: []), 0)
        }
    }

    /// A hand-worked case: d_model 2, the vector (3, 1) centres to (1, −1); with the run's final scale s and no
    /// layer-norm weight it reads (1/s, −1/s), so a token whose unembedding column is (4, 2) gets (4 − 2)/s = 2/s.
    func testHandWorkedCase() throws {
        let config = try ModelConfig(nLayers: 1, dModel: 2, nHeads: 1, dMLP: 2, dVocab: 2, nCtx: 1)
        let model = HookedTransformer.random(config: config, seed: 1)
        let w = model.parameters
        for (i, value) in [Float(4), 0, 2, 0].enumerated() { w.base[w.layout.W_U + i] = value }   // W_U [2, 2], column 0 = (4, 2)
        let cache = try model.runWithCache(tokens: [1], games: 1, positions: 1, filter: .all)
        let scale = try cache.values(HookPoint(.lnFinalScale))[0]
        let dla = try LogitAttribution(model: model, cache: cache)
        XCTAssertEqual(dla.applyFinalLayerNorm([3, 1], game: 0, position: 0), [1 / scale, -1 / scale])
        XCTAssertEqual(dla.logitAttributions([3, 1], game: 0, position: 0, tokens: [0])[0][0], Double(2 / scale), accuracy: 1e-6)
    }
}
