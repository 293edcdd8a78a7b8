import Foundation
import WorkbenchSupport

/// A live view of one activation during a forward pass, handed to hooks: its hook point, its
/// TransformerLens shape (`[batch, pos, …]`, or `[batch, head, query_pos, key_pos]` for attention scores
/// and pattern) and its memory. Writing through the view changes what the rest of the pass computes.
///
/// Valid only inside the hook call; copy with `tensor()` to keep it.
///
///     Hook(.actName("resid_post", 3)) { act in
///         act.row(game: 0, position: 5).update(repeating: 0)     // zero one position's residual
///     }
public struct Activation {
    public let point: HookPoint
    public let shape: [Int]
    public let pointer: UnsafeMutablePointer<Float>
    /// The index, in the whole run, of this batch's game 0 (runs over many games go in batches).
    public let firstGame: Int

    public init(point: HookPoint, shape: [Int], pointer: UnsafeMutablePointer<Float>, firstGame: Int = 0) {
        self.point = point
        self.shape = shape
        self.pointer = pointer
        self.firstGame = firstGame
    }

    public var count: Int { shape.reduce(1, *) }
    /// All elements, row-major.
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    /// A copy as a `Tensor`.
    public func tensor() -> Tensor { Tensor(shape: shape, copying: pointer) }

    /// Replaces the whole activation by `tensor` (same shape).
    public func assign(_ tensor: Tensor) throws {
        guard tensor.shape == shape else {
            throw WorkbenchError("hook \(point.name): replacement has shape \(tensor.shape), the activation has \(shape)")
        }
        tensor.values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }

    /// Whether the second axis is the token position (`[batch, pos, …]`); false for attention
    /// scores and pattern, which are `[batch, head, query_pos, key_pos]`.
    public var isPositionMajor: Bool { point.kind != .attnScores && point.kind != .pattern }

    /// The elements at one game and position: the trailing dimensions (`d_model`, `[head, d_head]`, …)
    /// for position-major activations; for scores/pattern, the `[head, key_pos]` values are not contiguous,
    /// so use `element(_:)` there.
    public func row(game: Int, position: Int) -> UnsafeMutableBufferPointer<Float> {
        precondition(isPositionMajor, "Activation.row: \(point.name) is [batch, head, query_pos, key_pos]")
        precondition(game >= 0 && game < shape[0] && position >= 0 && position < shape[1],
                     "Activation.row: game \(game), position \(position) outside \(shape)")
        let size = count / (shape[0] * shape[1])
        return UnsafeMutableBufferPointer(start: pointer + (game * shape[1] + position) * size, count: size)
    }

    /// The flat element ranges (within `buffer`) that belong to one game and position: one range for
    /// position-major activations, one per head (the key positions of that query) for scores and pattern.
    public func slices(game: Int, position: Int) -> [Range<Int>] {
        if isPositionMajor {
            let size = count / (shape[0] * shape[1])
            let start = (game * shape[1] + position) * size
            return [start..<(start + size)]
        }
        let (heads, queries, keys) = (shape[1], shape[2], shape[3])
        return (0..<heads).map { head in
            let start = ((game * heads + head) * queries + position) * keys
            return start..<(start + keys)
        }
    }

    /// Reads or writes one element by its full index.
    public subscript(_ index: [Int]) -> Float {
        get { pointer[Tensor.offset(of: index, in: shape)] }
        nonmutating set { pointer[Tensor.offset(of: index, in: shape)] = newValue }
    }
}
