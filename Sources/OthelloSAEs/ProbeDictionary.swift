import Foundation
import OthelloProbes
import WorkbenchSupport

/// A "perfect" dictionary, the positive control of the board metrics: an SAE whose features are a linear board
/// probe's own readings — one feature per (square, state), 192 for a relative probe (empty, theirs, mine) — so that
/// Karvonen et al.'s coverage and board reconstruction should score it near the probe's accuracy. Feature
/// `square × 3 + state` is ReLU(logit_state − mean of the square's logits): its encoder column is the probe's
/// weight column for that state minus the square's mean column (and likewise the bias), its decoder row that
/// direction normalised, `b_dec` zero.
///
///     let dictionary = try ProbeDictionary.sae(from: probe)      // then SAEEvaluation.evaluate(dictionary, …)
public enum ProbeDictionary {
    public static func sae(from probe: Probe, mode: Int? = nil) throws -> SparseAutoencoder {
        guard probe.kind == .linear else { throw WorkbenchError("a probe dictionary is made of a linear probe's directions; this probe is \(probe.kind.rawValue)") }
        guard !probe.hook.isEmpty else { throw WorkbenchError("the probe does not record its hook; re-save it with `othello-gpt probe convert --hook H`") }
        let m = mode ?? probe.modes.firstIndex(of: .all) ?? 0
        guard probe.modes.indices.contains(m) else { throw WorkbenchError("the probe has modes 0…\(probe.modes.count - 1)") }
        let d = probe.inputWidth, c = probe.classes, n = 64 * c
        let w = probe.tensor("W", mode: m), b = probe.tensor("b", mode: m)
        var sae = SparseAutoencoder(dIn: d, dSAE: n, kind: .relu(l1: 0), hook: probe.hook, seed: 0)
        let layout = sae.layout
        sae.parameters = [Float](repeating: 0, count: layout.parameterCount)
        for s in 0..<64 {
            for k in 0..<c {
                let f = s * c + k
                var norm: Float = 0
                for i in 0..<d {
                    var mean: Float = 0
                    for j in 0..<c { mean += w[(i * 64 + s) * c + j] }
                    let v = w[(i * 64 + s) * c + k] - mean / Float(c)
                    sae.parameters[layout.encoderWeights + i * n + f] = v
                    norm += v * v
                }
                var meanBias: Float = 0
                for j in 0..<c { meanBias += b[s * c + j] }
                sae.parameters[layout.encoderBias + f] = b[s * c + k] - meanBias / Float(c)
                let scale: Float = norm > 0 ? 1 / norm.squareRoot() : 0
                for i in 0..<d { sae.parameters[layout.decoderWeights + f * d + i] = sae.parameters[layout.encoderWeights + i * n + f] * scale }
            }
        }
        sae.metadata["control"] = "probe dictionary (\(probe.basis.rawValue) probe at \(probe.hook))"
        return sae
    }
}
