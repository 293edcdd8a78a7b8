import Foundation

/// Softmax, its log and the cross-entropy with its gradient — written once, used by the trainer's loss, the
/// probes' training and gradient edits, the edits' probabilities and the commands that print predictions.
///
/// Every function subtracts the row's maximum before `exp`, so large logits (±1e4) neither overflow nor lose the
/// target's log-probability (`logit − max − log Σ exp(z − max)`, which stays finite when `exp` underflows).
///
///     Softmax.probabilities([0, 0, log(2)])        // [0.25, 0.25, 0.5]
///     let loss = Softmax.crossEntropy(logits: z, gradient: dz, count: 61, target: 7, gradientScale: 1 / 128)
public enum Softmax {
    /// The probabilities `exp(z − max) / Σ exp(z − max)` of `logits`; empty for no logits.
    public static func probabilities<Logits: Collection>(_ logits: Logits) -> [Float] where Logits.Element == Float {
        guard let maximum = logits.max() else { return [] }
        let exps = logits.map { expf($0 - maximum) }
        let sum = exps.reduce(0, +)
        return exps.map { $0 / sum }
    }

    /// The probability of class `target` among `logits`.
    public static func probability<Logits: Collection>(of target: Logits.Index, in logits: Logits) -> Float where Logits.Element == Float {
        let maximum = logits.max()!
        let sum = logits.reduce(0) { $0 + expf($1 - maximum) }
        return expf(logits[target] - maximum) / sum
    }

    /// `−log softmax(z)[target]` of one row of `count` logits, summed in double precision (a metric, not a gradient).
    @inlinable
    public static func negativeLogProbability(of target: Int, logits z: UnsafePointer<Float>, count: Int) -> Double {
        var maximum = z[0]
        for k in 1..<count where z[k] > maximum { maximum = z[k] }
        var sum = 0.0
        for k in 0..<count { sum += exp(Double(z[k] - maximum)) }
        return log(sum) - Double(z[target] - maximum)
    }

    /// The cross-entropy `−log softmax(z)[target]` of one row of `count` logits, and its gradient times
    /// `gradientScale` — `gradientScale · (softmax(z) − onehot(target))` — written to `gradient`, which may be
    /// `logits` itself (the gradient then replaces the logits in place).
    @inlinable
    public static func crossEntropy(logits z: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>, count: Int,
                                    target: Int, gradientScale: Float) -> Float {
        var maximum = z[0]
        for k in 1..<count where z[k] > maximum { maximum = z[k] }
        let logit = z[target]   // read before an in-place gradient overwrites it
        var sum: Float = 0
        for k in 0..<count {
            let e = expf(z[k] - maximum)
            gradient[k] = e
            sum += e
        }
        let scale = gradientScale / sum
        for k in 0..<count { gradient[k] *= scale }
        gradient[target] -= gradientScale
        return (maximum - logit) + logf(sum)   // the large terms cancel first: exact for logits of 1e4
    }
}
