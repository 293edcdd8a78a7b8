import Foundation
import OthelloModel
import OthelloTraining
import WorkbenchSupport

/// The positive control for the head scores (`othello-gpt heads control`): a small attention-only transformer,
/// trained by the workbench's own trainer on periodic random token sequences, learns in-context copying with a
/// previous-token head and an induction head (Olsson et al., 2022) — and the head scores must find exactly those.
///
/// Each training sequence is `context + 1` tokens: random filler tokens (0 to `context + 1 − 2p` of them), then a
/// period of `p` distinct random tokens (`p` uniform in `minPeriod...context / 2`) repeated to the end — at least
/// twice — all from 1..<`vocabulary` (0 is the trainer's padding) and no token repeated but the period's. Up to the
/// second token of the second copy nothing can be predicted (loss ≈ ln(vocabulary − 1)); from there every token can,
/// by finding the current token earlier and copying the one after it — which a 2-layer attention-only model does with
/// a previous-token head in layer 0 feeding an induction head in layer 1. Where the copy starts and its distance vary,
/// so position alone cannot do it.
///
/// After training, `RepeatedTokenAttention` scores every head. The induction heads are those with an induction score
/// of at least `inductionThreshold` (a model may grow more than one), the previous-token head the head of an earlier
/// layer with the highest previous-token score. Zero-ablating the induction heads (their `hook_z`) must destroy the
/// copying: the loss on the repeated tokens rises to the level of the unrepeated ones.
///
///     let result = try InductionHeadControl().run()
///     result.inductionHeads         // e.g. [L1H0, L1H1], induction scores ≥ 0.9
///     result.repeatedLossAblated    // ≈ result.firstPeriodLoss
public struct InductionHeadControl {
    public var layers = 2
    public var dModel = 64
    public var heads = 2
    /// `d_vocab`: tokens 1..<vocabulary are drawn, 0 is never used.
    public var vocabulary = 64
    /// `n_ctx`: positions the model reads.
    public var context = 32
    public var minPeriod = 4
    public var steps = 3000
    public var batch = 128
    /// Adam's peak rate, after `warmupSteps`. The canonical circuit is sensitive to it: at 3e-4 the model learns a
    /// previous-token head and induction heads; at 1e-3 it learns to copy as well but through smeared heads that
    /// attend a few positions off (measured: `heads control --lr 1e-3`).
    public var learningRate: Float = 3e-4
    public var warmupSteps = 100
    public var evaluationSequences = 256
    /// The induction score from which a head counts as an induction head.
    public var inductionThreshold = 0.5
    public var seed: UInt64 = 1
    public var threads = Parallel.coreCount

    public init() {}

    public struct Head: Codable, Sendable, Equatable, CustomStringConvertible {
        public var layer: Int, head: Int
        public var description: String { "L\(layer)H\(head)" }
    }

    public struct Result: Codable, Sendable {
        /// The model's shape in words.
        public var model: String
        /// TransformerLens' detectors on every head, `[layer][head]`.
        public var scores: RepeatedTokenAttention
        /// The heads with an induction score ≥ `inductionThreshold`, best first, and the best one's score.
        public var inductionHeads: [Head]
        public var inductionScore: Double
        public var previousTokenHead: Head
        public var previousTokenScore: Double
        /// The largest induction score of any head that is not an induction head, and the largest previous-token
        /// score of any head but the previous-token head.
        public var otherInductionMax: Double
        public var otherPreviousTokenMax: Double
        /// Mean next-token loss (nats) on held-out sequences: on the tokens that cannot be predicted (up to the second
        /// token of the second copy), on the repeated ones after it, and on the repeated ones with the induction heads, each induction head alone, or the
        /// previous-token head zero-ablated.
        public var firstPeriodLoss: Double
        public var repeatedLoss: Double
        public var repeatedLossAblated: Double
        public var repeatedLossEachAblated: [Double]
        public var repeatedLossPreviousTokenAblated: Double
        /// ln(vocabulary − 1): the loss of a uniform guess among the tokens.
        public var uniformLoss: Double
        public var finalTrainingLoss: Double
        public var steps: Int
        public var seconds: Double
    }

    public var config: ModelConfig {
        get throws { try ModelConfig(nLayers: layers, dModel: dModel, nHeads: heads, dMLP: 0, dVocab: vocabulary, nCtx: context, attnOnly: true) }
    }

    /// `count` sequences of `context + 1` tokens (see the type's description), from the seeded stream `stream`; each
    /// one's period, and where its predictable part starts: the second token of the second copy (the first one
    /// follows the first copy's last token, which has not appeared before).
    public func sequences(count: Int, stream: UInt64) throws -> (batch: TokenBatch, periods: [Int], repeatsFrom: [Int]) {
        let width = context + 1
        var random = SeededRandom(seed: seed, stream: stream)
        var tokens = [Int32](repeating: 0, count: count * width)
        var starts: [Int] = [], periods: [Int] = []
        let pool = Array(1..<Int32(vocabulary))
        for s in 0..<count {
            let p = minPeriod + random.next(below: context / 2 - minPeriod + 1)
            let filler = random.next(below: width - 2 * p + 1)
            // The period's tokens first (distinct), then the filler's (distinct from the period's, so nothing else repeats).
            var choices = pool
            for i in 0..<min(choices.count, p + filler) { choices.swapAt(i, i + random.next(below: choices.count - i)) }
            for t in 0..<filler { tokens[s * width + t] = choices[p + t % max(1, choices.count - p)] }
            for t in 0..<(width - filler) { tokens[s * width + filler + t] = choices[t % p] }
            starts.append(filler + p + 1)
            periods.append(p)
        }
        return (try TokenBatch(tokens: tokens, games: count, width: width, vocabulary: vocabulary), periods, starts)
    }

    /// Trains the model and scores it.
    public func run(progress: ProgressBar? = nil) throws -> Result {
        guard layers >= 2, heads >= 1, minPeriod >= 2, context >= 2 * minPeriod, vocabulary > context + 1, steps >= 1, batch >= 1, evaluationSequences >= 1 else {
            throw WorkbenchError("heads control: give --layers ≥ 2, --min-period ≥ 2, --context ≥ 2 × --min-period, --vocabulary above context + 1 (only the period repeats), --steps, --batch and --eval ≥ 1")
        }
        let config = try self.config
        let parameters = ModelParameters(config: config)
        parameters.initializeForTraining(seed: seed)
        let trainer = try Trainer(parameters: parameters, batchSize: batch, optimizer: AdamW.Settings(), threads: threads,
                                  gamesPerShard: max(1, batch / max(threads, 1)), positions: context)
        let start = Date()
        var lastLoss = 0.0
        for step in 0..<steps {
            let lr = learningRate * min(1, Float(step + 1) / Float(max(warmupSteps, 1)))
            let result = try trainer.step(games: try sequences(count: batch, stream: UInt64(step)).batch, learningRate: lr, maxGradNorm: 1)
            guard result.loss.isFinite else { throw WorkbenchError("heads control: the loss diverged at step \(step); lower --lr") }
            lastLoss = result.loss
            progress?.advance(by: 1)
        }
        let seconds = Date().timeIntervalSince(start)
        let model = HookedTransformer(parameters: parameters)

        let scores = try RepeatedTokenAttention.measure(model: model, seed: seed)
        let all = (0..<layers).flatMap { l in (0..<heads).map { Head(layer: l, head: $0) } }
        var induction = all.filter { scores.induction[$0.layer][$0.head] >= inductionThreshold }
            .sorted { scores.induction[$0.layer][$0.head] > scores.induction[$1.layer][$1.head] }
        if induction.isEmpty, let best = all.max(by: { scores.induction[$0.layer][$0.head] < scores.induction[$1.layer][$1.head] }) { induction = [best] }
        let first = induction[0]
        let earlier = all.filter { $0.layer < max(first.layer, 1) }
        let previous = earlier.max { scores.previousToken[$0.layer][$0.head] < scores.previousToken[$1.layer][$1.head] }!
        let otherInduction = all.filter { !induction.contains($0) }.map { scores.induction[$0.layer][$0.head] }.max() ?? 0
        let otherPrevious = all.filter { $0 != previous }.map { scores.previousToken[$0.layer][$0.head] }.max() ?? 0

        let evaluation = try sequences(count: evaluationSequences, stream: UInt64.max)
        let clean = try losses(model: model, evaluation: evaluation, ablating: [])
        let ablated = try losses(model: model, evaluation: evaluation, ablating: induction)
        let each = try induction.map { try losses(model: model, evaluation: evaluation, ablating: [$0]).repeated }
        let previousAblated = try losses(model: model, evaluation: evaluation, ablating: [previous])
        return Result(model: config.shapeDescription, scores: scores, inductionHeads: induction, inductionScore: scores.induction[first.layer][first.head],
                      previousTokenHead: previous, previousTokenScore: scores.previousToken[previous.layer][previous.head],
                      otherInductionMax: otherInduction, otherPreviousTokenMax: otherPrevious,
                      firstPeriodLoss: clean.firstPeriod, repeatedLoss: clean.repeated, repeatedLossAblated: ablated.repeated,
                      repeatedLossEachAblated: each, repeatedLossPreviousTokenAblated: previousAblated.repeated,
                      uniformLoss: log(Double(vocabulary - 1)), finalTrainingLoss: lastLoss, steps: steps, seconds: seconds)
    }

    /// The mean next-token loss on the tokens before the second copy and on the repeated ones, with the `hook_z` of
    /// the heads `ablating` set to zero.
    func losses(model: HookedTransformer, evaluation: (batch: TokenBatch, periods: [Int], repeatsFrom: [Int]), ablating heads: [Head]) throws -> (firstPeriod: Double, repeated: Double) {
        let (T, V, D, width) = (context, vocabulary, model.config.dHead, context + 1)
        let n = evaluation.batch.count
        var inputs = [Int32](repeating: 0, count: n * T)
        for s in 0..<n { for t in 0..<T { inputs[s * T + t] = evaluation.batch.tokens[s * width + t] } }
        let hooks = heads.map { head in
            Hook.positions(HookPoint(.z, layer: head.layer)) { act, game, position in
                act.row(game: game, position: position)[(head.head * D)..<((head.head + 1) * D)].update(repeating: 0)
            }
        }
        let logits = try model.runWithHooks(tokens: inputs, games: n, positions: T, hooks: hooks)
        var first = (sum: 0.0, count: 0), repeated = (sum: 0.0, count: 0)
        logits.values.withUnsafeBufferPointer { z in
            for s in 0..<n {
                for t in 0..<T {
                    let target = Int(evaluation.batch.tokens[s * width + t + 1])
                    let loss = Softmax.negativeLogProbability(of: target, logits: z.baseAddress! + (s * T + t) * V, count: V)
                    if t + 1 < evaluation.repeatsFrom[s] { first = (first.sum + loss, first.count + 1) } else { repeated = (repeated.sum + loss, repeated.count + 1) }
                }
            }
        }
        return (first.sum / Double(max(first.count, 1)), repeated.sum / Double(max(repeated.count, 1)))
    }
}
