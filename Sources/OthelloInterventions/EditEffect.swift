import Foundation
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport

/// What an edit changes downstream, at the edited position: every component's output before and after, read
/// through the unembedding on the moves whose legality the edit changed (direct logit attribution of the change),
/// the size of the change of the residual stream per layer, and the later layers' probe readings.
///
/// The attribution of a change `Δ` (a `d_model` vector) is TransformerLens' `logit_attrs` of it: centred, divided
/// by the edited run's `ln_final.hook_scale` (times `ln_final.w` in models with layer-norm weights), times `W_U`, averaged over the moves that became legal minus the
/// average over the moves that stopped being legal. Positive: the component moves the logits towards the edited
/// board's legal moves.
public struct EditEffect: Codable, Sendable {
    public var cases: Int
    /// Per layer: the attribution of the change of `attn_out`, of each head's `hook_result` (`[layer][head]`), and of
    /// `mlp_out`.
    public var attention: [Double]
    public var heads: [[Double]]
    public var mlp: [Double]
    /// Per layer: |Δ resid_post| at the edited position, and |resid_post| there before the edit (for scale).
    public var residualChange: [Double]
    public var residualNorm: [Double]
    /// The same attribution of the total change of the final residual stream (the sum of everything downstream).
    public var total: Double
    /// Per resid_post hook with a probe: its mean probability of the square's edited state before and after.
    public var readingBefore: [String: Double]
    public var readingAfter: [String: Double]
}

extension InterventionStudy {
    /// The effect of `plan` averaged over the cases `indices` (all by default).
    public func effect(of plan: EditPlan, cases indices: [Int]? = nil) throws -> EditEffect {
        let config = model.config
        let (L, H, C) = (config.nLayers, config.nHeads, config.dModel)
        let indices = indices ?? Array(cases.indices)
        guard !indices.isEmpty else { throw WorkbenchError("no cases to show") }
        var effect = EditEffect(cases: indices.count, attention: Array(repeating: 0, count: L), heads: Array(repeating: Array(repeating: 0, count: H), count: L),
                                mlp: Array(repeating: 0, count: L), residualChange: Array(repeating: 0, count: L),
                                residualNorm: Array(repeating: 0, count: L), total: 0, readingBefore: [:], readingAfter: [:])
        var points = LogitAttribution.cachedPoints
        for l in 0..<L { points += [HookPoint(.attnOut, layer: l), HookPoint(.result, layer: l), HookPoint(.mlpOut, layer: l), HookPoint(.residPost, layer: l)] }
        let readers = self.readers
        for start in stride(from: 0, to: indices.count, by: batchSize) {
            let chosen = Array(indices[start..<min(start + batchSize, indices.count)])
            let batch = chosen.map { cases[$0] }
            let (tokens, T) = Self.tokens(of: batch)
            let readingsBefore = Recorder(points: readers.map(\.point), cases: cases.count)
            let readingsAfter = Recorder(points: readers.map(\.point), cases: cases.count)
            let before = try model.runWithCache(tokens: tokens, games: batch.count, positions: T, points: points,
                                                hooks: readHooks(cases: batch, indices: chosen, into: readingsBefore))
            let after = try model.runWithCache(tokens: tokens, games: batch.count, positions: T, points: points,
                                               hooks: try editHooks(plan, cases: batch) + readHooks(cases: batch, indices: chosen, into: readingsAfter))
            let dla = try LogitAttribution(model: model, cache: after)
            for (row, c) in batch.enumerated() {
                let p = c.position
                let gained = Bitboard.squares(c.legalAfter & ~c.legalBefore).map(Vocabulary.tokenUnchecked(forSquare:))
                let lost = Bitboard.squares(c.legalBefore & ~c.legalAfter).map(Vocabulary.tokenUnchecked(forSquare:))
                /// The attribution of the difference of one `C`-vector at `offset` in two tensors, read with the
                /// edited run's final scale: towards the moves that became legal, away from those that stopped.
                func attribution(_ a: Tensor, _ b: Tensor, offset: Int) -> Double {
                    let delta = (0..<C).map { b.values[offset + $0] - a.values[offset + $0] }
                    let logits = dla.logitAttributions(delta, game: row, position: p, tokens: gained + lost)[0]
                    let up = gained.isEmpty ? 0 : logits[..<gained.count].reduce(0, +) / Double(gained.count)
                    let down = lost.isEmpty ? 0 : logits[gained.count...].reduce(0, +) / Double(lost.count)
                    return up - down
                }
                let n = Double(indices.count)
                for l in 0..<L {
                    let at = (row * T + p) * C
                    func both(_ kind: HookPoint.Kind) throws -> (Tensor, Tensor) {
                        (try before.tensor(HookPoint(kind, layer: l)), try after.tensor(HookPoint(kind, layer: l)))
                    }
                    let (attnBefore, attnAfter) = try both(.attnOut), (mlpBefore, mlpAfter) = try both(.mlpOut)
                    let (resultBefore, resultAfter) = try both(.result), (x, y) = try both(.residPost)
                    effect.attention[l] += attribution(attnBefore, attnAfter, offset: at) / n
                    effect.mlp[l] += attribution(mlpBefore, mlpAfter, offset: at) / n
                    for h in 0..<H {
                        effect.heads[l][h] += attribution(resultBefore, resultAfter, offset: ((row * T + p) * H + h) * C) / n
                    }
                    effect.residualChange[l] += Double((0..<C).reduce(Float(0)) { $0 + pow(y.values[at + $1] - x.values[at + $1], 2) }.squareRoot()) / n
                    effect.residualNorm[l] += Double((0..<C).reduce(Float(0)) { $0 + pow(x.values[at + $1], 2) }.squareRoot()) / n
                }
                let final = HookPoint(.residPost, layer: L - 1)
                effect.total += attribution(try before.tensor(final), try after.tensor(final), offset: (row * T + p) * C) / n
            }
            for reader in readers {
                for (recorder, into) in [(readingsBefore, \EditEffect.readingBefore), (readingsAfter, \EditEffect.readingAfter)] {
                    let values = recorder.reading[reader.point]!
                    effect[keyPath: into][reader.point.name, default: 0] += chosen.map { Double(values[$0]) }.reduce(0, +) / Double(indices.count)
                }
            }
        }
        return effect
    }
}
