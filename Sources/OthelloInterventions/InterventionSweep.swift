import Foundation
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport

/// Probes for edits: linear probes of the board trained at the hooks an edit or a reading needs.
public enum EditProbes {
    /// The hooks of the minimal-edit study: every block's resid_pre, resid_mid and resid_post.
    public static func studyHooks(config: ModelConfig) -> [HookPoint] {
        (0..<config.nLayers).flatMap { l in [HookPoint.Kind.residPre, .residMid, .residPost].map { HookPoint($0, layer: l) } }
    }

    /// Trains a probe of `basis` and `kind` at each of `hooks` on `games` (a `blocks.L.hook_resid_pre` shares the
    /// probe of what it equals, `ProbeFolder.storedHook(for:)`: the embeddings for L = 0, `blocks.(L-1).hook_resid_post` after).
    public static func train(model: HookedTransformer, hooks: [HookPoint], games: GameDataset, kind: Probe.Kind = .linear,
                             basis: ProbeBasis = .relative, settings: ProbeTrainingSettings = ProbeTrainingSettings(),
                             log: (String) -> Void = { _ in }) throws -> [HookPoint: Probe] {
        func source(_ point: HookPoint) throws -> ProbeHook {
            try ProbeHook(name: ProbeFolder.storedHook(for: point.name), config: model.config)
        }
        var sources: [ProbeHook] = []
        for point in hooks where !sources.contains(try source(point)) { sources.append(try source(point)) }
        let bar = ProgressBar(total: games.count, label: "probe activations")
        let data = try ProbeData.collect(model: model, games: games, indices: Array(0..<games.count), hooks: sources, progress: bar)
        bar.finish()
        var trained: [ProbeHook: Probe] = [:]
        let trainBar = ProgressBar(total: sources.count * ProbeTrainer.steps(rows: data.rows, settings: settings), label: "probes")
        for hook in sources {
            trained[hook] = try ProbeTrainer.train(kind: kind, basis: basis, hook: hook, on: data, settings: settings, progress: trainBar)
            log("probe at \(hook.name) trained")
        }
        trainBar.finish()
        var probes: [HookPoint: Probe] = [:]
        for point in hooks {
            var probe = trained[try source(point)]!
            probe.hook = point.name
            probes[point] = probe
        }
        return probes
    }
}

extension EditProbes {
    /// The probes for edits at `hooks` and for the readings at every resid_post: each probe file of `files` at its
    /// recorded hook, then the folder's probes for the hooks still missing; without files, the rest trained
    /// (`train`) on `trainGames` fresh full-length random games of `seed`. With files given, a hook of `hooks`
    /// without a probe is an error.
    public static func resolve(model: HookedTransformer, hooks: [HookPoint], files: [URL], folder: ProbeFolder?, trainGames: Int,
                               seed: UInt64) throws -> [HookPoint: Probe] {
        var probes: [HookPoint: Probe] = [:]
        for file in files {
            let loaded = try ProbeFile.load(from: file)
            guard !loaded.hook.isEmpty else { throw WorkbenchError("\(file.path): the probe does not record its hook; re-save it with `othello-gpt probe convert --hook H`") }
            guard let point = try? HookPoint(name: loaded.hook) else {
                throw WorkbenchError("\(file.path): the probe reads \(loaded.hook), which edits cannot change; give probes of a block's hooks (blocks.L.hook_resid_post, …)")
            }
            probes[point] = loaded
        }
        let readers = (0..<model.config.nLayers).map { HookPoint(.residPost, layer: $0) }
        if let folder {
            for point in hooks + readers where probes[point] == nil {
                if let probe = try folder.load(hook: point.name) { probes[point] = probe }
            }
        }
        let missing = hooks.filter { probes[$0] == nil }
        if !missing.isEmpty && !files.isEmpty {
            throw WorkbenchError("no probe for \(missing.map(\.name).joined(separator: ", ")); give one with --probe, or leave out --probe to train them")
        }
        // Without probe files: train what the folder (if any) does not have — every hook needed and every reader.
        let needed = files.isEmpty ? Array(Set(hooks + readers)).filter { probes[$0] == nil }.sorted() : []
        if !needed.isEmpty {
            let games = RandomGames.generate(count: trainGames, seed: seed, fullLength: true)
            probes.merge(try train(model: model, hooks: needed, games: games)) { old, _ in old }
        }
        return probes
    }
}

/// The minimal-edit study: every single hook, every start layer of multi-layer edits, several scales, both
/// methods and both position variants, each scored beside the null edit.
public enum InterventionSweep {
    public struct Options {
        public var scales: [Float] = [1, 2, 4]
        public var multiLayerScales: [Float] = [1, 2]
        public var gradient = EditMethod.liDefaults
        public var includeGradient = true
        public init() {}
    }

    /// The plans, in the order of the report.
    public static func plans(config: ModelConfig, options: Options) -> [EditPlan] {
        let L = config.nLayers
        let post = (0..<L).map { HookPoint(.residPost, layer: $0) }
        var plans: [EditPlan] = []
        for scale in options.scales {
            for hook in EditProbes.studyHooks(config: config) { plans.append(EditPlan(method: .direction(scale: scale), hooks: [hook])) }
        }
        // From each layer on but the last (from the last layer on is the single resid_post edit).
        for scale in options.multiLayerScales {
            for start in 0..<(L - 1) { plans.append(EditPlan(method: .direction(scale: scale), hooks: Array(post[start...]))) }
        }
        let middle = options.scales.contains(2) ? Float(2) : options.scales[0]
        for hook in post { plans.append(EditPlan(method: .direction(scale: middle), hooks: [hook], positions: .fromEdit)) }
        if options.includeGradient {
            for hook in post { plans.append(EditPlan(method: options.gradient, hooks: [hook])) }
            for start in 0..<(L - 1) { plans.append(EditPlan(method: options.gradient, hooks: Array(post[start...]))) }
        }
        return plans
    }

    /// Runs every plan; `log` gets one line per result.
    public static func run(study: InterventionStudy, plans: [EditPlan], log: (InterventionResult) -> Void = { _ in }) throws -> [InterventionResult] {
        let bar = ProgressBar(total: plans.count, label: "edits")
        defer { bar.finish() }
        var results: [InterventionResult] = []
        for plan in plans {
            let result = try study.evaluate(plan)
            results.append(result)
            log(result)
            bar.advance(by: 1, status: String(format: "%@: %.2f", plan.label, result.error))
        }
        return results
    }
}
