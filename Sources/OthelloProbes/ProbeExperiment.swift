import Foundation
import OthelloModel
import OthelloRules
import OthelloTraining
import WorkbenchSupport

/// One probe trained and scored with its controls, as `probe train` does it: activations collected on the split's
/// training and held-out games, the probe trained (one per mode) and scored on the held-out games, beside the
/// trivial baseline fitted on the training games and, optionally, the same recipe on a randomly initialised model
/// of the same shape.
///
///     let result = try ProbeExperiment.run(model: model, games: games, split: split, hook: hook, kind: .linear,
///                                          basis: .relative, settings: ProbeTrainingSettings())
///     result.evaluation.headline.accuracy, result.baseline.accuracy, result.control?.headline.accuracy
public struct ProbeExperiment {
    public var probe: Probe
    public var evaluation: ProbeEvaluation
    /// The trivial baseline (most frequent class per square and position in the training games) on the held-out games.
    public var baseline: ProbeScore
    /// The same recipe on the random-init model; nil without `controlSeed`.
    public var control: ProbeEvaluation?

    public static func run(model: HookedTransformer, games: GameDataset, split: GameSplit, hook: ProbeHook, kind: Probe.Kind,
                           basis: ProbeBasis, modes: [ProbeMode] = [.all], positionRange: ClosedRange<Int>? = nil,
                           settings: ProbeTrainingSettings, controlSeed: UInt64? = nil, batchSize: Int = 128,
                           source: String = "games", showProgress: Bool = true) throws -> ProbeExperiment {
        func trainAndScore(_ m: HookedTransformer, label: String) throws -> (Probe, ProbeEvaluation, ProbeData, ProbeData) {
            let bar = showProgress ? ProgressBar(total: games.count, label: "activations\(label)") : nil
            let train = try ProbeData.collect(model: m, games: games, indices: split.train, hooks: [hook], positionRange: positionRange,
                                              batchSize: batchSize, source: source, progress: bar)
            let test = try ProbeData.collect(model: m, games: games, indices: split.test, hooks: [hook], positionRange: positionRange,
                                             batchSize: batchSize, source: source, progress: bar)
            bar?.finish()
            let steps = modes.map { ProbeTrainer.steps(rows: train.rows(in: $0).count, settings: settings) }.reduce(0, +)
            let trainBar = showProgress ? ProgressBar(total: steps, label: "train\(label)") : nil
            let probe = try ProbeTrainer.train(kind: kind, basis: basis, hook: hook, modes: modes, on: train, settings: settings, progress: trainBar)
            trainBar?.finish()
            return (probe, try ProbeEvaluator.evaluate(probe, on: test, hook: hook, positions: m.config.nCtx), train, test)
        }
        let (probe, evaluation, train, test) = try trainAndScore(model, label: "")
        let baseline = TrivialBaseline(basis: basis, fittedOn: train, positions: model.config.nCtx).score(on: test)
        let control = try controlSeed.map { try trainAndScore(HookedTransformer.randomlyInitialised(like: model, seed: $0), label: " (random-init control)").1 }
        return ProbeExperiment(probe: probe, evaluation: evaluation, baseline: baseline, control: control)
    }
}
