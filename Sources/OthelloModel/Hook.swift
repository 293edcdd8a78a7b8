import Foundation
import WorkbenchSupport

/// A closure run at one hook point during a forward pass: it may read the activation or change it in place
/// (ablation, activation patching, model edits). Hooks are passed to each run and never stored on the model,
/// so nothing leaks from one run to the next.
///
/// Runs go in batches: `Activation.firstGame` tells which game of the whole run is game 0 of the batch.
///
///     // Zero-ablate head 3 of layer 5 at every position:
///     let ablate = Hook.positions(try .actName("z", 5)) { act, game, position in
///         act.row(game: game, position: position)[(3 * 64)..<(4 * 64)].update(repeating: 0)   // [head, d_head]
///     }
///     let logits = try model.runWithHooks(tokens: tokens, games: n, positions: 59, hooks: [ablate])
public struct Hook {
    public let point: HookPoint
    public let body: (Activation) throws -> Void

    public init(_ point: HookPoint, _ body: @escaping (Activation) throws -> Void) {
        self.point = point
        self.body = body
    }

    /// A hook by TransformerLens name (`blocks.3.hook_resid_post`).
    public init(_ name: String, _ body: @escaping (Activation) throws -> Void) throws {
        self.init(try HookPoint(name: name), body)
    }

    /// Calls `edit(activation, game, position)` for every game of each batch and each of `positions`
    /// (every position when nil; positions past the run's length are skipped). For attention scores and
    /// pattern the position is the query position.
    public static func positions(_ point: HookPoint, _ positions: [Int]? = nil,
                                 _ edit: @escaping (Activation, Int, Int) throws -> Void) -> Hook {
        Hook(point) { act in
            let count = act.isPositionMajor ? act.shape[1] : act.shape[2]
            for game in 0..<act.shape[0] {
                for position in positions ?? Array(0..<count) where position >= 0 && position < count {
                    try edit(act, game, position)
                }
            }
        }
    }

    /// Sets the activation to zero at `positions` (all when nil).
    public static func zeroAblation(_ point: HookPoint, positions: [Int]? = nil) -> Hook {
        Hook.positions(point, positions) { act, game, position in
            for range in act.slices(game: game, position: position) { (act.pointer + range.lowerBound).update(repeating: 0, count: range.count) }
        }
    }

    /// Activation patching: replaces the activation at `positions` (all when nil) by the same activation
    /// of another run, `source` (a cache of the same hook point over the same games).
    public static func patch(_ point: HookPoint, from source: ActivationCache, positions: [Int]? = nil) throws -> Hook {
        guard let stored = source[point] else {
            throw WorkbenchError("patch: the source cache has no \(point.name); cache it in the source run")
        }
        return Hook.positions(point, positions) { act, game, position in
            let global = act.firstGame + game
            guard global < stored.shape[0], stored.shape.dropFirst() == act.shape.dropFirst() else {
                throw WorkbenchError("patch \(point.name): the source cache has shape \(stored.shape), this run \(act.shape) at game \(global)")
            }
            let perGame = act.count / act.shape[0]
            stored.values.withUnsafeBufferPointer { values in
                for range in act.slices(game: game, position: position) {
                    let from = values.baseAddress! + (global - game) * perGame + range.lowerBound
                    (act.pointer + range.lowerBound).update(from: from, count: range.count)
                }
            }
        }
    }
}
