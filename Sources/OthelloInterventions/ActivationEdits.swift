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

    /// Li et al.'s gradient edit: Adam (β 0.9/0.999, eps 1e-8, no weight decay) on the `rows` activations `x`
    /// (`rows × d_model`), descending the probe's cross-entropy towards `targets` (`rows × 64` class labels of the
    /// edited board) weighted by `weights` (`rows × 64`: the edited square 1, every other `otherWeight`).
    /// The products are small (one batch's edited rows), so they run on one OpenBLAS thread: faster than two.
    public static func gradient(probe: Probe, mode: Int, x: inout [Float], rows m: Int, targets: [UInt8], weights: [Float],
                                learningRate: Float, steps: Int) {
        var optimizer = AdamW(parameterCount: x.count, decayed: [], settings: AdamW.Settings(beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0))
        let gradient = UnsafeMutablePointer<Float>.allocate(capacity: x.count)
        defer { gradient.deallocate() }
        let workspace = Probe.GradientWorkspace(probe: probe, rows: m)
        withSingleThreadedBLAS {
            x.withUnsafeMutableBufferPointer { x in
                targets.withUnsafeBufferPointer { t in
                    weights.withUnsafeBufferPointer { w in
                        for _ in 0..<steps {
                            _ = probe.inputGradient(mode: mode, inputs: x.baseAddress!, rows: m, targets: t.baseAddress!, weights: w.baseAddress!,
                                                    gradient: gradient, workspace: workspace)
                            optimizer.step(parameters: x.baseAddress!, gradients: gradient, learningRate: learningRate)
                        }
                    }
                }
            }
        }
    }
}
