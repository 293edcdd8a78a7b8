import Foundation
import WorkbenchSupport

/// AdamW with PyTorch's semantics (`torch.optim.AdamW`, decoupled weight decay), over one flat
/// parameter buffer split into tensors that do or do not get weight decay.
///
/// One step, for every parameter p with gradient g, at step t = 1, 2, ...:
///
///     p ← p · (1 − lr · weight_decay)            (decayed tensors only)
///     m ← m + (1 − β₁)(g − m)                    v ← β₂ v + (1 − β₂) g²
///     p ← p − lr / (1 − β₁ᵗ) · m / (sqrt(v) / sqrt(1 − β₂ᵗ) + eps)
///
///     var optimizer = AdamW(parameterCount: n, decayed: [0..<4096], settings: .init())
///     optimizer.step(parameters: p, gradients: g, learningRate: 1e-3)
public struct AdamW {
    /// The optimiser's hyper-parameters (the learning rate comes with each step).
    public struct Settings: Codable, Equatable {
        public var beta1: Float = 0.9
        public var beta2: Float = 0.99
        public var eps: Float = 1e-8
        public var weightDecay: Float = 0.01

        public init(beta1: Float = 0.9, beta2: Float = 0.99, eps: Float = 1e-8, weightDecay: Float = 0.01) {
            self.beta1 = beta1
            self.beta2 = beta2
            self.eps = eps
            self.weightDecay = weightDecay
        }

        /// Throws unless 0 ≤ β < 1, eps > 0 and weight decay ≥ 0 (all finite).
        public func validate() throws {
            guard (0..<1).contains(beta1), (0..<1).contains(beta2) else {
                throw WorkbenchError("AdamW: the betas must lie in [0, 1), got \(beta1) and \(beta2)")
            }
            guard eps > 0, eps.isFinite else { throw WorkbenchError("AdamW: eps must be a small positive number, got \(eps)") }
            guard weightDecay >= 0, weightDecay.isFinite else {
                throw WorkbenchError("training: --weight-decay must be zero or positive, got \(weightDecay)")
            }
        }
    }

    public let settings: Settings
    /// The ranges of the parameter buffer that get weight decay; the rest does not.
    public let decayed: [Range<Int>]
    /// The first and second moments, laid out like the parameters.
    public internal(set) var firstMoment: [Float]
    public internal(set) var secondMoment: [Float]
    /// The number of steps taken so far.
    public internal(set) var step: Int = 0

    /// An optimiser for `parameterCount` parameters with zero moments; `decayed` are the ranges that get weight decay.
    public init(parameterCount: Int, decayed: [Range<Int>], settings: Settings) {
        self.settings = settings
        self.decayed = decayed
        firstMoment = [Float](repeating: 0, count: parameterCount)
        secondMoment = [Float](repeating: 0, count: parameterCount)
    }

    /// Takes one step: updates `parameters` in place from `gradients` (both `parameterCount` floats).
    public mutating func step(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>, learningRate: Float) {
        step += 1
        let count = firstMoment.count
        let beta1 = settings.beta1, beta2 = settings.beta2, eps = settings.eps
        // PyTorch computes the bias corrections in Python floats (double precision).
        let correction1 = 1 - pow(Double(beta1), Double(step))
        let correction2Root = Float((1 - pow(Double(beta2), Double(step))).squareRoot())
        let stepSize = Float(Double(learningRate) / correction1)
        let decay = 1 - learningRate * settings.weightDecay
        for range in decayed where settings.weightDecay != 0 {
            for i in range { parameters[i] *= decay }
        }
        firstMoment.withUnsafeMutableBufferPointer { m in
            secondMoment.withUnsafeMutableBufferPointer { v in
                for i in 0..<count {
                    let g = gradients[i]
                    m[i] += (1 - beta1) * (g - m[i])
                    v[i] = beta2 * v[i] + (1 - beta2) * g * g
                    parameters[i] -= stepSize * m[i] / (v[i].squareRoot() / correction2Root + eps)
                }
            }
        }
    }

    /// Restores the state saved in a checkpoint.
    public mutating func restore(firstMoment: [Float], secondMoment: [Float], step: Int) {
        self.firstMoment = firstMoment
        self.secondMoment = secondMoment
        self.step = step
    }

    /// Zeroes both moments of the parameters at `indices` (after they were re-initialised).
    public mutating func resetMoments(at indices: [Int]) {
        for i in indices {
            firstMoment[i] = 0
            secondMoment[i] = 0
        }
    }
}

/// Scales the gradients so that their global L2 norm is at most `maxNorm`, like
/// `torch.nn.utils.clip_grad_norm_` (factor `maxNorm / (norm + 1e-6)`, capped at 1).
/// Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ gradients: UnsafeMutablePointer<Float>, count: Int, maxNorm: Float) -> Float {
    var sum = 0.0
    for i in 0..<count { sum += Double(gradients[i]) * Double(gradients[i]) }
    let norm = Float(sum.squareRoot())
    let factor = min(maxNorm / (norm + 1e-6), 1)
    if factor < 1 {
        for i in 0..<count { gradients[i] *= factor }
    }
    return norm
}
