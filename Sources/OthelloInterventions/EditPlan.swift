import Foundation
import OthelloModel
import WorkbenchSupport

/// How an edit changes the activation at a hook.
public enum EditMethod: Equatable, Sendable {
    /// Nanda's edit: reflect along the square's unit mine − theirs direction d̂ of a linear probe,
    /// `x ← x − (scale + 1)(x·d̂)d̂` (scale 1: a pure reflection); for cases that make the square empty, along its
    /// empty direction instead; for cases that put a disc on it, along the empty direction and then, if the
    /// reading points to the wrong colour, along mine − theirs.
    case direction(scale: Float)
    /// Li et al.'s edit: Adam steps on the activation, descending the probe's cross-entropy towards the edited
    /// board (the target square weighted 1, every other square `otherWeight`).
    case gradient(GradientEdit)

    /// Li et al.'s exact settings (Adam lr 1e-3, 1,000 steps, no stopping): for reproducing the paper.
    public static let liDefaults = EditMethod.gradient(.li)

    public var name: String {
        switch self {
        case .direction: return "direction"
        case .gradient: return "gradient"
        }
    }

    public var scale: Float? { if case .direction(let scale) = self { return scale } else { return nil } }
    public var gradientEdit: GradientEdit? { if case .gradient(let edit) = self { return edit } else { return nil } }

    /// The edit's strength in one number: the direction edit's scale, or the gradient edit's learning rate.
    public var strength: Float {
        switch self {
        case .direction(let scale): return scale
        case .gradient(let edit): return edit.learningRate
        }
    }

    /// The same kind of edit at another strength.
    public func with(strength: Float) -> EditMethod {
        switch self {
        case .direction: return .direction(scale: strength)
        case .gradient(var edit):
            edit.learningRate = strength
            return .gradient(edit)
        }
    }
}

/// How a gradient edit steps: Adam (β 0.9/0.999, eps 1e-8) on the activation towards the probe reading the edited
/// board, at most `steps` steps.
///
/// Li et al.'s learning rate of 1e-3 moves each coordinate by at most about 1e-3 a step, which fits their model's
/// activation scale and not every model's. With `relative`, the step is `learningRate` times the RMS of each
/// edited activation (Adam on x / RMS): one value fits any model, and scaling an activation (and the probe's
/// weights inversely) leaves the edit's path the same. With `stopAt`, each edited activation stops as soon as the
/// probe gives the edited square its target state with that probability.
public struct GradientEdit: Equatable, Sendable {
    public var learningRate: Float
    public var steps: Int
    /// The weight of the other 63 squares' cross-entropy (the edited square's is 1).
    public var otherWeight: Float
    public var relative: Bool
    public var stopAt: Float?

    public init(learningRate: Float, steps: Int, otherWeight: Float = 0.2, relative: Bool = false, stopAt: Float? = nil) {
        self.learningRate = learningRate
        self.steps = steps
        self.otherWeight = otherWeight
        self.relative = relative
        self.stopAt = stopAt
    }

    /// Li et al.'s settings: lr 1e-3, 1,000 steps, every step taken.
    public static let li = GradientEdit(learningRate: 1e-3, steps: 1000)

    /// The workbench's default: steps of 0.1 × the activation's RMS, at most 200, each activation stopping once the
    /// probe gives the edited square its new state with probability 0.999 (chosen on held-out cases of the shipped
    /// model: within a few hundredths of the best tuned strength at a few steps a case; `intervene sweep` tunes it).
    public static let scaleFree = GradientEdit(learningRate: 0.1, steps: 200, relative: true, stopAt: 0.999)

    /// `lr 0.001` or `0.05 × RMS, stop at 0.9`.
    public var description: String {
        let rate = relative ? "\(learningRate.formatted()) × RMS" : "lr \(learningRate.formatted())"
        return rate + (stopAt.map { ", stop at \($0.formatted())" } ?? "")
    }
}

/// Which positions an edit touches: the prefix's last position only, or every position from the move that put
/// the square's disc in its current state.
public enum EditPositions: String, CaseIterable, Sendable {
    case last
    case fromEdit = "from-edit"
}

/// One edit to try on every case: a method applied at some hooks (in forward order) at some positions.
public struct EditPlan: Sendable {
    public var method: EditMethod
    public var hooks: [HookPoint]
    public var positions: EditPositions
    /// Short name for tables (`blocks.4.hook_resid_post ×2`).
    public var label: String

    public init(method: EditMethod, hooks: [HookPoint], positions: EditPositions = .last, label: String? = nil) {
        self.method = method
        self.hooks = hooks
        self.positions = positions
        self.label = label ?? Self.describe(method: method, hooks: hooks, positions: positions)
    }

    /// The plan an edit request names: one `hook` (a hook name; default blocks.4.hook_resid_post, or the last block's)
    /// or every resid_post of `layers` ("FIRST-LAST"), the method and where. `intervene eval`'s flags and the live
    /// explorer's `/api/edit` both come here; `option` names the setting in errors ("--hook", "hook").
    public static func resolve(config: ModelConfig, hook: String?, layers: String?, method: EditMethod, positions: EditPositions,
                               names: (hook: String, layers: String) = ("--hook", "--layers")) throws -> EditPlan {
        let L = config.nLayers
        let hooks: [HookPoint]
        switch (hook, layers) {
        case (.some, .some): throw WorkbenchError("give \(names.hook) or \(names.layers), not both")
        case (let hook?, nil):
            let point: HookPoint
            do { point = try HookPoint(name: hook) } catch { throw WorkbenchError("\(names.hook) \(hook): \(error)") }
            if let layer = point.layer, layer >= L { throw WorkbenchError("\(names.hook) \(hook): the model has layers 0…\(L - 1)") }
            guard point.layer != nil, [.residPre, .residMid, .residPost].contains(point.kind) else {
                throw WorkbenchError("\(names.hook) \(hook): edits change a block's residual stream (blocks.L.hook_resid_pre, hook_resid_mid or hook_resid_post)")
            }
            hooks = [point]
        case (nil, let range?):
            let parts = range.split(separator: "-")
            guard let first = parts.first.flatMap({ Int($0) }), let last = parts.last.flatMap({ Int($0) }), first >= 0, first <= last, last < L else {
                throw WorkbenchError("\(names.layers) \(range): give FIRST-LAST within 0…\(L - 1), e.g. 4-\(L - 1)")
            }
            hooks = (first...last).map { HookPoint(.residPost, layer: $0) }
        case (nil, nil): hooks = [HookPoint(.residPost, layer: min(4, L - 1))]
        }
        return EditPlan(method: method, hooks: hooks, positions: positions)
    }

    static func describe(method: EditMethod, hooks: [HookPoint], positions: EditPositions) -> String {
        let where_ = hooks.count == 1 ? hooks[0].name : "\(hooks.first!) … \(hooks.last!) (\(hooks.count) hooks)"
        let how: String
        switch method {
        case .direction(let scale): how = "direction ×\(scale.formatted())"
        case .gradient(let edit): how = edit == .li ? "gradient (Li et al.'s lr 0.001)" : "gradient \(edit.description)"
        }
        return "\(how) at \(where_)" + (positions == .fromEdit ? ", from the edited move" : "")
    }
}

/// Li et al.'s intervention metric over a case set, beside the null edit.
public struct InterventionResult: Codable, Sendable {
    public var label: String
    public var method: String
    public var scale: Float?
    public var hooks: [String]
    public var positions: String
    public var cases: Int
    /// Mean false positives + false negatives of the model's top-N moves (N = the edited board's legal-move count)
    /// against the edited board's legal moves.
    public var error: Double
    /// The same without the edit (the unedited model scored against the edited board).
    public var nullError: Double
    /// Shares of cases with error 0, edited and unedited.
    public var exact: Double
    public var nullExact: Double
    /// Per later hook with a probe: the mean change the edit makes to that probe's probability of the square's
    /// edited state (does the edit reach the later layers' board?).
    public var readingChange: [String: Double]
    /// Gradient edits: the learning rate, whether it is relative to the activation's RMS, and the mean Adam steps
    /// an edited activation took (fewer than the cap when the stopping rule stopped it).
    public var learningRate: Float?
    public var relativeStep: Bool?
    public var meanSteps: Double?
    /// Specificity, per later hook with a probe: the mean change of that probe's probability of the right state of
    /// the 63 squares the edit did not touch (negative: the edit scrambles the rest of the board).
    public var otherSquaresChange: [String: Double]?
    /// The share of cases whose top-1 move is legal on the edited board, with the edit and without.
    public var top1Legal: Double?
    public var nullTop1Legal: Double?
    /// With a validation/test split of the cases: the error and the null error on each half.
    public var validationError: Double?
    public var testError: Double?
    public var nullTestError: Double?
}
