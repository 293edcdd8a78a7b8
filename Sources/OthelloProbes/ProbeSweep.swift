import Foundation
import OthelloModel
import OthelloRules
import OthelloTraining
import WorkbenchSupport

/// The probe study of Li et al. and Nanda in one call: at every hook, every probe kind in every basis, trained on
/// the training games and scored on the held-out games, beside the controls — the same probe on a randomly
/// initialised model of the same shape, and the trivial baseline (most frequent class per square and position).
///
///     let sweep = try ProbeSweep.run(model: model, games: games, split: split,
///                                    hooks: ProbeHook.residualStream(config: model.config))
///     sweep.best(kind: .linear, basis: .relative)      // the layer where the board reads best
public struct ProbeSweep {
    /// One probe of the sweep and its scores.
    public struct Entry {
        public var hook: ProbeHook
        public var kind: Probe.Kind
        public var basis: ProbeBasis
        public var probe: Probe
        public var score: ProbeScore
        /// The same recipe on the randomly initialised model (nil when controls are off).
        public var control: ProbeScore?
    }

    public var entries: [Entry]
    /// Per basis, the trivial baseline's score on the test games.
    public var baselines: [ProbeBasis: ProbeScore]
    public var split: GameSplit

    /// The probe with the best test accuracy for `kind` and `basis`.
    public func best(kind: Probe.Kind, basis: ProbeBasis) -> Entry? {
        entries.filter { $0.kind == kind && $0.basis == basis }.max { $0.score.accuracy < $1.score.accuracy }
    }

    public func entry(hook: ProbeHook, kind: Probe.Kind, basis: ProbeBasis) -> Entry? {
        entries.first { $0.hook == hook && $0.kind == kind && $0.basis == basis }
    }

    /// Runs the sweep. `log` receives one line per finished probe (for a terminal-free log).
    public static func run(model: HookedTransformer, games: GameDataset, split: GameSplit, hooks: [ProbeHook],
                           kinds: [Probe.Kind] = [.linear, .mlp], bases: [ProbeBasis] = [.colour, .relative],
                           extraLinearBases: [ProbeBasis] = [], positionRange: ClosedRange<Int>? = nil, settings: ProbeTrainingSettings = ProbeTrainingSettings(),
                           controls: Bool = true, batchSize: Int = 128, source: String = "games",
                           log: (String) -> Void = { _ in }) throws -> ProbeSweep {
        try settings.validate()
        let positions = model.config.nCtx
        func collect(_ model: HookedTransformer, _ indices: [Int], _ label: String) throws -> ProbeData {
            let bar = ProgressBar(total: indices.count, label: label)
            defer { bar.finish() }
            return try ProbeData.collect(model: model, games: games, indices: indices, hooks: hooks, positionRange: positionRange,
                                         batchSize: batchSize, source: source, progress: bar)
        }
        var entries: [Entry] = []
        // The grid kinds × bases, then linear probes of the extra bases (e.g. `flipped`, for its direction).
        var recipes = kinds.flatMap { kind in bases.map { (kind, $0) } }
        recipes += extraLinearBases.filter { !(kinds.contains(.linear) && bases.contains($0)) }.map { (.linear, $0) }
        let probesPerModel = hooks.count * recipes.count
        func trainAll(_ train: ProbeData, _ test: ProbeData, label: String, _ body: (Int, Probe, ProbeScore) -> Void) throws {
            let stepsPerProbe = ProbeTrainer.steps(rows: train.rows, settings: settings)
            let bar = ProgressBar(total: probesPerModel * stepsPerProbe, label: label)
            defer { bar.finish() }
            var index = 0
            for hook in hooks {
                for (kind, basis) in recipes {
                    let probe = try ProbeTrainer.train(kind: kind, basis: basis, hook: hook, on: train, settings: settings, progress: bar)
                    let score = try ProbeEvaluator.evaluate(probe, on: test, hook: hook, positions: positions).headline
                    body(index, probe, score)
                    index += 1
                }
            }
        }
        do {
            let train = try collect(model, split.train, "activations (train)")
            let test = try collect(model, split.test, "activations (test)")
            try trainAll(train, test, label: "probes") { _, probe, score in
                let hook = hooks.first { $0.name == probe.hook }!
                entries.append(Entry(hook: hook, kind: probe.kind, basis: probe.basis, probe: probe, score: score, control: nil))
                log(String(format: "%@ %@ %@: %.2f%%", hook.name, probe.kind.rawValue, probe.basis.rawValue, 100 * score.accuracy))
            }
            var baselines: [ProbeBasis: ProbeScore] = [:]
            for basis in Set(recipes.map(\.1)) { baselines[basis] = TrivialBaseline(basis: basis, fittedOn: train, positions: positions).score(on: test) }
            if controls {
                let random = HookedTransformer.randomlyInitialised(like: model, seed: settings.seed)
                let controlTrain = try collect(random, split.train, "activations (random-init control, train)")
                let controlTest = try collect(random, split.test, "activations (random-init control, test)")
                try trainAll(controlTrain, controlTest, label: "control probes") { index, probe, score in
                    entries[index].control = score
                    log(String(format: "control %@ %@ %@: %.2f%%", probe.hook, probe.kind.rawValue, probe.basis.rawValue, 100 * score.accuracy))
                }
            }
            return ProbeSweep(entries: entries, baselines: baselines, split: split)
        }
    }
}
