import Foundation
import WorkbenchSupport

/// Which hook points a run keeps: by name, by predicate, or all.
///
///     HookFilter.names(["blocks.6.hook_resid_post", "blocks.3.attn.hook_pattern"])
///     HookFilter { $0.kind == .residPost }                 // every layer's resid_post
///     try HookFilter.patterns(["blocks.*.hook_resid_post"]) // '*' matches any text
public struct HookFilter {
    public let matches: (HookPoint) -> Bool

    /// A filter keeping the hook points for which `matches` is true.
    public init(_ matches: @escaping (HookPoint) -> Bool) {
        self.matches = matches
    }

    /// Every hook point.
    public static let all = HookFilter { _ in true }
    /// No hook point (a plain run).
    public static let none = HookFilter { _ in false }

    /// Exactly these full TransformerLens names (each must be a valid hook name).
    public static func names(_ names: [String]) throws -> HookFilter {
        let points = Set(try names.map { try HookPoint(name: $0) })
        return HookFilter { points.contains($0) }
    }

    /// Names with `*` wildcards (`blocks.*.attn.hook_pattern`); each pattern must match some hook point of `config`.
    public static func patterns(_ patterns: [String], config: ModelConfig) throws -> HookFilter {
        let all = HookPoint.all(config: config, includeResult: true)
        var chosen = Set<HookPoint>()
        for pattern in patterns {
            let matching = all.filter { wildcardMatch(pattern, $0.name) }
            guard !matching.isEmpty else {
                throw WorkbenchError("no hook point matches \"\(pattern)\"; names look like blocks.6.hook_resid_post or blocks.*.attn.hook_pattern (the model has \(config.nLayers) layers)")
            }
            chosen.formUnion(matching)
        }
        return HookFilter { chosen.contains($0) }
    }

    static func wildcardMatch(_ pattern: String, _ text: String) -> Bool {
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 1 else { return pattern == text }
        guard text.hasPrefix(parts[0]) else { return false }
        var rest = Substring(text.dropFirst(parts[0].count))
        for part in parts.dropFirst().dropLast() where !part.isEmpty {
            guard let range = rest.range(of: part) else { return false }
            rest = rest[range.upperBound...]
        }
        return rest.hasSuffix(parts.last!)
    }
}

/// The activations a run kept, each `[games, …]` in TransformerLens' shape, plus the logits if computed.
///
///     let cache = try model.runWithCache(tokens: tokens, games: 100, positions: 59, names: ["blocks.6.hook_resid_post"])
///     cache["blocks.6.hook_resid_post"]         // Tensor [100, 59, 512]
///     cache[try .actName("resid_post", 6)]      // the same
public struct ActivationCache {
    public let games: Int
    public let positions: Int
    /// The cached hook points in forward order.
    public let points: [HookPoint]
    public internal(set) var tensors: [Tensor]
    /// `[games, positions, d_vocab]`, nil when the run did not compute logits.
    public internal(set) var logits: Tensor?
    private let index: [HookPoint: Int]

    init(points: [HookPoint], games: Int, positions: Int, config: ModelConfig, logits: Bool) {
        self.games = games
        self.positions = positions
        self.points = points
        // Every element is written by the run before anyone reads it.
        tensors = points.map { Tensor(uninitializedShape: $0.shape(batch: games, positions: positions, config: config)) }
        self.logits = logits ? Tensor(uninitializedShape: [games, positions, config.dVocab]) : nil
        index = Dictionary(uniqueKeysWithValues: points.enumerated().map { ($1, $0) })
    }

    /// The names of the cached activations, in forward order.
    public var names: [String] { points.map(\.name) }

    /// The cached activation at `point`, nil if the run did not keep it.
    public subscript(_ point: HookPoint) -> Tensor? {
        index[point].map { tensors[$0] }
    }

    /// The values of the cached activation at `point`; a clear error when the run did not keep it (the analyses'
    /// way to read the cache, instead of unwrapping the subscript).
    ///
    ///     let z = try cache.values(.init(.z, layer: 3))   // [games × positions × heads × d_head], flat
    public func values(_ point: HookPoint) throws -> [Float] { try tensor(point).values }

    /// The cached activation at `point` as a tensor; the same error as `values` when the run did not keep it.
    public func tensor(_ point: HookPoint) throws -> Tensor {
        guard let tensor = self[point] else {
            throw WorkbenchError("the activation cache holds no \(point.name) (it holds \(names.joined(separator: ", "))); run with a filter or names that keep it")
        }
        return tensor
    }

    /// The values of the logits `[games × positions × d_vocab]`; a clear error when the run did not compute them.
    public func logitValues() throws -> [Float] {
        guard let logits else { throw WorkbenchError("this run computed no logits (it stopped before the unembedding); run it with computeLogits") }
        return logits.values
    }

    /// The cached activation with the full TransformerLens name `name` (`blocks.3.hook_resid_post`), nil if not kept.
    public subscript(_ name: String) -> Tensor? {
        (try? HookPoint(name: name)).flatMap { self[$0] }
    }

    /// Calls `body` with the storage of every cached activation and, as `.unembedOut`, of the logits — valid only
    /// during the call — so that a forward pass writes the activations straight into the cache, with no copy.
    mutating func withStorage<R>(_ body: ([HookPoint: UnsafeMutablePointer<Float>]) throws -> R) rethrows -> R {
        // Move the arrays out, so that each is uniquely referenced and pinning it does not copy it.
        let logitsIsCached = index[HookPoint(.unembedOut)] != nil
        var arrays = [[Float]]()
        for i in tensors.indices {
            arrays.append(tensors[i].values)
            tensors[i].values = []
        }
        if logits != nil && !logitsIsCached {
            arrays.append(logits!.values)
            logits!.values = []
        }
        defer {
            for i in tensors.indices { tensors[i].values = arrays[i] }
            if logits != nil {
                // The logits are the cached `unembed.hook_out` when that was asked for (shared, not copied).
                logits!.values = logitsIsCached ? tensors[index[HookPoint(.unembedOut)]!].values : arrays[tensors.count]
            }
        }
        var pointers = [UnsafeMutablePointer<Float>]()
        return try Self.withPointers(to: &arrays, collecting: &pointers) { pointers in
            var storage = [HookPoint: UnsafeMutablePointer<Float>]()
            for (i, point) in points.enumerated() { storage[point] = pointers[i] }
            if pointers.count > points.count { storage[HookPoint(.unembedOut)] = pointers[points.count] }
            return try body(storage)
        }
    }

    /// Pins every array of `arrays` (nested `withUnsafeMutableBufferPointer` calls, last array outermost) and
    /// calls `body` with their base addresses in order.
    private static func withPointers<R>(to arrays: inout [[Float]], collecting pointers: inout [UnsafeMutablePointer<Float>],
                                        _ body: ([UnsafeMutablePointer<Float>]) throws -> R) rethrows -> R {
        guard var last = arrays.popLast() else { return try body(pointers.reversed()) }
        defer { arrays.append(last) }
        return try last.withUnsafeMutableBufferPointer { buffer in
            pointers.append(buffer.baseAddress!)
            return try withPointers(to: &arrays, collecting: &pointers, body)
        }
    }
}
