import Foundation
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport

/// An SAE measured on games: how well it reconstructs the hook, how sparse it is, how much of the model's
/// next-move prediction survives running on its reconstruction, and how well its features read the board.
public struct SAEEvaluation: Codable, Sendable {
    /// Mean over positions of ‖x − x̂‖², and 1 − Σ‖x − x̂‖² / Σ‖x − mean(x)‖².
    public var mse: Double
    public var explainedVariance: Double
    /// Mean number of active features per position.
    public var l0: Double
    /// Features that never fire on these positions, and those firing at more than 10% of them.
    public var dead: Int
    public var dense: Int
    /// Share of the features firing at fewer than 10%, 1%, 0.1%, 0.01% of the positions (dead ones included).
    public var frequencyBelow: [String: Double]
    /// Per feature, the share of positions at which it fires.
    public var frequencies: [Double]
    /// Mean next-move cross-entropy and legal top-1: clean, with the SAE's reconstruction spliced in at the hook,
    /// and with the hook zero-ablated.
    public var loss: Comparison
    public var legalTop1: Comparison
    /// (zero-ablated − spliced) / (zero-ablated − clean) of the loss: 1 = the reconstruction loses nothing; nil when
    /// zero-ablating does not raise the loss (a random-init model), so there is nothing to recover.
    public var lossRecovered: Double?
    /// Karvonen et al.'s board metrics (training positions: the first half of the games; held out: the rest).
    public var board: BoardFeatureMetrics
    public var positions: Int

    public struct Comparison: Codable, Sendable {
        public var clean: Double
        public var spliced: Double
        public var zeroAblated: Double
    }

    /// Evaluates `sae` on `games` with `model` (run-with-cache for the activations, run-with-hooks for the splices).
    public static func evaluate(_ sae: SparseAutoencoder, model: HookedTransformer, games: GameDataset, batchSize: Int = 64,
                                source: String = "games", progress: ProgressBar? = nil) throws -> SAEEvaluation {
        try sae.check(fits: model.config, source: "the SAE")
        guard games.count >= 2 else { throw WorkbenchError("\(source): the SAE evaluation needs at least 2 games (half to label features, half held out)") }
        let point = try HookPoint(name: sae.hook)
        let T = model.config.nCtx, V = model.config.dVocab, d = sae.dIn, n = sae.dSAE, layout = sae.layout
        let half = games.count / 2
        var train = SparseActivations(), test = SparseActivations()
        var trainActive: [[Int]] = [], testActive: [[Int]] = []
        var fired = [Int](repeating: 0, count: n)
        var reconstructionScore = ReconstructionScore(width: d)
        var scores = (clean: NextMoveScore(), spliced: NextMoveScore(), zero: NextMoveScore())
        var workspaceRows = 0
        var workspace = SparseAutoencoder.Workspace(dIn: d, dSAE: n, rows: 1)

        for start in stride(from: 0, to: games.count, by: batchSize) {
            let batch = Array(start..<min(start + batchSize, games.count))
            let (x, positions) = try ActivationStream.activations(model: model, point: point, games: games, indices: batch, batchSize: batchSize)
            let m = positions.count
            if m > workspaceRows { workspace = SparseAutoencoder.Workspace(dIn: d, dSAE: n, rows: m); workspaceRows = m }
            var reconstruction = [Float](repeating: 0, count: m * d)
            x.withUnsafeBufferPointer { x in
                sae.parameters.withUnsafeBufferPointer { p in
                    SAEMath.encode(p.baseAddress!, layout, x: x.baseAddress!, rows: m, centred: workspace.centred, pre: workspace.pre, f: workspace.f)
                    reconstruction.withUnsafeMutableBufferPointer { SAEMath.decode(p.baseAddress!, layout, f: workspace.f, rows: m, out: $0.baseAddress!) }
                }
            }
            reconstructionScore.add(x: x, reconstruction: reconstruction, features: workspace.f, rows: m, width: n)
            for i in 0..<(m * n) where workspace.f[i] > 0 { fired[i % n] += 1 }
            // Board properties per position, and the sparse activations of the labelling / held-out halves.
            var properties: [[Int]] = []
            var r = 0
            for g in batch {
                var t = 0
                try GameReplay.replay(games[g], source: "\(source), game \(g)") { step in
                    defer { t += 1 }
                    guard t < T else { return }
                    properties.append(BoardProperty.active(at: ProbePosition(game: g, position: t, step: step)))
                }
                let count = min(T, games.lengths[g])
                if g < half {
                    train.append(dense: workspace.f + r * n, rows: count, width: n)
                    trainActive += properties.suffix(count)
                } else {
                    test.append(dense: workspace.f + r * n, rows: count, width: n)
                    testActive += properties.suffix(count)
                }
                r += count
            }

            // The model three ways: clean, on the reconstruction, with the hook zeroed.
            let tokens = games.tokenBatch(batch, positions: T)
            let rowOf = Dictionary(uniqueKeysWithValues: positions.enumerated().map { ("\($0.element.game),\($0.element.position)", $0.offset) })
            let splice = Hook(point) { activation in
                for (row, g) in batch.enumerated() {
                    for t in 0..<T {
                        guard let source = rowOf["\(g),\(t)"] else { continue }
                        let target = activation.row(game: row, position: t)
                        for j in 0..<d { target[j] = reconstruction[source * d + j] }
                    }
                }
            }
            let options = HookedTransformer.RunOptions(batchSize: batch.count)
            let clean = try model.runWithHooks(tokens: tokens, games: batch.count, positions: T, hooks: [], options: options).values
            let spliced = try model.runWithHooks(tokens: tokens, games: batch.count, positions: T, hooks: [splice], options: options).values
            let zeroed = try model.runWithHooks(tokens: tokens, games: batch.count, positions: T, hooks: [Hook.zeroAblation(point)], options: options).values
            try scores.clean.add(logits: clean, games: games, batch: batch, positions: T, vocabulary: V, source: source)
            try scores.spliced.add(logits: spliced, games: games, batch: batch, positions: T, vocabulary: V, source: source)
            try scores.zero.add(logits: zeroed, games: games, batch: batch, positions: T, vocabulary: V, source: source)
            progress?.advance(by: batch.count)
        }
        let rows = reconstructionScore.rows, N = Double(max(rows, 1))
        let frequencies = fired.map { Double($0) / N }
        var below: [String: Double] = [:]
        for (label, limit) in [("10%", 0.1), ("1%", 0.01), ("0.1%", 0.001), ("0.01%", 0.0001)] {
            below[label] = Double(frequencies.filter { $0 < limit }.count) / Double(n)
        }
        let comparison = Comparison(clean: scores.clean.loss, spliced: scores.spliced.loss, zeroAblated: scores.zero.loss)
        return SAEEvaluation(
            mse: reconstructionScore.mse, explainedVariance: reconstructionScore.explainedVariance, l0: reconstructionScore.l0,
            dead: fired.filter { $0 == 0 }.count, dense: frequencies.filter { $0 > 0.1 }.count, frequencyBelow: below, frequencies: frequencies,
            loss: comparison,
            legalTop1: Comparison(clean: scores.clean.legalTop1, spliced: scores.spliced.legalTop1, zeroAblated: scores.zero.legalTop1),
            lossRecovered: comparison.zeroAblated - comparison.clean > 1e-9
                ? (comparison.zeroAblated - comparison.spliced) / (comparison.zeroAblated - comparison.clean) : nil,
            board: BoardFeatureMetrics.evaluate(train: train, trainActive: trainActive, test: test, testActive: testActive, features: n),
            positions: rows)
    }
}

/// MSE (the squared error summed over the width, averaged over positions), explained variance (1 − E‖x − x̂‖² over
/// the total variance summed over the width) and L0 (non-zero features per position), accumulated batch by batch —
/// the definitions of SAELens' evals (checked against its own figures on a fixture SAELens wrote).
///
///     var score = ReconstructionScore(width: 16)
///     score.add(x: x, reconstruction: xHat, features: f, rows: 64, width: 32)
///     score.explainedVariance
public struct ReconstructionScore: Sendable {
    public private(set) var rows = 0
    private var squaredError = 0.0, sumSquares = 0.0, active = 0
    private var sum: [Double]

    public init(width: Int) { sum = [Double](repeating: 0, count: width) }

    /// Adds `rows` positions: activations `x` and their `reconstruction` (`rows × d_in`), features `f` (`rows × width`).
    public mutating func add(x: UnsafePointer<Float>, reconstruction: UnsafePointer<Float>, features f: UnsafePointer<Float>, rows m: Int, width n: Int) {
        let d = sum.count
        for i in 0..<(m * d) {
            let e = Double(reconstruction[i] - x[i])
            squaredError += e * e
            sum[i % d] += Double(x[i])
            sumSquares += Double(x[i]) * Double(x[i])
        }
        for i in 0..<(m * n) where f[i] != 0 { active += 1 }
        rows += m
    }

    public var mse: Double { squaredError / Double(max(rows, 1)) }
    public var l0: Double { Double(active) / Double(max(rows, 1)) }
    public var explainedVariance: Double {
        let n = Double(max(rows, 1))
        let variance = sumSquares - sum.reduce(0) { $0 + $1 * $1 } / n
        return 1 - squaredError / max(variance, 1e-12)
    }
}

extension SAEEvaluation {
    /// Evaluates the control SAE in `file` (written by `sae train --control`) on the random-init model like `model`
    /// that it was trained on (the seed is in its metadata).
    public static func evaluateControl(_ file: URL, like model: HookedTransformer, games: GameDataset, batchSize: Int, source: String,
                                       progress: ProgressBar? = nil) throws -> SAEEvaluation {
        let sae = try SAEFile.load(from: file)
        guard let seed = sae.metadata["random_init_seed"].flatMap({ UInt64($0) }) else {
            throw WorkbenchError("\(file.path): not a control SAE (its metadata does not name the random-init model it was trained on); train it with `sae train --control`")
        }
        let random = HookedTransformer.randomlyInitialised(like: model, seed: seed)
        try sae.check(fits: random.config, source: file.path)
        return try evaluate(sae, model: random, games: games, batchSize: batchSize, source: source, progress: progress)
    }
}

/// `sae eval --json`: the evaluation's numbers beside `sae`, `hook` and `games`, the control's under `control`.
public struct SAEEvalOutput: Encodable {
    public var numbers: SAEEvalJSON
    public var sae, hook, games: String
    public var control: SAEEvalJSON?

    public init(numbers: SAEEvalJSON, sae: String, hook: String, games: String) {
        (self.numbers, self.sae, self.hook, self.games) = (numbers, sae, hook, games)
    }

    enum CodingKeys: String, CodingKey { case sae, hook, games, control }

    public func encode(to encoder: Encoder) throws {
        try numbers.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sae, forKey: .sae)
        try container.encode(hook, forKey: .hook)
        try container.encode(games, forKey: .games)
        try container.encodeIfPresent(control, forKey: .control)
    }
}

/// One SAE evaluation's numbers (the keys of `sae eval --json`).
public struct SAEEvalJSON: Codable {
    public struct Runs: Codable {
        public var clean, spliced, zeroAblated: Double
    }
    public var explainedVariance, mse, l0: Double
    public var dead, dense, positions: Int
    public var frequencyBelow: [String: Double]
    public var coverage: Double
    public var coverageByProperty: [String: Double]
    public var reconstructionF1: Double
    public var reconstructionThreshold: Float
    /// Karvonen et al.'s headline: the reconstruction over the mine / theirs elements only (empty squares not scored).
    public var reconstructionF1MineTheirs: Double?
    public var alive: Int
    public var loss: Runs
    public var lossDelta: Double
    public var lossRecovered: Double?
    public var legalTop1: Runs

    public init(_ e: SAEEvaluation) {
        explainedVariance = e.explainedVariance; mse = e.mse; l0 = e.l0
        dead = e.dead; dense = e.dense; positions = e.positions
        frequencyBelow = e.frequencyBelow
        coverage = e.board.coverage["board"] ?? 0
        coverageByProperty = e.board.coverage
        reconstructionF1 = e.board.reconstructionF1; reconstructionThreshold = e.board.reconstructionThreshold; alive = e.board.alive
        reconstructionF1MineTheirs = e.board.reconstructionF1MineTheirs
        loss = Runs(clean: e.loss.clean, spliced: e.loss.spliced, zeroAblated: e.loss.zeroAblated)
        lossDelta = e.loss.spliced - e.loss.clean
        lossRecovered = e.lossRecovered
        legalTop1 = Runs(clean: e.legalTop1.clean, spliced: e.legalTop1.spliced, zeroAblated: e.legalTop1.zeroAblated)
    }

    /// The two lines of `sae eval`'s text output.
    public func text(_ label: String) -> String {
        String(format: "%@: explained variance %.3f, L0 %.1f, dead %d, coverage %.3f, board reconstruction F1 %.3f (mine/theirs only %.3f)\n", label,
               explainedVariance, l0, dead, coverage, reconstructionF1, reconstructionF1MineTheirs ?? .nan) +
        String(format: "  next-move loss clean %.4f, on the reconstruction %.4f (%+.4f), zero-ablated %.4f; legal top-1 %.2f%% / %.2f%% / %.2f%%",
               loss.clean, loss.spliced, loss.spliced - loss.clean, loss.zeroAblated, 100 * legalTop1.clean, 100 * legalTop1.spliced, 100 * legalTop1.zeroAblated)
    }
}
