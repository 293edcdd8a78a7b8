import Foundation
import OthelloModel

/// How an edit changes the activation at a hook.
public enum EditMethod: Equatable, Sendable {
    /// Nanda's edit: reflect along the square's unit mine − theirs direction d̂ of a linear probe,
    /// `x ← x − (scale + 1)(x·d̂)d̂` (scale 1: a pure reflection); for cases that make the square empty, along its
    /// empty direction instead; for cases that put a disc on it, along the empty direction and then, if the
    /// reading points to the wrong colour, along mine − theirs.
    case direction(scale: Float)
    /// Li et al.'s edit: Adam steps on the activation, descending the probe's cross-entropy towards the edited
    /// board (the target square weighted 1, every other square `otherWeight`).
    case gradient(learningRate: Float, steps: Int, otherWeight: Float)

    public static let liDefaults = EditMethod.gradient(learningRate: 1e-3, steps: 1000, otherWeight: 0.2)

    public var name: String {
        switch self {
        case .direction: return "direction"
        case .gradient: return "gradient"
        }
    }

    public var scale: Float? { if case .direction(let scale) = self { return scale } else { return nil } }
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

    static func describe(method: EditMethod, hooks: [HookPoint], positions: EditPositions) -> String {
        let where_ = hooks.count == 1 ? hooks[0].name : "\(hooks.first!) … \(hooks.last!) (\(hooks.count) hooks)"
        let how = method.scale.map { "direction ×\($0.formatted())" } ?? "gradient"
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
}
