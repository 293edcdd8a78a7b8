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

/// The minimal-edit study: every single hook, every start layer of multi-layer edits, each at a grid of strengths
/// (direction scales, gradient step sizes), both methods and both position variants, each scored beside the null
/// edit; and Li et al.'s gradient settings beside them for comparison. `StrengthChoice` then picks each edit's
/// strength on a validation half of the cases and scores it on the other half.
public enum InterventionSweep {
    public struct Options {
        /// Direction edits' scales at single hooks (both position variants).
        public var scales: [Float] = [1, 2, 4, 8]
        public var multiLayerScales: [Float] = [1, 2, 4]
        /// The gradient edit, tried at each of `learningRates` (multiples of the activation's RMS when relative).
        public var gradient = GradientEdit.scaleFree
        public var learningRates: [Float] = [0.01, 0.03, 0.1, 0.3]
        public var includeGradient = true
        /// Li et al.'s gradient settings with this many steps beside the tuned ones (0: none).
        public var liSteps = 1000
        /// Multi-layer gradient edits (every resid_post from each layer on), scale-free and Li et al.'s.
        public var multiLayerGradient = true
        public init() {}
    }

    /// The plans, in the order of the report.
    public static func plans(config: ModelConfig, options: Options) -> [EditPlan] {
        let L = config.nLayers
        let post = (0..<L).map { HookPoint(.residPost, layer: $0) }
        var plans: [EditPlan] = []
        // blocks.L.hook_resid_pre holds exactly blocks.(L-1).hook_resid_post: only block 0's is an edit of its own.
        let single = EditProbes.studyHooks(config: config).filter { $0.kind != .residPre || $0.layer == 0 }
        for scale in options.scales {
            for hook in single { plans.append(EditPlan(method: .direction(scale: scale), hooks: [hook])) }
        }
        // From each layer on but the last (from the last layer on is the single resid_post edit).
        for scale in options.multiLayerScales {
            for start in 0..<(L - 1) { plans.append(EditPlan(method: .direction(scale: scale), hooks: Array(post[start...]))) }
        }
        for scale in options.scales {
            for hook in post { plans.append(EditPlan(method: .direction(scale: scale), hooks: [hook], positions: .fromEdit)) }
        }
        if options.includeGradient {
            for rate in options.learningRates {
                let method = EditMethod.gradient(options.gradient).with(strength: rate)
                for hook in post { plans.append(EditPlan(method: method, hooks: [hook])) }
                for hook in post { plans.append(EditPlan(method: method, hooks: [hook], positions: .fromEdit)) }
                if options.multiLayerGradient {
                    for start in 0..<(L - 1) { plans.append(EditPlan(method: method, hooks: Array(post[start...]))) }
                }
            }
        }
        if options.liSteps > 0 {
            var li = GradientEdit.li
            li.steps = options.liSteps
            for hook in post { plans.append(EditPlan(method: .gradient(li), hooks: [hook])) }
            if options.multiLayerGradient {
                for start in 0..<(L - 1) { plans.append(EditPlan(method: .gradient(li), hooks: Array(post[start...]))) }
            }
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

/// An edit at the strength chosen on the validation half of the cases, scored on the test half: the minimal edit
/// that works, never chosen on the cases it is scored on.
public struct StrengthChoice: Codable, Sendable {
    /// The edit without its strength (`direction at blocks.4.hook_resid_post`).
    public var edit: String
    public var method: String
    public var hooks: [String]
    public var positions: String
    /// Every strength tried (scales, or learning rates) with its validation and test errors.
    public var strengths: [Float]
    public var validationErrors: [Double]
    public var testErrors: [Double]
    /// The strength with the least validation error, and its errors.
    public var chosen: Float
    public var validationError: Double
    public var testError: Double
    public var nullTestError: Double
    /// The chosen result's specificity (see `InterventionResult`).
    public var top1Legal: Double?
    public var otherSquaresChange: [String: Double]?

    /// The test error as a share of the null edit's.
    public var testShare: Double { testError / max(nullTestError, 1e-9) }

    /// Groups `results` (scored with a validation/test split) into edits that differ only in strength, and picks
    /// each one's strength on the validation half; in the order the edits first appear.
    public static func choose(_ results: [InterventionResult]) -> [StrengthChoice] {
        var order: [String] = [], groups: [String: [InterventionResult]] = [:]
        for r in results where r.validationError != nil && r.testError != nil {
            let key = family(r)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(r)
        }
        return order.map { key in
            let group = groups[key]!.sorted { strength($0) < strength($1) }
            let best = group.min { ($0.validationError!, strength($0)) < ($1.validationError!, strength($1)) }!
            return StrengthChoice(edit: key, method: best.method, hooks: best.hooks, positions: best.positions, strengths: group.map(strength),
                                  validationErrors: group.map { $0.validationError! }, testErrors: group.map { $0.testError! },
                                  chosen: strength(best), validationError: best.validationError!, testError: best.testError!,
                                  nullTestError: best.nullTestError ?? best.nullError, top1Legal: best.top1Legal, otherSquaresChange: best.otherSquaresChange)
        }
    }

    /// Of the single-hook edits, the one whose chosen strength has the least validation error (chosen, again, on
    /// the validation half only).
    public static func bestSingleHook(_ choices: [StrengthChoice], method: String? = nil) -> StrengthChoice? {
        choices.filter { $0.hooks.count == 1 && (method == nil || $0.method == method) }.min { $0.validationError < $1.validationError }
    }

    public static func strength(_ r: InterventionResult) -> Float { r.scale ?? r.learningRate ?? 0 }

    /// What an edit is apart from its strength: method (and step rule), hooks, positions.
    public static func family(_ r: InterventionResult) -> String {
        let how = r.scale != nil ? "direction" : (r.relativeStep == true ? "gradient (× RMS)" : "gradient (Li et al.'s lr \((r.learningRate ?? 0).formatted()))")
        let hooks = r.hooks.count == 1 ? r.hooks[0] : "\(r.hooks.first!) … \(r.hooks.last!) (\(r.hooks.count) hooks)"
        return "\(how) at \(hooks)" + (r.positions == EditPositions.fromEdit.rawValue ? ", from the edited move" : "")
    }
}
