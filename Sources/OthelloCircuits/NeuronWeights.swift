import Foundation
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport

/// The per-square probe directions a unit's weights are read against: a relative-basis board probe's unit
/// mine − theirs and empty directions ("mine" = the player who moves next), a flipped probe's and a legal probe's
/// unit yes − no directions.
public enum ProbeDirectionKind: String, CaseIterable, Codable, Sendable {
    case mineTheirs = "mine_theirs", empty, flipped, legal

    /// The directions of every kind the linear `probes` (of one hook) give, `[64][width]` each.
    public static func directions(of probes: [Probe], width: Int) throws -> [ProbeDirectionKind: [[Float]]] {
        var out: [ProbeDirectionKind: [[Float]]] = [:]
        for probe in probes where probe.kind == .linear && probe.inputWidth == width {
            let mode = probe.modes.firstIndex(of: .all) ?? 0
            switch probe.basis {
            case .relative:
                let d = try ProbeDirections(probe: probe, mode: mode)
                out[.mineTheirs] = d.mineMinusTheirs
                out[.empty] = d.empty
            case .flipped: out[.flipped] = try ProbeDirections(probe: probe, mode: mode).yesMinusNo
            case .legal: out[.legal] = try ProbeDirections(probe: probe, mode: mode).yesMinusNo
            default: continue
            }
        }
        return out
    }

    /// Cosines `[count][64]` (flattened) of `count` vectors of width `d` with 64 unit `directions`: the vectors are
    /// the rows of `vectors` (`[count, d]`), or its columns when `columns` (`[d, count]`). A zero vector gives zeros.
    public static func cosines(of vectors: UnsafePointer<Float>, count: Int, width d: Int, columns: Bool = false, with directions: [[Float]]) -> [Float] {
        let flat = directions.flatMap { $0 }
        precondition(flat.count == 64 * d, "64 directions of width \(d)")
        var out = [Float](repeating: 0, count: count * 64)
        flat.withUnsafeBufferPointer { u in
            out.withUnsafeMutableBufferPointer { o in
                Matmul.gemm(m: count, n: 64, k: d, a: vectors, lda: columns ? count : d, transposeA: columns,
                            b: u.baseAddress!, ldb: d, transposeB: true, c: o.baseAddress!, ldc: 64)
            }
        }
        for n in 0..<count {
            var norm: Float = 0
            for i in 0..<d { let v = columns ? vectors[i * count + n] : vectors[n * d + i]; norm += v * v }
            let scale: Float = norm > 0 ? 1 / norm.squareRoot() : 0
            for s in 0..<64 { out[n * 64 + s] *= scale }
        }
        return out
    }
}

/// Every MLP neuron's weights read in the bases the atlas shows (ARENA's neuron deep-dive, Othelloscope): its output
/// row through the unembedding — the direct effect of one unit of activation on each move's logit, as a board — and
/// its input and output directions' cosines with linear probes' per-square directions (`ProbeDirectionKind`).
///
/// The input direction is the neuron's `W_in` column, read against the probes of the residual stream the MLP reads
/// (`blocks.L.hook_resid_mid`); the output direction is its `W_out` row, against the probes of what it writes into
/// (`blocks.L.hook_resid_post`). A layer without a probe gets no cosines of its kinds.
///
///     let weights = try NeuronWeights.compute(model: model, probes: probesByHook)
///     weights.logitEffect[5][421 * 64 + 37]                // neuron L5N421's direct effect on the logit of square 37
///     weights.output[5][.mineTheirs]?[421 * 64 + 37]       // its output's cosine with E5's mine − theirs direction
public struct NeuronWeights: Sendable {
    public var layers: Int
    public var neurons: Int
    /// Per layer, `[neuron][square]` flattened: `W_out[n] · W_U[:, token(square)]`; 0 at the four centre squares,
    /// which are never moves.
    public var logitEffect: [[Float]]
    /// Per layer and direction kind, `[neuron][square]` flattened cosines of the input (`W_in[:, n]`) and output
    /// (`W_out[n]`) directions.
    public var input: [[ProbeDirectionKind: [Float]]]
    public var output: [[ProbeDirectionKind: [Float]]]

    /// `probes`: linear probes of the board by hook (resid_mid and resid_post of each layer; relative, flipped and
    /// legal bases are used).
    public static func compute(model: HookedTransformer, probes: [HookPoint: [Probe]] = [:]) throws -> NeuronWeights {
        let config = model.config, L = config.nLayers, M = config.dMLP, d = config.dModel
        let layout = model.parameters.layout, base = model.parameters.base
        var result = NeuronWeights(layers: L, neurons: M, logitEffect: [], input: [], output: [])
        for l in 0..<L {
            let wIn = base + layout.blocks[l].W_in, wOut = base + layout.blocks[l].W_out
            result.logitEffect.append(logitEffect(of: wOut, count: M, model: model))
            let read = try ProbeDirectionKind.directions(of: probes[HookPoint(.residMid, layer: l)] ?? [], width: d)
            let written = try ProbeDirectionKind.directions(of: probes[HookPoint(.residPost, layer: l)] ?? [], width: d)
            result.input.append(read.mapValues { ProbeDirectionKind.cosines(of: wIn, count: M, width: d, columns: true, with: $0) })
            result.output.append(written.mapValues { ProbeDirectionKind.cosines(of: wOut, count: M, width: d, with: $0) })
        }
        return result
    }

    /// The direct logit effect `[count][square]` (flattened) of `count` residual-stream directions `[count, d_model]`:
    /// each through `W_U` (no final layer norm, as TransformerLens' `W_out @ W_U`), read at the 60 move squares.
    public static func logitEffect(of vectors: UnsafePointer<Float>, count: Int, model: HookedTransformer) -> [Float] {
        let d = model.config.dModel, V = model.config.dVocab
        var logits = [Float](repeating: 0, count: count * V)
        logits.withUnsafeMutableBufferPointer {
            Matmul.gemm(m: count, n: V, k: d, a: vectors, lda: d, b: model.parameters.base + model.parameters.layout.W_U, ldb: V, c: $0.baseAddress!, ldc: V)
        }
        var effect = [Float](repeating: 0, count: count * 64)
        for n in 0..<count { for s in Vocabulary.squares { effect[n * 64 + s] = logits[n * V + Vocabulary.tokenUnchecked(forSquare: s)] } }
        return effect
    }
}
