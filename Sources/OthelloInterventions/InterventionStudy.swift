import Foundation
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport

/// A case set, a model and the probes its edits use: scores any `EditPlan` with one batched forward pass per
/// batch of cases (run-with-hooks), the edits done inside the hooks.
///
///     let study = try InterventionStudy(model: model, cases: cases, probes: probesByHook)
///     let result = try study.evaluate(EditPlan(method: .direction(scale: 2), hooks: [HookPoint(.residPost, layer: 4)]))
///     print(result.error, result.nullError)
public final class InterventionStudy {
    public let model: HookedTransformer
    public let cases: [PreparedCase]
    /// The probes by hook: for the edits at that hook, and to read the later layers' board.
    public let probes: [HookPoint: Probe]
    /// The probes gradient edits descend (by default `probes`).
    public let gradientProbes: [HookPoint: Probe]
    public let batchSize: Int
    /// The longest prefix, and the cases in order of prefix length (batches of similar length run shorter).
    let positions: Int
    let byPosition: [Int]
    /// With a split: which cases are the validation half (`split[i]`), the others the test half.
    public var split: [Bool]?
    private var null: Recorder?

    /// `gradientProbes`, when given, are the probes gradient edits descend (e.g. Li et al.'s MLP probes); direction
    /// edits and the readings use `probes`.
    public init(model: HookedTransformer, cases: [PreparedCase], probes: [HookPoint: Probe], gradientProbes: [HookPoint: Probe]? = nil,
                batchSize: Int = 64) throws {
        guard !cases.isEmpty else { throw WorkbenchError("intervention: no cases") }
        for (hook, probe) in probes.merging(gradientProbes ?? [:], uniquingKeysWith: { a, _ in a }) {
            let probeHook = try ProbeHook(name: hook.name, config: model.config)
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
    var readers: [(point: HookPoint, probe: Probe)] {
        probes.filter { point, probe in probe.basis.isBoard && point.kind == .residPost }
            .map { (point: $0.key, probe: $0.value) }.sorted { $0.point < $1.point }
    }

    /// Scores `plan` on every case.
    public func evaluate(_ plan: EditPlan, progress: ProgressBar? = nil) throws -> InterventionResult {
        let baseline = try nullRun()
        let edited = try run(plan: plan, progress: progress)
        let V = model.config.dVocab
        var errors: [Int] = [], nullErrors: [Int] = [], legal = 0, nullLegal = 0
        for (i, c) in cases.enumerated() {
            let logits = Array(edited.logits[(i * V)..<((i + 1) * V)]), nullLogits = Array(baseline.logits[(i * V)..<((i + 1) * V)])
            errors.append(Self.topNError(logits: logits, legal: c.legalAfter))
            nullErrors.append(Self.topNError(logits: nullLogits, legal: c.legalAfter))
            legal += Self.isTopMoveLegal(logits: logits, legal: c.legalAfter) ? 1 : 0
            nullLegal += Self.isTopMoveLegal(logits: nullLogits, legal: c.legalAfter) ? 1 : 0
        }
        func mean(_ values: [Int], where keep: (Int) -> Bool = { _ in true }) -> Double {
            let kept = values.indices.filter(keep)
            return kept.isEmpty ? 0 : Double(kept.map { values[$0] }.reduce(0, +)) / Double(kept.count)
        }
        let firstLayer = plan.hooks.compactMap(\.layer).min() ?? 0
        var change: [String: Double] = [:], others: [String: Double] = [:]
        for reader in readers where reader.point.layer! >= firstLayer {
            func meanChange(_ after: [Float], _ before: [Float]) -> Double { zip(after, before).map { Double($0 - $1) }.reduce(0, +) / Double(cases.count) }
            change[reader.point.name] = meanChange(edited.reading[reader.point]!, baseline.reading[reader.point]!)
            others[reader.point.name] = meanChange(edited.others[reader.point]!, baseline.others[reader.point]!)
        }
        let n = Double(cases.count)
        var result = InterventionResult(label: plan.label, method: plan.method.name, scale: plan.method.scale, hooks: plan.hooks.map(\.name),
                                        positions: plan.positions.rawValue, cases: cases.count, error: mean(errors), nullError: mean(nullErrors),
                                        exact: Double(errors.filter { $0 == 0 }.count) / n, nullExact: Double(nullErrors.filter { $0 == 0 }.count) / n,
                                        readingChange: change)
        if let edit = plan.method.gradientEdit {
            result.learningRate = edit.learningRate
            result.relativeStep = edit.relative
            result.meanSteps = edited.editedRows > 0 ? Double(edited.steps) / Double(edited.editedRows) : 0
        }
        result.otherSquaresChange = others
        result.top1Legal = Double(legal) / n
        result.nullTop1Legal = Double(nullLegal) / n
        if let split {
            result.validationError = mean(errors) { split[$0] }
            result.testError = mean(errors) { !split[$0] }
            result.nullTestError = mean(nullErrors) { !split[$0] }
        }
        return result
    }

    /// A seeded split of `count` cases into a validation half (true) and a test half (false): strengths are chosen
    /// on the validation half and scored on the test half, never on the cases they were chosen on.
    public static func halves(count: Int, seed: UInt64) -> [Bool] {
        var random = SeededRandom(seed: seed, stream: 30)
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, random.next(below: i + 1)) }
        var split = [Bool](repeating: false, count: count)
        for i in order.prefix(count / 2) { split[i] = true }
        return split
    }

    /// Whether the highest-logit square (padding excluded) is one of `legal`.
    static func isTopMoveLegal(logits: [Float], legal: UInt64) -> Bool {
        let top = (1..<logits.count).max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) }!
        return legal & (1 << UInt64(Vocabulary.squareUnchecked(forToken: top))) != 0
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

    func nullRun() throws -> Recorder {
        if let null { return null }
        let result = try run(plan: nil, progress: nil)
        null = result
        return result
    }

    /// The logits at each case's last position (`cases × d_vocab`) and the readers' probabilities of the edited
    /// state, with `plan`'s edits (none for nil). Cases run in batches of similar prefix length (sorted by
    /// position), each batch only as long as its longest prefix: causal attention makes the padding irrelevant.
    func run(plan: EditPlan?, progress: ProgressBar?) throws -> Recorder {
        let V = model.config.dVocab
        let recorder = Recorder(points: readers.map(\.point), cases: cases.count)
        recorder.logits = [Float](repeating: 0, count: cases.count * V)
        let arena = ActivationArena(config: model.config, maxBatch: min(batchSize, cases.count), maxPositions: positions, mode: .inference)
        for start in stride(from: 0, to: byPosition.count, by: batchSize) {
            let indices = Array(byPosition[start..<min(start + batchSize, byPosition.count)])
            let batch = indices.map { cases[$0] }
            let (tokens, T) = Self.tokens(of: batch)
            let hooks = try (plan.map { try editHooks($0, cases: batch, recorder: recorder) } ?? []) + readHooks(cases: batch, indices: indices, into: recorder)
            let logits = try model.runWithHooks(tokens: tokens, games: batch.count, positions: T, hooks: hooks,
                                                options: .init(batchSize: batch.count, arena: arena))
            for (row, c) in batch.enumerated() {
                let from = (row * T + c.position) * V
                for v in 0..<V { recorder.logits[indices[row] * V + v] = logits.values[from + v] }
            }
        }
        progress?.advance(by: 1)
        return recorder
    }

    /// What a run records: the logits at each case's last position (`cases × d_vocab`); per reader hook and case,
    /// the probe's probability of the edited square's edited state (`reading`) and the mean probability of the right
    /// state of the other 63 squares (`others`); the gradient edits' Adam steps summed over the edited rows.
    final class Recorder {
        var logits: [Float] = []
        var reading: [HookPoint: [Float]]
        var others: [HookPoint: [Float]]
        var steps = 0, editedRows = 0
        init(points: [HookPoint], cases: Int) {
            reading = Dictionary(uniqueKeysWithValues: points.map { ($0, [Float](repeating: 0, count: cases)) })
            others = reading
        }
    }

    /// The hooks that make `plan`'s edits for a batch of `cases`, in the plan's order (gradient steps counted in
    /// `recorder`).
    func editHooks(_ plan: EditPlan, cases: [PreparedCase], recorder: Recorder? = nil) throws -> [Hook] {
        try plan.hooks.map { point in
            guard let probe = plan.method.scale == nil ? gradientProbes[point] : probes[point] else {
                throw WorkbenchError("no probe for \(point); give one (--probe or --probe-dir)")
            }
            return try editHook(point, probe: probe, method: plan.method, positions: plan.positions, cases: cases, recorder: recorder)
        }
    }

    /// The hooks that record every reader's probability of the edited state for a batch.
    func readHooks(cases: [PreparedCase], indices: [Int], into recorder: Recorder) -> [Hook] {
        readers.map { readHook($0.point, probe: $0.probe, cases: cases, indices: indices, recorder: recorder) }
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

    /// The hook that edits `point` for a batch of `cases` (game `g` of the batch is `cases[g]`).
    func editHook(_ point: HookPoint, probe: Probe, method: EditMethod, positions: EditPositions, cases: [PreparedCase],
                  recorder: Recorder? = nil) throws -> Hook {
        guard probe.inputWidth == model.config.dModel, point.shape(batch: 1, positions: 1, config: model.config).count == 3 else {
            throw WorkbenchError("edits change d_model-wide activations (resid_pre, resid_mid, resid_post, attn_out, mlp_out); \(point) is not one")
        }
        guard probe.basis.isBoard else {
            throw WorkbenchError("a \(method.name) edit needs a probe of the board (colour, relative or mover basis); the probe at \(point) reads \(probe.basis.rawValue)")
        }
        let d = model.config.dModel
        switch method {
        case .direction(let scale):
            let directions = try ProbeDirections(probe: probe, mode: probe.modes.firstIndex(of: .all) ?? 0)
            return Hook(point) { act in
                for g in 0..<act.shape[0] {
                    let c = cases[g]
                    for k in self.editPositions(c, positions) {
                        let position = ProbePosition(game: 0, position: k, step: c.steps[k])
                        // "mine" of the probe: the player to move (relative, colour), or who just moved (mover).
                        let perspective = probe.basis == .mover ? position.mover : position.perspective
                        ActivationEdit.direction(act.row(game: g, position: k), directions: directions, square: c.square, edit: c.base.edit,
                                                 placed: c.placedColour, perspective: perspective, scale: scale)
                    }
                }
            }
        case .gradient(let edit):
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
                    var weights = [Float](repeating: edit.otherWeight, count: m * 64)
                    for (r, row) in rows.enumerated() {
                        let source = act.row(game: row.game, position: row.position)
                        for i in 0..<d { x[r * d + i] = source[i] }
                        targets.replaceSubrange((r * 64)..<((r + 1) * 64), with: self.editedLabels(row.c, position: row.position, basis: probe.basis))
                        weights[r * 64 + row.c.square] = 1
                    }
                    let steps = ActivationEdit.gradient(probe: probe, mode: mode, x: &x, rows: m, targets: targets, weights: weights,
                                                        squares: rows.map(\.c.square), edit: edit)
                    recorder?.steps += steps.reduce(0, +)
                    recorder?.editedRows += m
                    for (r, row) in rows.enumerated() {
                        let target = act.row(game: row.game, position: row.position)
                        for i in 0..<d { target[i] = x[r * d + i] }
                    }
                }
            }
        }
    }

    /// Records, at each case's last position, the probe's probability of the square's edited state and the mean
    /// probability of the other squares' states (game `g` of the batch is `cases[g]`, case `indices[g]` of the study).
    func readHook(_ point: HookPoint, probe: Probe, cases: [PreparedCase], indices: [Int], recorder: Recorder) -> Hook {
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
                let labels = self.editedLabels(c, position: c.position, basis: probe.basis)
                func probability(_ square: Int) -> Float {
                    Softmax.probability(of: square * c3 + Int(labels[square]), in: logits[(square * c3)..<((square + 1) * c3)])
                }
                recorder.reading[point]![index] = probability(c.square)
                recorder.others[point]![index] = (0..<64).filter { $0 != c.square }.map(probability).reduce(0, +) / 63
            }
        }
    }
}
