import Foundation
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport

/// Every MLP neuron's weights read in the bases the atlas shows (ARENA's neuron deep-dive, Othelloscope): its output
/// row through the unembedding — the direct effect of one unit of activation on each move's logit, as a board — and
/// its input and output directions' cosines with a linear probe's per-square directions (mine − theirs and empty).
///
/// The input direction is the neuron's `W_in` column, read against the probe of the residual stream the MLP reads
/// (`blocks.L.hook_resid_mid`); the output direction is its `W_out` row, against the probe of what it writes into
/// (`blocks.L.hook_resid_post`). A layer without the probe it needs gets no cosines (empty arrays).
///
///     let weights = try NeuronWeights.compute(model: model, probes: probesByHook)
///     weights.logitEffect[5][421 * 64 + 37]     // neuron L5N421's direct effect on the logit of square 37
public struct NeuronWeights: Codable, Sendable {
    public var layers: Int
    public var neurons: Int
    /// Per layer, `[neuron][square]` flattened: `W_out[n] · W_U[:, token(square)]`; 0 at the four centre squares,
    /// which are never moves.
    public var logitEffect: [[Float]]
    /// Per layer, `[neuron][square]` flattened: cosines of the input (`W_in[:, n]`) and output (`W_out[n]`) directions
    /// with the probe's unit mine − theirs and empty directions of each square.
    public var inputMineTheirs: [[Float]]
    public var inputEmpty: [[Float]]
    public var outputMineTheirs: [[Float]]
    public var outputEmpty: [[Float]]

    /// `probes`: linear probes of the board by hook (resid_mid and resid_post of each layer, as the study's probes/
    /// folder has them).
    public static func compute(model: HookedTransformer, probes: [HookPoint: Probe] = [:]) throws -> NeuronWeights {
        let config = model.config, L = config.nLayers, M = config.dMLP, d = config.dModel, V = config.dVocab
        let layout = model.parameters.layout, base = model.parameters.base
        var result = NeuronWeights(layers: L, neurons: M, logitEffect: [], inputMineTheirs: [], inputEmpty: [], outputMineTheirs: [], outputEmpty: [])
        func directions(_ point: HookPoint) throws -> ProbeDirections? {
            guard let probe = probes[point], probe.kind == .linear, probe.basis.isBoard, probe.inputWidth == d else { return nil }
            return try ProbeDirections(probe: probe, mode: probe.modes.firstIndex(of: .all) ?? 0)
        }
        for l in 0..<L {
            let wIn = base + layout.blocks[l].W_in, wOut = base + layout.blocks[l].W_out
            // Direct logit effect: W_out [M, d] · W_U [d, V], then by square.
            var logits = [Float](repeating: 0, count: M * V)
            logits.withUnsafeMutableBufferPointer { Matmul.gemm(m: M, n: V, k: d, a: wOut, lda: d, b: base + layout.W_U, ldb: V, c: $0.baseAddress!, ldc: V) }
            var effect = [Float](repeating: 0, count: M * 64)
            for n in 0..<M { for s in Vocabulary.squares { effect[n * 64 + s] = logits[n * V + Vocabulary.tokenUnchecked(forSquare: s)] } }
            result.logitEffect.append(effect)
            // Cosines: [64 squares × d] directions against each neuron's unit input column / output row.
            var inputNorm = [Float](repeating: 0, count: M), outputNorm = [Float](repeating: 0, count: M)
            for i in 0..<d { for n in 0..<M { inputNorm[n] += wIn[i * M + n] * wIn[i * M + n] } }
            for n in 0..<M { for i in 0..<d { outputNorm[n] += wOut[n * d + i] * wOut[n * d + i] } }
            func cosines(_ rows: [[Float]], input: Bool) -> [Float] {
                var out = [Float](repeating: 0, count: M * 64)
                for n in 0..<M {
                    let norm = (input ? inputNorm[n] : outputNorm[n]).squareRoot()
                    guard norm > 0 else { continue }
                    for s in 0..<64 {
                        var dot: Float = 0
                        for i in 0..<d { dot += rows[s][i] * (input ? wIn[i * M + n] : wOut[n * d + i]) }
                        out[n * 64 + s] = dot / norm
                    }
                }
                return out
            }
            let read = try directions(HookPoint(.residMid, layer: l)), written = try directions(HookPoint(.residPost, layer: l))
            result.inputMineTheirs.append(read.map { cosines($0.mineMinusTheirs, input: true) } ?? [])
            result.inputEmpty.append(read.map { cosines($0.empty, input: true) } ?? [])
            result.outputMineTheirs.append(written.map { cosines($0.mineMinusTheirs, input: false) } ?? [])
            result.outputEmpty.append(written.map { cosines($0.empty, input: false) } ?? [])
        }
        return result
    }
}
