import Foundation
import OthelloModel
import OthelloProbes
import OthelloRules
import OthelloTraining

/// The two edits of the model's board, each a function of (probe, activation, target) as othello_world's
/// `intervene` is: `InterventionStudy` calls them inside its hooks on every edited row.
public enum ActivationEdit {
    /// `x ← x − (scale + 1)(x·u)u` for a unit vector `u`: scale 1 reflects x's component along u, scale 0 removes it.
    public static func reflect(_ x: UnsafeMutableBufferPointer<Float>, along u: [Float], scale: Float) {
        let step = (scale + 1) * dot(x, u)
        for i in 0..<u.count { x[i] -= step * u[i] }
    }

    static func dot(_ x: UnsafeMutableBufferPointer<Float>, _ u: [Float]) -> Float {
        var sum: Float = 0
        for i in 0..<u.count { sum += x[i] * u[i] }
        return sum
    }

    /// Nanda's direction edit of one activation row `x` so that a linear probe reads `square` as the case's edit
    /// asks: a flip reflects along the square's mine − theirs direction, emptying along its empty direction;
    /// placing a disc (`placed`, its colour) reflects along the empty direction and then, if the mine − theirs
    /// reading points to the other colour than `placed`, along mine − theirs too. `perspective` is the probe's
    /// "mine" at this position (the player to move; who just moved for the mover basis).
    public static func direction(_ x: UnsafeMutableBufferPointer<Float>, directions: ProbeDirections, square: Int, edit: BoardEdit,
                                 placed: Player?, perspective: Player, scale: Float) {
        switch edit {
        case .flip: reflect(x, along: directions.mineMinusTheirs[square], scale: scale)
        case .empty: reflect(x, along: directions.empty[square], scale: scale)
        case .mine, .theirs:
            reflect(x, along: directions.empty[square], scale: scale)
            let u = directions.mineMinusTheirs(square, perspective: perspective)
            if (dot(x, u) > 0) != (placed == perspective) { reflect(x, along: u, scale: scale) }
        }
    }

    /// Li et al.'s gradient edit of the `rows` activations `x` (`rows × d_model`): Adam steps descending the
    /// probe's cross-entropy towards `targets` (`rows × 64` class labels of the edited board) weighted by `weights`
    /// (`rows × 64`: the edited square 1, every other `otherWeight`), as `edit` says (relative steps, the step cap,
    /// the stopping rule on `squares[r]`, the edited square of row r). Returns the steps each row took: the first
    /// step at which the probe read its square's target with probability ≥ `stopAt`, or `steps`.
    /// The products are small (one batch's edited rows), so they run on one OpenBLAS thread: faster than two.
    @discardableResult
    public static func gradient(probe: Probe, mode: Int, x: inout [Float], rows m: Int, targets: [UInt8], weights: [Float], squares: [Int],
                                edit: GradientEdit) -> [Int] {
        let d = probe.inputWidth
        // Adam runs on y = x / s, s the row's RMS when relative (1 otherwise): the gradient for y is s · ∂L/∂x.
        var scale = [Float](repeating: 1, count: m)
        if edit.relative {
            for r in 0..<m {
                var sum: Float = 0
                for i in 0..<d { sum += x[r * d + i] * x[r * d + i] }
                scale[r] = max((sum / Float(d)).squareRoot(), 1e-12)
            }
        }
        var y = x
        if edit.relative { for r in 0..<m { for i in 0..<d { y[r * d + i] = x[r * d + i] / scale[r] } } }
        var optimizer = AdamW(parameterCount: x.count, decayed: [], settings: AdamW.Settings(beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0))
        let gradient = UnsafeMutablePointer<Float>.allocate(capacity: x.count)
        let probabilities = UnsafeMutablePointer<Float>.allocate(capacity: m * 64)
        defer { gradient.deallocate(); probabilities.deallocate() }
        let workspace = Probe.GradientWorkspace(probe: probe, rows: m)
        var taken = [Int](repeating: edit.steps, count: m), stopped = [Bool](repeating: false, count: m), running = m
        withSingleThreadedBLAS {
            x.withUnsafeMutableBufferPointer { x in
                y.withUnsafeMutableBufferPointer { y in
                    targets.withUnsafeBufferPointer { t in
                        weights.withUnsafeBufferPointer { w in
                            for step in 0..<edit.steps {
                                _ = probe.inputGradient(mode: mode, inputs: x.baseAddress!, rows: m, targets: t.baseAddress!, weights: w.baseAddress!,
                                                        gradient: gradient, workspace: workspace, targetProbabilities: probabilities)
                                if let stopAt = edit.stopAt {
                                    for r in 0..<m where !stopped[r] && probabilities[r * 64 + squares[r]] >= stopAt {
                                        stopped[r] = true
                                        taken[r] = step
                                        running -= 1
                                    }
                                    if running == 0 { break }
                                }
                                if edit.relative { for r in 0..<m { for i in 0..<d { gradient[r * d + i] *= scale[r] } } }
                                optimizer.step(parameters: y.baseAddress!, gradients: gradient, learningRate: edit.learningRate)
                                // A stopped row keeps the activation it stopped at.
                                for r in 0..<m where !stopped[r] {
                                    for i in 0..<d { x[r * d + i] = edit.relative ? scale[r] * y[r * d + i] : y[r * d + i] }
                                }
                            }
                        }
                    }
                }
            }
        }
        return taken
    }
}
