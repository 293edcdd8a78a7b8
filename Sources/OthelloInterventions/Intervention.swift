import Foundation
import OthelloModel
import OthelloProbes
import OthelloRules
import OthelloTraining
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
    public var hooks: [String]
    public var positions: EditPositions
    /// Short name for tables (`blocks.4.hook_resid_post ×2`).
    public var label: String

    public init(method: EditMethod, hooks: [String], positions: EditPositions = .last, label: String? = nil) {
        self.method = method
        self.hooks = hooks
        self.positions = positions
        self.label = label ?? Self.describe(method: method, hooks: hooks, positions: positions)
    }

    static func describe(method: EditMethod, hooks: [String], positions: EditPositions) -> String {
        let where_ = hooks.count == 1 ? hooks[0] : "\(hooks.first!) … \(hooks.last!) (\(hooks.count) hooks)"
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

/// A case set, a model and the probes its edits use: scores any `EditPlan` with one batched forward pass per
/// batch of cases (run-with-hooks), the edits done inside the hooks.
///
///     let study = try InterventionStudy(model: model, cases: cases, probes: probesByHook)
///     let result = try study.evaluate(EditPlan(method: .direction(scale: 2), hooks: ["blocks.4.hook_resid_post"]))
///     print(result.error, result.nullError)
public final class InterventionStudy {
    public let model: HookedTransformer
    public let cases: [PreparedCase]
    /// The probes by hook name: for the edits at that hook, and to read the later layers' board.
    public let probes: [String: Probe]
    /// The probes gradient edits descend (by default `probes`).
    public let gradientProbes: [String: Probe]
    public let batchSize: Int
    /// The longest prefix, and the cases in order of prefix length (batches of similar length run shorter).
    let positions: Int
    let byPosition: [Int]
    private var null: (logits: [Float], readings: [String: [Float]])?

    /// `gradientProbes`, when given, are the probes gradient edits descend (e.g. Li et al.'s MLP probes); direction
    /// edits and the readings use `probes`.
    public init(model: HookedTransformer, cases: [PreparedCase], probes: [String: Probe], gradientProbes: [String: Probe]? = nil,
                batchSize: Int = 64) throws {
        guard !cases.isEmpty else { throw WorkbenchError("intervention: no cases") }
        for (hook, probe) in probes.merging(gradientProbes ?? [:], uniquingKeysWith: { a, _ in a }) {
            let probeHook = try ProbeHook(name: hook, config: model.config)
            try probe.check(fits: probeHook, config: model.config, source: "the probe at \(hook)")
        }
        self.model = model
        self.cases = cases
        self.probes = probes
        self.gradientProbes = gradientProbes ?? probes
        self.batchSize = max(1, batchSize)
        positions = cases.map { $0.position + 1 }.max()!
        byPosition = cases.indices.sorted { (cases[$0].position, $0) < (cases[$1].position, $1) }
    }

    /// The later resid_post hooks with a probe of the board, in forward order: where the readings are taken.
    var readers: [(name: String, point: HookPoint, probe: Probe)] {
        probes.compactMap { name, probe -> (String, HookPoint, Probe)? in
            guard probe.basis.isBoard, let point = try? HookPoint(name: name), point.kind == .residPost else { return nil }
            return (name, point, probe)
        }.sorted { $0.1.layer! < $1.1.layer! }
    }

    /// Scores `plan` on every case.
    public func evaluate(_ plan: EditPlan, progress: ProgressBar? = nil) throws -> InterventionResult {
        let baseline = try nullRun()
        let edited = try run(plan: plan, progress: progress)
        var error = 0, nullError = 0, exact = 0, nullExact = 0
        let V = model.config.dVocab
        for (i, c) in cases.enumerated() {
            let e = Self.topNError(logits: Array(edited.logits[(i * V)..<((i + 1) * V)]), legal: c.legalAfter)
            let n = Self.topNError(logits: Array(baseline.logits[(i * V)..<((i + 1) * V)]), legal: c.legalAfter)
            error += e
            nullError += n
            exact += e == 0 ? 1 : 0
            nullExact += n == 0 ? 1 : 0
        }
        let firstLayer = plan.hooks.compactMap { try? HookPoint(name: $0) }.compactMap(\.layer).min() ?? 0
        var change: [String: Double] = [:]
        for reader in readers where reader.point.layer! >= firstLayer {
            let before = baseline.readings[reader.name]!, after = edited.readings[reader.name]!
            change[reader.name] = zip(after, before).map { Double($0 - $1) }.reduce(0, +) / Double(cases.count)
        }
        let n = Double(cases.count)
        return InterventionResult(label: plan.label, method: plan.method.name, scale: plan.method.scale, hooks: plan.hooks,
                                  positions: plan.positions.rawValue, cases: cases.count, error: Double(error) / n,
                                  nullError: Double(nullError) / n, exact: Double(exact) / n, nullExact: Double(nullExact) / n,
                                  readingChange: change)
    }

    /// The logits at each case's last position, with the edits of `plan` (none for nil): `[case][token]`.
    public func logits(plan: EditPlan?) throws -> [[Float]] {
        let logits = try run(plan: plan, progress: nil).logits, V = model.config.dVocab
        return cases.indices.map { Array(logits[($0 * V)..<(($0 + 1) * V)]) }
    }

    /// The model's next-move probabilities at each case's last position (softmax over the vocabulary), with the
    /// edits of `plan` (none for nil).
    public func probabilities(plan: EditPlan?) throws -> [[Float]] {
        let logits = try run(plan: plan, progress: nil).logits, V = model.config.dVocab
        return cases.indices.map { i in Softmax.probabilities(logits[(i * V)..<((i + 1) * V)]) }
    }

    /// Li et al.'s error of one prediction: the top-N squares by logit (N = the number of legal moves; padding
    /// excluded), false positives plus false negatives against `legal`.
    public static func topNError(logits: [Float], legal: UInt64) -> Int {
        let n = legal.nonzeroBitCount
        let ranked = (1..<logits.count).sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        let predicted = ranked.prefix(n).reduce(UInt64(0)) { $0 | (1 << UInt64(Vocabulary.squareUnchecked(forToken: $1))) }
        return (predicted & ~legal).nonzeroBitCount + (legal & ~predicted).nonzeroBitCount
    }

    func nullRun() throws -> (logits: [Float], readings: [String: [Float]]) {
        if let null { return null }
        let result = try run(plan: nil, progress: nil)
        null = result
        return result
    }

    /// The logits at each case's last position (`cases × d_vocab`) and the readers' probabilities of the edited
    /// state, with `plan`'s edits (none for nil). Cases run in batches of similar prefix length (sorted by
    /// position), each batch only as long as its longest prefix: causal attention makes the padding irrelevant.
    func run(plan: EditPlan?, progress: ProgressBar?) throws -> (logits: [Float], readings: [String: [Float]]) {
        let V = model.config.dVocab
        let recorder = Recorder()
        for reader in readers { recorder.values[reader.name] = [Float](repeating: 0, count: cases.count) }
        var last = [Float](repeating: 0, count: cases.count * V)
        let arena = ActivationArena(config: model.config, maxBatch: min(batchSize, cases.count), maxPositions: positions, mode: .inference)
        for start in stride(from: 0, to: byPosition.count, by: batchSize) {
            let indices = Array(byPosition[start..<min(start + batchSize, byPosition.count)])
            let batch = indices.map { cases[$0] }
            let (tokens, T) = Self.tokens(of: batch)
            var hooks: [Hook] = []
            if let plan {
                for name in plan.hooks {
                    guard let probe = editProbe(name, plan.method) else { throw WorkbenchError("no probe for \(name); give one (--probe or --probe-dir)") }
                    hooks.append(try editHook(name: name, probe: probe, method: plan.method, positions: plan.positions, cases: batch))
                }
            }
            for reader in readers {
                hooks.append(readHook(reader.name, point: reader.point, probe: reader.probe, cases: batch, indices: indices, recorder: recorder))
            }
            let logits = try model.runWithHooks(tokens: tokens, games: batch.count, positions: T, hooks: hooks,
                                                options: .init(batchSize: batch.count, arena: arena))
            for (row, c) in batch.enumerated() {
                let from = (row * T + c.position) * V
                for v in 0..<V { last[indices[row] * V + v] = logits.values[from + v] }
            }
        }
        progress?.advance(by: 1)
        return (last, recorder.values)
    }

    final class Recorder { var values: [String: [Float]] = [:] }

    /// The probe an edit of `method` uses at `hook`.
    func editProbe(_ hook: String, _ method: EditMethod) -> Probe? {
        method.scale == nil ? gradientProbes[hook] : probes[hook]
    }

    /// The prefixes of `batch` as model tokens, padded with 0 to the longest: `batch.count × T`, and `T`.
    static func tokens(of batch: [PreparedCase]) -> (tokens: [Int32], positions: Int) {
        let T = batch.map { $0.position + 1 }.max()!
        var tokens = [Int32](repeating: 0, count: batch.count * T)
        for (row, c) in batch.enumerated() {
            for (p, token) in Vocabulary.tokens(forMoves: c.base.moves).enumerated() { tokens[row * T + p] = token }
        }
        return (tokens, T)
    }

    /// The labels of the edited board at `position` in `basis` (64 classes).
    func editedLabels(_ c: PreparedCase, position: Int, basis: ProbeBasis) -> [UInt8] {
        var step = c.steps[position]
        step.board = c.editedBoard(at: position)
        var labels = [UInt8](repeating: 0, count: 64)
        labels.withUnsafeMutableBufferPointer { basis.labels(of: ProbePosition(game: 0, position: position, step: step), into: $0.baseAddress!) }
        return labels
    }

    func editPositions(_ c: PreparedCase, _ positions: EditPositions) -> ClosedRange<Int> {
        positions == .last ? c.position...c.position : c.editStart...c.position
    }

    func mode(of probe: Probe, _ c: PreparedCase, position: Int) -> Int {
        ProbeMode.matched(ProbePosition(game: 0, position: position, step: c.steps[position]), among: probe.modes) ?? 0
    }

    /// The hook that edits `name` for a batch of `cases` (game `g` of the batch is `cases[g]`).
    func editHook(name: String, probe: Probe, method: EditMethod, positions: EditPositions, cases: [PreparedCase]) throws -> Hook {
        let point = try HookPoint(name: name)
        guard probe.inputWidth == model.config.dModel, point.shape(batch: 1, positions: 1, config: model.config).count == 3 else {
            throw WorkbenchError("edits change d_model-wide activations (resid_pre, resid_mid, resid_post, attn_out, mlp_out); \(name) is not one")
        }
        let d = model.config.dModel
        switch method {
        case .direction(let scale):
            let directions = try ProbeDirections(probe: probe, mode: probe.modes.firstIndex(of: .all) ?? 0)
            guard probe.basis.isBoard else { throw WorkbenchError("a direction edit needs a probe of the board (colour or relative basis); the probe at \(name) reads \(probe.basis.rawValue)") }
            return Hook(point) { act in
                for g in 0..<act.shape[0] {
                    let c = cases[g]
                    for k in self.editPositions(c, positions) {
                        let x = act.row(game: g, position: k)
                        /// x ← x − (scale + 1)(x·u)u.
                        func reflect(_ u: [Float]) {
                            var dot: Float = 0
                            for i in 0..<d { dot += x[i] * u[i] }
                            let step = (scale + 1) * dot
                            for i in 0..<d { x[i] -= step * u[i] }
                        }
                        switch c.base.edit {
                        case .flip: reflect(directions.mineMinusTheirs[c.square])
                        case .empty: reflect(directions.empty[c.square])
                        case .mine, .theirs:
                            // Occupied: reflect along the empty direction; then, if the mine − theirs reading points to
                            // the other colour, reflect along that direction too.
                            reflect(directions.empty[c.square])
                            let position = ProbePosition(game: 0, position: k, step: c.steps[k])
                            // "mine" of the probe: the player to move (relative, colour), or who just moved (mover).
                            let perspective = probe.basis == .mover ? position.mover : position.perspective
                            let u = directions.mineMinusTheirs(c.square, perspective: perspective)
                            var dot: Float = 0
                            for i in 0..<d { dot += x[i] * u[i] }
                            if (dot > 0) != (c.placedColour == perspective) { reflect(u) }
                        }
                    }
                }
            }
        case .gradient(let learningRate, let steps, let otherWeight):
            guard probe.basis.isBoard else { throw WorkbenchError("a gradient edit needs a probe of the board; the probe at \(name) reads \(probe.basis.rawValue)") }
            return Hook(point) { act in
                // Every edited row of the batch, optimised together (one product per step), one probe mode at a time.
                var rowsByMode: [Int: [(game: Int, position: Int, c: PreparedCase)]] = [:]
                for g in 0..<act.shape[0] {
                    let c = cases[g]
                    for k in self.editPositions(c, positions) { rowsByMode[self.mode(of: probe, c, position: k), default: []].append((g, k, c)) }
                }
                for (mode, rows) in rowsByMode {
                    let m = rows.count
                    var x = [Float](repeating: 0, count: m * d), targets = [UInt8](repeating: 0, count: m * 64)
                    var weights = [Float](repeating: otherWeight, count: m * 64)
                    for (r, row) in rows.enumerated() {
                        let source = act.row(game: row.game, position: row.position)
                        for i in 0..<d { x[r * d + i] = source[i] }
                        targets.replaceSubrange((r * 64)..<((r + 1) * 64), with: self.editedLabels(row.c, position: row.position, basis: probe.basis))
                        weights[r * 64 + row.c.square] = 1
                    }
                    Self.descend(probe: probe, mode: mode, x: &x, rows: m, targets: targets, weights: weights,
                                 learningRate: learningRate, steps: steps)
                    for (r, row) in rows.enumerated() {
                        let target = act.row(game: row.game, position: row.position)
                        for i in 0..<d { target[i] = x[r * d + i] }
                    }
                }
            }
        }
    }

    /// Adam (β 0.9/0.999, eps 1e-8, no weight decay) on the activations `x` against the probe's weighted loss.
    /// The products are small (one batch's edited rows), so they run on one OpenBLAS thread: faster than two.
    static func descend(probe: Probe, mode: Int, x: inout [Float], rows m: Int, targets: [UInt8], weights: [Float],
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

    /// Records, at each case's last position, the probe's probability of the square's edited state (game `g` of
    /// the batch is `cases[g]`, case `indices[g]` of the study).
    func readHook(_ name: String, point: HookPoint, probe: Probe, cases: [PreparedCase], indices: [Int], recorder: Recorder) -> Hook {
        let c3 = probe.classes
        return Hook(point) { act in
            var logits = [Float](repeating: 0, count: probe.outputs)
            var hidden = [Float](repeating: 0, count: max(1, probe.hidden))
            for g in 0..<act.shape[0] {
                let index = indices[g], c = cases[g]
                let row = act.row(game: g, position: c.position)
                let mode = self.mode(of: probe, c, position: c.position)
                logits.withUnsafeMutableBufferPointer { l in
                    hidden.withUnsafeMutableBufferPointer { h in
                        probe.logits(mode: mode, inputs: UnsafePointer(row.baseAddress!), rows: 1, into: l.baseAddress!, hiddenScratch: h.baseAddress!)
                    }
                }
                let target = Int(self.editedLabels(c, position: c.position, basis: probe.basis)[c.square])
                recorder.values[name]![index] = Softmax.probability(of: c.square * c3 + target, in: logits[(c.square * c3)..<((c.square + 1) * c3)])
            }
        }
    }
}
