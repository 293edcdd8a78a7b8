import Foundation
import WorkbenchSupport

extension HookedTransformer {
    /// How a run over many games goes.
    public struct RunOptions {
        /// Games per forward pass (the activation arena holds one batch).
        public var batchSize: Int
        /// Run only blocks `0..<stopAtLayer` (TransformerLens `stop_at_layer`); no logits then.
        public var stopAtLayer: Int?
        /// Compute and keep the logits.
        public var computeLogits: Bool
        /// Label of a progress bar on standard error (drawn only on a terminal); nil for none.
        public var progressLabel: String?
        /// An arena to reuse across runs (it must hold `batchSize` games of the run's positions); nil makes one.
        public var arena: ActivationArena?

        public init(batchSize: Int = 64, stopAtLayer: Int? = nil, computeLogits: Bool = true, progressLabel: String? = nil,
                    arena: ActivationArena? = nil) {
            self.batchSize = batchSize
            self.stopAtLayer = stopAtLayer
            self.computeLogits = computeLogits
            self.progressLabel = progressLabel
            self.arena = arena
        }
    }

    /// Runs `games` token sequences of `positions` tokens (`tokens` row-major, `games × positions`) in batches,
    /// applying `hooks` at their hook points, and keeps the activations `filter` selects.
    /// TransformerLens' `run_with_cache` (with `names_filter`, `stop_at_layer`) and `run_with_hooks` in one.
    ///
    ///     let cache = try model.runWithCache(tokens: tokens, games: 500, positions: 59,
    ///                                        filter: HookFilter { $0.kind == .residPost })
    public func runWithCache(
        tokens: [Int32], games: Int, positions: Int, filter: HookFilter,
        hooks: [Hook] = [], options: RunOptions = RunOptions()
    ) throws -> ActivationCache {
        guard games >= 0, tokens.count == games * positions else {
            throw WorkbenchError("run: \(tokens.count) tokens given for \(games) games × \(positions) positions")
        }
        guard positions >= 1, positions <= config.nCtx else {
            throw WorkbenchError("run: \(positions) positions per game; the model takes 1…\(config.nCtx)")
        }
        if let stop = options.stopAtLayer, stop < 0 || stop > config.nLayers {
            throw WorkbenchError("run: stop_at_layer \(stop) must be between 0 and \(config.nLayers)")
        }
        let everyPoint = HookPoint.all(config: config, includeResult: true)
        let stop = options.stopAtLayer ?? config.nLayers
        let reached = everyPoint.filter { point in
            if let layer = point.layer { return layer < stop }
            return point.kind < .residPre || stop == config.nLayers && options.computeLogits
        }
        let cached = reached.filter(filter.matches)
        for hook in hooks where !reached.contains(hook.point) {
            throw WorkbenchError("hook at \(hook.point.name): this run does not reach that point (model of \(config.nLayers) layers, stop at \(stop))")
        }
        let hooksByPoint = Dictionary(grouping: hooks, by: \.point)
        let computeResult = cached.contains { $0.kind == .result } || hooks.contains { $0.point.kind == .result }
        let logits = options.computeLogits && stop == config.nLayers
        var cache = ActivationCache(points: cached, games: games, positions: positions, config: config, logits: logits)
        let batchSize = max(1, min(options.batchSize, games))
        let arena = try options.arena.map { arena -> ActivationArena in
            guard arena.config == config, arena.maxBatch >= batchSize, arena.maxPositions >= positions else {
                throw WorkbenchError("run: the given arena holds \(arena.maxBatch) × \(arena.maxPositions), the run needs \(batchSize) × \(positions)")
            }
            return arena
        } ?? ActivationArena(config: config, maxBatch: batchSize, maxPositions: positions, mode: .inference)
        guard games > 0 else { return cache }
        let progress = options.progressLabel.map { ProgressBar(total: games, label: $0) }

        // The pass writes the cached activations straight into the cache's tensors, batch after batch, and calls
        // back only where a hook is.
        let hookedPoints = Set(hooksByPoint.keys)
        try cache.withStorage { storage in
            var start = 0
            while start < games {
                let count = min(batchSize, games - start)
                let batchTokens = Array(tokens[(start * positions)..<((start + count) * positions)])
                var forwardOptions = ForwardOptions(stopAtLayer: stop, computeResult: computeResult, computeLogits: logits,
                                                    visitedPoints: hookedPoints)
                for (point, base) in storage {
                    let perGame = point.shape(batch: 1, positions: positions, config: config).reduce(1, *)
                    forwardOptions.outputs[point] = base + start * perGame
                }
                let firstGame = start
                try forward(tokens: batchTokens, batch: count, positions: positions, into: arena, options: forwardOptions) { live in
                    let act = Activation(point: live.point, shape: live.shape, pointer: live.pointer, firstGame: firstGame)
                    for hook in hooksByPoint[act.point] ?? [] { try hook.body(act) }
                }
                start += count
                progress?.advance(by: count)
            }
        }
        progress?.finish()
        return cache
    }

    /// `runWithCache` keeping the named activations (full TransformerLens names).
    public func runWithCache(tokens: [Int32], games: Int, positions: Int, names: [String],
                             hooks: [Hook] = [], options: RunOptions = RunOptions()) throws -> ActivationCache {
        try runWithCache(tokens: tokens, games: games, positions: positions, filter: try .names(names), hooks: hooks, options: options)
    }

    /// `runWithCache` keeping exactly the hook points `points` (the analyses' typed way to name what they read).
    public func runWithCache(tokens: [Int32], games: Int, positions: Int, points: [HookPoint],
                             hooks: [Hook] = [], options: RunOptions = RunOptions()) throws -> ActivationCache {
        let kept = Set(points)
        return try runWithCache(tokens: tokens, games: games, positions: positions, filter: HookFilter { kept.contains($0) }, hooks: hooks, options: options)
    }

    /// The logits `[games, positions, d_vocab]` of a run with `hooks` (TransformerLens `run_with_hooks`).
    public func runWithHooks(tokens: [Int32], games: Int, positions: Int, hooks: [Hook],
                             options: RunOptions = RunOptions()) throws -> Tensor {
        var options = options
        options.computeLogits = true
        options.stopAtLayer = nil
        let cache = try runWithCache(tokens: tokens, games: games, positions: positions, filter: .none, hooks: hooks, options: options)
        return cache.logits!
    }

    /// The logits `[games, positions, d_vocab]` of a plain run.
    public func logits(tokens: [Int32], games: Int, positions: Int, options: RunOptions = RunOptions()) throws -> Tensor {
        try runWithHooks(tokens: tokens, games: games, positions: positions, hooks: [], options: options)
    }
}
