import Foundation
import OthelloModel
import OthelloRules
import OthelloTraining
import WorkbenchSupport

/// A grid of SAE recipes (`othello-gpt sae sweep`): hooks × kinds × dictionary sizes × k (TopK, BatchTopK) or
/// L1 × p-annealing's last p (ReLU), every one trained with the same schedule (`SAETrainingSettings.useSchedule`) on the same streamed
/// positions — one activation stream per hook feeds all of its SAEs, so the model runs once for the whole grid —
/// with the same grid trained on a randomly initialised model as the control.
///
///     var plan = SAESweepPlan()
///     plan.hooks = ["blocks.5.hook_resid_post"]; plan.kinds = [.topk, .batchtopk]; plan.ks = [16, 32, 64]
///     let results = try SAESweep(model: model, modelName: "shipped", plan: plan, folder: folder).run()
///
/// Plans written before a key existed (`pEnds`) still read, the key taking its default (`DefaultedCodable`).
public struct SAESweepPlan: DefaultedCodable, Equatable, Sendable {
    public var hooks = ["blocks.5.hook_resid_post"]
    public var kinds: [SparseAutoencoder.Kind.Name] = [.relu, .topk, .batchtopk]
    public var features = [2048]
    /// TopK and BatchTopK: active features per position.
    public var ks = [16, 32, 64]
    /// ReLU: L1 coefficients.
    public var l1s: [Float] = [2, 5, 10]
    /// ReLU: the penalty's last exponent p (1: L1 throughout; below 1: p-annealing, `SAETrainingSettings.pEnd`).
    public var pEnds: [Float] = [1]
    /// TopK and BatchTopK: the AuxK loss's dead features per position (0: off; `SAETrainingSettings.auxK`).
    public var auxKs = [0]
    public var positions = 4_000_000
    public var batchSize = 4096
    public var learningRate: Float = 1e-3
    public var seed: UInt64 = 1
    /// Train every recipe on a randomly initialised model of the same shape too.
    public var controls = true
    /// Fresh random games the SAEs are scored on (the same for all).
    public var evaluationGames = 500

    public init() {}

    /// One SAE of the grid.
    public struct Entry: Codable, Equatable, Sendable {
        public var hook: String
        public var kind: SparseAutoencoder.Kind.Name
        public var features: Int
        /// k for TopK and BatchTopK, nil for ReLU.
        public var k: Int?
        /// The L1 coefficient for ReLU, nil otherwise.
        public var l1: Float?
        /// ReLU with p-annealing: the penalty's last exponent (nil: L1 throughout).
        public var pEnd: Float? = nil
        /// TopK and BatchTopK with the AuxK loss: its dead features per position (nil: off).
        public var auxK: Int? = nil

        /// A file name: `blocks.5.hook_resid_post-topk-k32-f2048`, `blocks.5.hook_resid_post-relu-l1-5-p0.2-f2048`,
        /// `blocks.5.hook_resid_post-topk-k32-aux128-f2048`.
        public var name: String {
            var setting = k.map { "k\($0)" } ?? l1.map { "l1-\(String(format: "%g", $0))" } ?? ""
            if let pEnd { setting += "-p\(String(format: "%g", pEnd))" }
            if let auxK { setting += "-aux\(auxK)" }
            return "\(hook)-\(kind.rawValue)-\(setting)-f\(features)"
        }
    }

    public var entries: [Entry] {
        hooks.flatMap { hook in
            kinds.flatMap { kind in
                features.flatMap { n -> [Entry] in
                    kind == .relu ? l1s.flatMap { l1 in pEnds.map { Entry(hook: hook, kind: kind, features: n, k: nil, l1: l1, pEnd: $0 < 1 ? $0 : nil) } }
                                  : ks.flatMap { k in auxKs.map { Entry(hook: hook, kind: kind, features: n, k: k, l1: nil, auxK: $0 > 0 ? $0 : nil) } }
                }
            }
        }
    }

    public func settings(for entry: Entry) -> SAETrainingSettings {
        var s = SAETrainingSettings()
        s.features = entry.features
        s.kind = entry.kind
        if let k = entry.k { s.k = k }
        if let l1 = entry.l1 { s.l1 = l1 }
        if let pEnd = entry.pEnd { s.pEnd = pEnd }
        if let auxK = entry.auxK { s.auxK = auxK }
        s.learningRate = learningRate
        s.batchSize = batchSize
        s.positions = positions
        s.seed = seed
        s.deadWindow = min(s.deadWindow, max(batchSize, positions / 4))
        s.resampleEvery = min(s.resampleEvery, max(batchSize, positions / 8))
        s.useSchedule()
        return s
    }

    public func validate(config: ModelConfig) throws {
        guard !hooks.isEmpty, !kinds.isEmpty, !features.isEmpty else { throw WorkbenchError("sae sweep: give at least one --hook, --kind and --features") }
        if kinds.contains(where: { $0 != .relu }) && ks.isEmpty { throw WorkbenchError("sae sweep: TopK and BatchTopK need at least one --k") }
        if kinds.contains(.relu) && (l1s.isEmpty || pEnds.isEmpty) { throw WorkbenchError("sae sweep: ReLU needs at least one --l1 and --p-end") }
        if !kinds.contains(where: { $0 != .relu }) && auxKs.contains(where: { $0 != 0 }) {
            throw WorkbenchError("sae sweep: --aux-k is for TopK and BatchTopK SAEs; add --kind topk or --kind batchtopk")
        }
        if kinds.contains(where: { $0 != .relu }) && auxKs.isEmpty { throw WorkbenchError("sae sweep: TopK and BatchTopK need at least one --aux-k (0: off)") }
        if let p = pEnds.first(where: { !($0 > 0 && $0 <= 1) }) { throw WorkbenchError("sae sweep: --p-end must be above 0 and at most 1 (1: the L1 penalty), got \(p)") }
        guard evaluationGames >= 2 else { throw WorkbenchError("sae sweep: --eval-games must be at least 2 (the board reconstruction fits on one half, scores the other)") }
        for hook in hooks {
            let point: HookPoint
            do { point = try HookPoint(name: hook) } catch { throw WorkbenchError("sae sweep: --hook \(hook) is not a hook name (e.g. blocks.5.hook_resid_post)") }
            if let layer = point.layer, layer >= config.nLayers { throw WorkbenchError("sae sweep: --hook \(hook): the model has layers 0…\(config.nLayers - 1)") }
            _ = try ActivationStream.width(of: point, config: config)
        }
        for entry in entries { try settings(for: entry).validate() }
    }
}

/// One scored SAE of a sweep: its recipe, its numbers, and its control's.
public struct SAESweepResult: Codable {
    public var entry: SAESweepPlan.Entry
    public var file: String
    public var numbers: SAEEvalJSON
    public var control: SAEEvalJSON?
    public var trainingSeconds: Double?
}

/// Runs a sweep into a folder, resumably: `plan.json` (a rerun must give the same plan), one SAE file per entry
/// (and `-control` beside it), checkpoints while a hook's SAEs train (`<name>.ckpt.safetensors`, every 5 minutes, all
/// at the same stream position), and `results.json`, to which each entry is added once scored.
public final class SAESweep {
    public let model: HookedTransformer
    public let modelName: String
    public let plan: SAESweepPlan
    public let folder: URL

    public init(model: HookedTransformer, modelName: String, plan: SAESweepPlan, folder: URL) throws {
        try plan.validate(config: model.config)
        self.model = model
        self.modelName = modelName
        self.plan = plan
        self.folder = folder
        try createOutputFolder(folder)
        let planURL = folder.appendingPathComponent("plan.json")
        if FileManager.default.fileExists(atPath: planURL.path) {
            guard let old = try? SAESweepPlan.decode(from: try readFile(planURL), decoder: JSONOutput.decoder), old == plan else {
                throw WorkbenchError("\(folder.path) holds a sweep with another plan (plan.json); give the same flags, or another --out")
            }
        } else {
            try AtomicFile.write(try JSONOutput.encoder.encode(plan), to: planURL)
        }
    }

    public func file(_ entry: SAESweepPlan.Entry, control: Bool = false) -> URL {
        folder.appendingPathComponent(entry.name + (control ? "-control" : "") + ".safetensors")
    }

    /// Trains what is not trained yet, then scores what is not scored yet; returns every entry's result.
    public func run(log: (String) -> Void = { _ in }, progress: (_ label: String, _ step: Int, _ steps: Int, _ status: String) -> Void = { _, _, _, _ in }) throws -> [SAESweepResult] {
        var models = [(model, false)]
        if plan.controls { models.append((HookedTransformer.randomlyInitialised(like: model, seed: plan.seed), true)) }
        // Each SAE's training seconds: its hook's run on the trained model, shared equally (they train side by side).
        var seconds: [String: Double] = [:]
        for hook in plan.hooks {
            let entries = plan.entries.filter { $0.hook == hook }
            for (m, control) in models {
                let started = Date()
                let trained = try train(entries, hook: hook, model: m, control: control, log: log, progress: progress)
                if !control { for name in trained { seconds[name] = Date().timeIntervalSince(started) / Double(trained.count) } }
            }
        }
        return try score(seconds: seconds, log: log, progress: progress)
    }

    /// Trains the entries of one hook whose files do not exist yet, side by side on one stream; returns their names.
    func train(_ entries: [SAESweepPlan.Entry], hook: String, model m: HookedTransformer, control: Bool,
               log: (String) -> Void, progress: (String, Int, Int, String) -> Void) throws -> [String] {
        let pending = entries.filter { !FileManager.default.fileExists(atPath: file($0, control: control).path) }
        guard !pending.isEmpty else { return [] }
        let width = try ActivationStream.width(of: try HookPoint(name: hook), config: m.config)
        let checkpoints = pending.map { SAEFile.sibling(of: file($0, control: control), ".ckpt") }
        let existing = checkpoints.filter { FileManager.default.fileExists(atPath: $0.path) }
        var states: [SAETrainingState] = []
        var position = (chunk: 0, row: 0)
        if existing.isEmpty {
            states = try pending.map { try SAETrainingState(hook: hook, width: width, settings: plan.settings(for: $0)) }
        } else {
            guard existing.count == checkpoints.count else {
                throw WorkbenchError("\(folder.path): some of \(hook)'s SAEs have checkpoints and some not; remove the .ckpt files to train them again from the start")
            }
            states = try checkpoints.map { try SAETrainingState(resuming: $0, width: width) }
            let positions = try checkpoints.map { try SAETrainingState.streamPosition(of: $0) }
            guard Set(positions.map { "\($0.chunk)/\($0.row)" }).count == 1, Set(states.map(\.step)).count == 1 else {
                throw WorkbenchError("\(folder.path): \(hook)'s checkpoints are at different steps; remove the .ckpt files to train them again from the start")
            }
            for (state, entry) in zip(states, pending) where state.settings != plan.settings(for: entry) {
                throw WorkbenchError("\(folder.path): the checkpoint of \(entry.name) has other settings than the plan; remove it")
            }
            position = positions[0]
            log("resuming \(pending.count) SAEs of \(hook)\(control ? " (control)" : "") at step \(states[0].step)")
        }
        let B = plan.batchSize, steps = states[0].settings.steps
        let stream = try ActivationStream(model: m, hook: hook, seed: plan.seed, chunkGames: states[0].settings.chunkGames, chunk: position.chunk, row: position.row)
        let batch = UnsafeMutablePointer<Float>.allocate(capacity: B * width)
        defer { batch.deallocate() }
        let label = "\(hook)\(control ? " control" : "") × \(pending.count)"
        // The SAEs step one after another on each batch: those of one dictionary size share their scratch buffers.
        let workspaces = Dictionary(grouping: states.map(\.settings), by: \.features).mapValues { SAETrainingState.workspace(for: $0, width: width) }
        var lastSave = Date()
        while !states[0].isFinished {
            try stream.next(B, into: batch)
            var statuses: [SAETrainingStatus] = []
            for state in states { if let status = try state.train(on: batch, sharing: workspaces[state.settings.features]) { statuses.append(status) } }
            if !statuses.isEmpty {
                let ev = statuses.map(\.explainedVariance), l0 = statuses.map(\.l0)
                progress(label, states[0].step, steps, String(format: "EV %.3f…%.3f L0 %.0f…%.0f", ev.min()!, ev.max()!, l0.min()!, l0.max()!))
            }
            if Date().timeIntervalSince(lastSave) >= 300 && !states[0].isFinished {
                for (state, url) in zip(states, checkpoints) { try state.saveCheckpoint(to: url, chunk: stream.chunk, row: stream.row) }
                lastSave = Date()
            }
        }
        for (state, entry) in zip(states, pending) {
            var sae = state.sae
            sae.metadata["model"] = control ? "random-init" : modelName
            if control { sae.metadata["random_init_seed"] = String(plan.seed) }
            sae.metadata["games"] = "fresh random games (seed \(plan.seed))"
            sae.metadata["settings"] = String(decoding: try JSONEncoder().encode(state.settings), as: UTF8.self)
            try SAEFile.save(sae, to: file(entry, control: control))
        }
        for url in checkpoints { try? FileManager.default.removeItem(at: url) }
        log("trained \(pending.count) SAEs of \(hook)\(control ? " on the random-init model" : "") (\(steps) steps of \(B) positions)")
        return pending.map(\.name)
    }

    /// Scores every entry not in `results.json` yet on the plan's evaluation games.
    func score(seconds: [String: Double], log: (String) -> Void, progress: (String, Int, Int, String) -> Void) throws -> [SAESweepResult] {
        let resultsURL = folder.appendingPathComponent("results.json")
        var results: [SAESweepResult] = []
        if FileManager.default.fileExists(atPath: resultsURL.path) {
            results = (try? JSONOutput.decoder.decode([SAESweepResult].self, from: try readFile(resultsURL))) ?? []
        }
        let games = RandomGames.generate(count: plan.evaluationGames, seed: plan.seed &+ 1_000, threads: 1)
        let source = "\(plan.evaluationGames) fresh random games (seed \(plan.seed &+ 1_000))"
        let entries = plan.entries
        for (i, entry) in entries.enumerated() where !results.contains(where: { $0.entry == entry }) {
            progress("score", i, entries.count, entry.name)
            let sae = try SAEFile.load(from: file(entry))
            let numbers = SAEEvalJSON(try SAEEvaluation.evaluate(sae, model: model, games: games, source: source))
            var control: SAEEvalJSON?
            if plan.controls {
                control = SAEEvalJSON(try SAEEvaluation.evaluateControl(file(entry, control: true), like: model, games: games, batchSize: 64, source: source))
            }
            results.append(SAESweepResult(entry: entry, file: file(entry).lastPathComponent, numbers: numbers, control: control, trainingSeconds: seconds[entry.name]))
            try AtomicFile.write(try JSONOutput.encoder.encode(results), to: resultsURL)
            log(String(format: "%@: EV %.3f, L0 %.1f, board F1 %.3f, coverage %.3f", entry.name, numbers.explainedVariance, numbers.l0,
                       numbers.reconstructionF1, numbers.coverage))
        }
        return entries.compactMap { e in results.first { $0.entry == e } }
    }
}
