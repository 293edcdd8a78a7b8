import Foundation
import OthelloModel
import OthelloRules
import OthelloTraining
import WorkbenchSupport

/// One hook's activations, streamed: chunk `c` is `chunkGames` games — fresh random games drawn from a seed of
/// their own, or the next games of `games` (each pass over them in a new seeded order) — run through the model
/// (run-with-cache, stopping after the hook's layer), every position at which a move was read kept, and the rows
/// shuffled within the chunk. Never more than one chunk in memory; the position (chunk, row) says exactly where a
/// resumed run goes on.
public final class ActivationStream {
    public let model: HookedTransformer
    public let point: HookPoint
    public let seed: UInt64
    public let games: GameDataset?
    public let chunkGames: Int
    public let batchSize: Int
    public let width: Int
    public private(set) var chunk: Int
    public private(set) var row: Int
    private var rows: [Float] = []
    private var rowCount = 0

    public init(model: HookedTransformer, hook: String, seed: UInt64, games: GameDataset? = nil, chunkGames: Int = 256, batchSize: Int = 64,
                chunk: Int = 0, row: Int = 0) throws {
        if let games, games.count == 0 { throw WorkbenchError("no games to train on") }
        let point = try HookPoint(name: hook)
        guard point.layer.map({ $0 < model.config.nLayers }) ?? true else {
            throw WorkbenchError("--hook \(hook): the model has layers 0…\(model.config.nLayers - 1)")
        }
        self.model = model
        self.point = point
        self.seed = seed
        self.games = games
        self.chunkGames = chunkGames
        self.batchSize = batchSize
        self.width = try Self.width(of: point, config: model.config)
        self.chunk = chunk
        self.row = row
        try load(chunk)
    }

    /// The activation width of a hook an SAE can read (`HookPoint.positionWidth`); an error for the others, and for
    /// hooks the model does not have (an attention-only model's MLP hooks).
    public static func width(of point: HookPoint, config: ModelConfig) throws -> Int {
        guard HookPoint.all(config: config).contains(point) || point.layer.map({ $0 >= config.nLayers }) == true else {
            throw WorkbenchError("--hook \(point.name): this model (\(config.shapeDescription)) has no such hook")
        }
        switch point.kind {
        case .mlpPre, .mlpPost, .residPre, .residMid, .residPost, .attnOut, .mlpOut, .embed, .posEmbed: return point.positionWidth(config: config)
        default: throw WorkbenchError("--hook \(point.name): an SAE reads a per-position residual-stream, attention-output or MLP hook (e.g. blocks.5.hook_resid_post or blocks.5.mlp.hook_post)")
        }
    }

    /// The activations of `games` at the hook, one row per position at which a move was read.
    public static func activations(model: HookedTransformer, point: HookPoint, games: GameDataset, indices: [Int], batchSize: Int) throws -> (values: [Float], positions: [(game: Int, position: Int)]) {
        let T = model.config.nCtx
        let width = try width(of: point, config: model.config)
        let cache = try model.runWithCache(tokens: games.tokenBatch(indices, positions: T), games: indices.count, positions: T, filter: HookFilter { $0 == point },
                                           options: .init(batchSize: batchSize, stopAtLayer: point.layer.map { $0 + 1 }, computeLogits: false))
        guard let tensor = cache[point] else { throw WorkbenchError("the model did not produce \(point.name)") }
        var values: [Float] = []
        var positions: [(Int, Int)] = []
        values.reserveCapacity(indices.count * T * width)
        tensor.values.withUnsafeBufferPointer { all in
            for (r, g) in indices.enumerated() {
                for t in 0..<min(T, games.lengths[g]) {
                    values.append(contentsOf: UnsafeBufferPointer(rebasing: all[((r * T + t) * width)..<((r * T + t + 1) * width)]))
                    positions.append((g, t))
                }
            }
        }
        return (values, positions)
    }

    private func load(_ c: Int) throws {
        var random = SeededRandom(seed: seed, stream: UInt64(c))
        let chosen: GameDataset, indices: [Int]
        if let games {
            // Game i of the endless sequence is game order_e[i mod count] of the file, e = i / count.
            var orders: [Int: [Int]] = [:]
            indices = (c * chunkGames..<(c + 1) * chunkGames).map { i in
                let epoch = i / games.count
                if orders[epoch] == nil {
                    var r = SeededRandom(seed: seed, stream: UInt64(1) << 50 + UInt64(epoch))
                    var order = Array(0..<games.count)
                    for j in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(j, r.next(below: j + 1)) }
                    orders[epoch] = order
                }
                return orders[epoch]![i % games.count]
            }
            chosen = games
        } else {
            chosen = RandomGames.generate(count: chunkGames, seed: random.next(), threads: 1)
            indices = Array(0..<chunkGames)
        }
        let (values, positions) = try Self.activations(model: model, point: point, games: chosen, indices: indices, batchSize: batchSize)
        rowCount = positions.count
        guard rowCount > 0 else { throw WorkbenchError("chunk \(c) of the activation stream holds no positions (games without moves); give games with moves") }
        // Fisher–Yates over the rows.
        var order = Array(0..<rowCount)
        for i in stride(from: rowCount - 1, to: 0, by: -1) { order.swapAt(i, random.next(below: i + 1)) }
        rows = [Float](repeating: 0, count: rowCount * width)
        rows.withUnsafeMutableBufferPointer { out in
            values.withUnsafeBufferPointer { v in
                for (i, o) in order.enumerated() { (out.baseAddress! + i * width).update(from: v.baseAddress! + o * width, count: width) }
            }
        }
    }

    /// Copies the next `count` rows into `out` (`count × width`), moving on to new chunks as needed.
    public func next(_ count: Int, into out: UnsafeMutablePointer<Float>) throws {
        var filled = 0
        while filled < count {
            if row >= rowCount {
                chunk += 1
                row = 0
                try load(chunk)
            }
            let take = min(count - filled, rowCount - row)
            rows.withUnsafeBufferPointer { r in (out + filled * width).update(from: r.baseAddress! + row * width, count: take * width) }
            row += take
            filled += take
        }
    }
}

/// How an SAE is trained: Adam on the mean loss, batches of positions streamed from the model.
///
/// The schedule, as the best-known recipes (SAELens, Karvonen et al.'s dictionary_learning): the learning rate
/// rises linearly over `warmupSteps` and falls linearly to 0 over the last `decayFraction` of training; a ReLU
/// SAE's L1 coefficient rises linearly from 0 over the first `l1WarmupFraction`. All three are off by default
/// (a constant rate, the full L1 from the start), as the workbench trained before they existed.
///
/// p-annealing (Karvonen et al., 2024): with `pEnd` below 1 a ReLU SAE's penalty is λ·Σ f^p, p falling from 1 to
/// `pEnd` in `annealUpdates` equal steps between `annealStartFraction` of training and its end; at each change of p
/// λ is rescaled by Σ f^p_old / Σ f^p_new on that step's batch, so the penalty does not jump (their trainer averages
/// that ratio over the last 10 batches; here it is the one batch of 4,096 positions, so a resumed run needs nothing
/// but the scale).
///
/// Settings written by any version read: keys added since take their defaults (`DefaultedCodable`).
public struct SAETrainingSettings: DefaultedCodable, Equatable, Sendable {
    public var features = 2048
    /// relu (with `l1`), topk or batchtopk (with `k`).
    public var kind = SparseAutoencoder.Kind.Name.relu
    public var k = 32
    public var l1: Float = 5
    public var learningRate: Float = 3e-4
    /// Positions per step.
    public var batchSize = 4096
    /// Positions in all.
    public var positions = 4_000_000
    public var seed: UInt64 = 1
    /// A feature that has not fired for this many positions is dead.
    public var deadWindow = 1_000_000
    /// Resample the dead features every this many positions, up to half of training (0: never).
    public var resampleEvery = 1_000_000
    /// Games per chunk of the activation stream.
    public var chunkGames = 256
    /// Steps of linear learning-rate warm-up.
    public var warmupSteps = 0
    /// The share of training, at the end, over which the learning rate decays linearly to 0.
    public var decayFraction: Double = 0
    /// The share of training, at the start, over which a ReLU SAE's L1 coefficient rises from 0.
    public var l1WarmupFraction: Double = 0
    /// ReLU: the last exponent p of the penalty λ·Σ f^p (1: the L1 penalty throughout, no annealing).
    public var pEnd: Float = 1
    /// ReLU with `pEnd` < 1: the share of training after which p starts to fall.
    public var annealStartFraction: Double = 0.2
    /// ReLU with `pEnd` < 1: how many equal steps p falls in.
    public var annealUpdates = 10
    /// TopK and BatchTopK: Gao et al.'s auxiliary loss (AuxK) over this many dead features per position (0: off;
    /// their heuristic, and dictionary_learning's, is d_in / 2). A feature is dead after `deadWindow` positions
    /// without firing.
    public var auxK = 0
    /// The auxiliary loss's weight (Gao et al.: 1/32).
    public var auxCoefficient: Float = 1.0 / 32

    public init() {}

    /// The recipe `sae sweep` and `sae train --recipe best` use: a 1% warm-up, linear decay over the last 20%,
    /// the L1 coefficient warmed up over the first 5%.
    public mutating func useSchedule() {
        warmupSteps = max(1, steps / 100)
        decayFraction = 0.2
        l1WarmupFraction = 0.05
    }

    public var steps: Int { (positions + batchSize - 1) / batchSize }

    /// The learning rate of step `step` (0-based).
    public func learningRate(at step: Int) -> Float {
        var rate = learningRate
        if warmupSteps > 0 { rate *= min(1, Float(step + 1) / Float(warmupSteps)) }
        let decaySteps = Int((decayFraction * Double(steps)).rounded())
        if decaySteps > 0, step >= steps - decaySteps { rate *= Float(steps - step) / Float(decaySteps) }
        return rate
    }

    /// The L1 coefficient of step `step` (ReLU SAEs).
    public func l1(at step: Int) -> Float {
        let warmup = l1WarmupFraction * Double(steps)
        return warmup >= 1 ? l1 * Float(min(1, Double(step + 1) / warmup)) : l1
    }

    /// The penalty's exponent p at step `step`: 1 until `annealStartFraction` of training, then falling to `pEnd` in
    /// `annealUpdates` equal steps, the last one reached for the last 1/`annealUpdates` of the annealing.
    public func sparsityExponent(at step: Int) -> Float {
        guard pEnd < 1, kind == .relu else { return 1 }
        let start = annealStartFraction * Double(steps)
        guard Double(step) >= start else { return 1 }
        let span = max(1, Double(steps) - start)
        let update = min(annealUpdates, Int((Double(step) - start) / span * Double(annealUpdates)) + 1)
        return 1 + (pEnd - 1) * Float(update) / Float(annealUpdates)
    }

    public func kind(features: Int) throws -> SparseAutoencoder.Kind {
        switch kind {
        case .relu: return .relu(l1: l1)
        case .topk: return .topK(k)
        case .batchtopk: return .batchTopK(k: k, threshold: 0)
        }
    }

    public func validate() throws {
        guard features >= 1 else { throw WorkbenchError("--features must be at least 1, got \(features)") }
        guard batchSize >= 1, positions >= batchSize else { throw WorkbenchError("--positions (\(positions)) must be at least one batch (\(batchSize))") }
        guard learningRate > 0, learningRate.isFinite else { throw WorkbenchError("--lr must be positive, got \(learningRate)") }
        guard deadWindow >= 1, resampleEvery >= 0, chunkGames >= 1 else { throw WorkbenchError("--dead-window and --chunk-games must be positive") }
        guard warmupSteps >= 0, (0...1).contains(decayFraction), (0...1).contains(l1WarmupFraction) else {
            throw WorkbenchError("the warm-up steps must be ≥ 0 and the decay and L1 warm-up fractions between 0 and 1")
        }
        if pEnd != 1 {
            guard kind == .relu else { throw WorkbenchError("--p-end (p-annealing) is for ReLU SAEs; \(kind.rawValue) SAEs have no penalty") }
            guard pEnd > 0, pEnd < 1 else { throw WorkbenchError("--p-end must be above 0 and at most 1 (1: the L1 penalty), got \(pEnd)") }
            guard annealUpdates >= 1, (0..<1).contains(annealStartFraction) else { throw WorkbenchError("p-annealing needs at least one update and a start fraction from 0 to below 1") }
        }
        if auxK != 0 {
            guard kind != .relu else { throw WorkbenchError("--aux-k (the AuxK loss) is for TopK and BatchTopK SAEs; ReLU SAEs have their penalty") }
            guard (1...features).contains(auxK) else { throw WorkbenchError("--aux-k \(auxK) must be from 1 to the dictionary size --features \(features) (0: off)") }
            guard auxCoefficient >= 0, auxCoefficient.isFinite else { throw WorkbenchError("the AuxK coefficient must be zero or positive, got \(auxCoefficient)") }
        }
        if kind != .relu, !(1...features).contains(k) { throw WorkbenchError("--k \(k) must be from 1 to the dictionary size --features \(features)") }
        try SparseAutoencoder(dIn: 1, dSAE: 1, kind: try kind(features: features), hook: "", parameters: [0, 0, 0, 0]).validateSetting()
    }
}

extension SparseAutoencoder {
    /// The kind's own setting alone (the L1 coefficient).
    func validateSetting() throws {
        if case .relu(let l1) = kind, !(l1 >= 0 && l1.isFinite) { throw WorkbenchError("--l1 must be zero or positive, got \(l1)") }
    }
}

/// Progress of a training run, for the progress bar and the log.
public struct SAETrainingStatus: Sendable {
    public var step: Int
    public var mse: Double
    public var l0: Double
    public var explainedVariance: Double
    public var dead: Int
}

/// One SAE in training: its weights, Adam's moments, the positions since each feature fired, the step — and the
/// step itself (schedule, BatchTopK's threshold, resampling). `SAETrainer` feeds one from its own stream; `SAESweep`
/// feeds several from one stream, so every SAE of a hook shares one forward pass of the model.
public final class SAETrainingState {
    public let settings: SAETrainingSettings
    public internal(set) var sae: SparseAutoencoder
    public internal(set) var step = 0
    /// p-annealing: the factor on the L1 coefficient that keeps the penalty level across each change of p.
    public internal(set) var sparsityScale: Float = 1
    var optimizer: AdamW
    /// Per feature, positions since it last fired.
    var sinceFired: [Int]
    private var workspace: SparseAutoencoder.Workspace?
    private var gradient: [Float] = []

    /// A fresh SAE reading `width`-wide activations of `hook`.
    public init(hook: String, width: Int, settings: SAETrainingSettings) throws {
        try settings.validate()
        self.settings = settings
        sae = SparseAutoencoder(dIn: width, dSAE: settings.features, kind: try settings.kind(features: settings.features), hook: hook, seed: settings.seed)
        try sae.validate()
        optimizer = AdamW(parameterCount: sae.parameterCount, decayed: [], settings: Self.adam)
        sinceFired = [Int](repeating: 0, count: settings.features)
    }

    static let adam = AdamW.Settings(beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0)

    /// A state from a checkpoint written by `saveCheckpoint` (`streamPosition(of:)` reads where its stream was).
    public init(resuming url: URL, width: Int) throws {
        let file = try SafetensorsFile.read(from: url)
        guard file.metadata["format"] == SAECheckpoint.format, let json = file.metadata["settings"],
              let settings = try? SAETrainingSettings.decode(from: Data(json.utf8)),
              let hook = file.metadata["hook"], let step = file.metadata["step"].flatMap(Int.init),
              file.metadata["chunk"].flatMap(Int.init) != nil, file.metadata["row"].flatMap(Int.init) != nil else {
            throw WorkbenchError("\(url.path): not an SAE training checkpoint (no format, settings, hook, step or stream position in its metadata)")
        }
        self.settings = settings
        let n = settings.features, d = width
        let count = 2 * d * n + n + d
        func values(_ name: String, _ expected: Int) throws -> [Float] {
            let tensor = try file.tensor(name)
            guard tensor.values.count == expected else {
                throw WorkbenchError("\(url.path): \(name) holds \(tensor.values.count) values, the checkpoint's SAE (\(d) → \(n)) needs \(expected); is it for another model or hook?")
            }
            return tensor.values
        }
        var kind = try settings.kind(features: n)
        if case .batchTopK(let k, _) = kind, let threshold = file.metadata["threshold"].flatMap(Float.init) { kind = .batchTopK(k: k, threshold: threshold) }
        sae = SparseAutoencoder(dIn: d, dSAE: n, kind: kind, hook: hook, parameters: try values("parameters", count))
        optimizer = AdamW(parameterCount: count, decayed: [], settings: Self.adam)
        optimizer.restore(firstMoment: try values("adam_m", count), secondMoment: try values("adam_v", count), step: step)
        sinceFired = try values("since_fired", n).map { Int($0) }
        sparsityScale = file.metadata["sparsity_scale"].flatMap(Float.init) ?? 1
        self.step = step
    }

    /// The stream position (chunk, row) a checkpoint was written at.
    public static func streamPosition(of url: URL) throws -> (chunk: Int, row: Int) {
        let file = try SafetensorsFile.read(from: url)
        guard let chunk = file.metadata["chunk"].flatMap(Int.init), let row = file.metadata["row"].flatMap(Int.init) else {
            throw WorkbenchError("\(url.path): not an SAE training checkpoint (no stream position in its metadata)")
        }
        return (chunk, row)
    }

    public var isFinished: Bool { step >= settings.steps }
    public var deadCount: Int { sinceFired.filter { $0 >= settings.deadWindow }.count }

    /// One step on `batch` (`settings.batchSize` rows of the SAE's width); a status every 10 steps and at the end.
    /// `shared`: scratch buffers to use instead of the state's own (`workspace(for:)`) — SAEs that step one after
    /// another on the same batch can share one (nothing in it outlives a step).
    public func train(on batch: UnsafePointer<Float>, sharing shared: SparseAutoencoder.Workspace? = nil) throws -> SAETrainingStatus? {
        let B = settings.batchSize, d = sae.dIn, n = sae.dSAE
        if gradient.isEmpty { gradient = [Float](repeating: 0, count: sae.parameterCount) }
        let w: SparseAutoencoder.Workspace
        if let shared {
            precondition(shared.dIn == d && shared.dSAE == n && shared.rows >= B && (sae.kind.name != .batchtopk || shared.selectionCount >= B * n),
                         "SAE step: a shared workspace of another shape")
            w = shared
        } else {
            if workspace == nil { workspace = Self.workspace(for: [settings], width: d) }
            w = workspace!
        }
        let exponent = settings.sparsityExponent(at: step)
        if step > 0, case let previous = settings.sparsityExponent(at: step - 1), previous != exponent {
            rescalePenalty(batch: batch, from: previous, to: exponent, workspace: w)
        }
        if case .relu = sae.kind { sae.kind = .relu(l1: settings.l1(at: step) * sparsityScale) }
        var layout = sae.layout
        layout.sparsityExponent = exponent
        let rate = settings.learningRate(at: step)
        // AuxK's candidates: the features dead after this batch unless they fire in it.
        let auxiliary = settings.auxK > 0 && sae.kind.name != .relu
            ? SAEMath.AuxiliaryK(candidates: (0..<n).filter { sinceFired[$0] + B >= settings.deadWindow }.map(Int32.init),
                                 k: settings.auxK, coefficient: settings.auxCoefficient)
            : nil
        let loss = sae.parameters.withUnsafeMutableBufferPointer { p in
            gradient.withUnsafeMutableBufferPointer { g in
                SAEMath.step(p.baseAddress!, layout, x: batch, rows: B, workspace: w, grad: g.baseAddress!, optimizer: &optimizer, learningRate: rate,
                             auxiliary: auxiliary)
            }
        }
        guard loss.squaredError.isFinite, loss.l1.isFinite else {
            throw WorkbenchError("SAE training: the loss became \(loss.squaredError + loss.l1) at step \(step + 1); lower --lr or --l1 (the last checkpoint is kept)")
        }
        // BatchTopK's inference threshold: the running mean of the smallest activation kept.
        if case .batchTopK(let k, let threshold) = sae.kind, loss.minKept > 0 {
            sae.kind = .batchTopK(k: k, threshold: threshold == 0 ? loss.minKept : 0.99 * threshold + 0.01 * loss.minKept)
        }
        // Which features fired in this batch.
        for i in 0..<n { sinceFired[i] += B }
        for r in 0..<B { for i in 0..<n where w.f[r * n + i] > 0 { sinceFired[i] = 0 } }
        step += 1
        let resampleSteps = settings.resampleEvery > 0 ? max(1, settings.resampleEvery / B) : 0
        if resampleSteps > 0, step % resampleSteps == 0, step <= settings.steps / 2 { resampleDead(batch: batch, workspace: w) }
        guard step % 10 == 0 || step == settings.steps else { return nil }
        var variance = 0.0
        var mean = [Double](repeating: 0, count: d)
        for r in 0..<B { for j in 0..<d { mean[j] += Double(batch[r * d + j]) } }
        for j in 0..<d { mean[j] /= Double(B) }
        for r in 0..<B { for j in 0..<d { let e = Double(batch[r * d + j]) - mean[j]; variance += e * e } }
        return SAETrainingStatus(step: step, mse: loss.squaredError / Double(B), l0: Double(loss.active) / Double(B),
                                 explainedVariance: 1 - loss.squaredError / max(variance, 1e-12), dead: deadCount)
    }

    /// Scratch buffers that fit every SAE of `settings` (one dictionary size) reading `width`-wide activations.
    public static func workspace(for settings: [SAETrainingSettings], width: Int) -> SparseAutoencoder.Workspace {
        SparseAutoencoder.Workspace(dIn: width, dSAE: settings.map(\.features).max() ?? 1, rows: settings.map(\.batchSize).max() ?? 1,
                                    batchTopKTraining: settings.contains { $0.kind == .batchtopk })
    }

    /// p-annealing's change of p: λ is multiplied by Σ f^old / Σ f^new over `batch`'s activations, so that the
    /// penalty is the same on this batch just before and after the change.
    func rescalePenalty(batch: UnsafePointer<Float>, from old: Float, to new: Float, workspace w: SparseAutoencoder.Workspace) {
        let B = settings.batchSize, n = sae.dSAE
        sae.parameters.withUnsafeBufferPointer { p in
            SAEMath.encode(p.baseAddress!, sae.layout, x: batch, rows: B, centred: w.centred, pre: w.pre, f: w.f)
        }
        var before = 0.0, after = 0.0
        for i in 0..<(B * n) where w.f[i] > 0 {
            before += Double(powf(w.f[i], old))
            after += Double(powf(w.f[i], new))
        }
        if before > 0, after > 0 { sparsityScale *= Float(before / after) }
    }

    /// Anthropic's resampling: each dead feature gets a decoder row along the residual x − x̂ of a position drawn
    /// with probability ∝ its squared error, an encoder column 0.2 × the mean alive encoder norm along it, a zero
    /// bias and zero Adam moments.
    func resampleDead(batch: UnsafePointer<Float>, workspace w: SparseAutoencoder.Workspace) {
        let dead = (0..<sae.dSAE).filter { sinceFired[$0] >= settings.deadWindow }
        guard !dead.isEmpty else { return }
        let B = settings.batchSize, d = sae.dIn, n = sae.dSAE
        var errors = [Double](repeating: 0, count: B)
        for r in 0..<B { for j in 0..<d { let e = Double(w.reconstruction[r * d + j] - batch[r * d + j]); errors[r] += e * e } }
        let total = errors.reduce(0, +)
        guard total > 0 else { return }
        var random = SeededRandom(seed: settings.seed, stream: UInt64(1 << 40) + UInt64(step))
        var aliveNorm = 0.0, alive = 0
        for i in 0..<n where sinceFired[i] < settings.deadWindow {
            var s = 0.0
            for j in 0..<d { let v = Double(sae.parameters[sae.encoderWeights + j * n + i]); s += v * v }
            aliveNorm += s.squareRoot(); alive += 1
        }
        let encoderNorm = Float(alive > 0 ? aliveNorm / Double(alive) : 1) * 0.2
        for i in dead {
            var u = Double(random.nextUnitFloat()) * total, r = 0
            while r < B - 1 && u > errors[r] { u -= errors[r]; r += 1 }
            var direction = (0..<d).map { batch[r * d + $0] - w.reconstruction[r * d + $0] }
            let norm = direction.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 0 else { continue }
            direction = direction.map { $0 / norm }
            for j in 0..<d {
                sae.parameters[sae.decoderWeights + i * d + j] = direction[j]
                sae.parameters[sae.encoderWeights + j * n + i] = encoderNorm * direction[j]
            }
            sae.parameters[sae.encoderBias + i] = 0
            optimizer.resetMoments(at: [sae.encoderBias + i] + (0..<d).flatMap { [sae.decoderWeights + i * d + $0, sae.encoderWeights + $0 * n + i] })
            sinceFired[i] = 0
        }
    }

    /// Writes weights, Adam's moments, the step and the stream's position `(chunk, row)`, atomically.
    public func saveCheckpoint(to url: URL, chunk: Int, row: Int) throws {
        let settingsJSON = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        var metadata = ["format": SAECheckpoint.format, "settings": settingsJSON, "hook": sae.hook, "step": String(step),
                        "chunk": String(chunk), "row": String(row)]
        if case .batchTopK(_, let threshold) = sae.kind { metadata["threshold"] = String(threshold) }
        if sparsityScale != 1 { metadata["sparsity_scale"] = String(sparsityScale) }
        try SafetensorsFile.write([
            (name: "parameters", tensor: Tensor(shape: [sae.parameterCount], values: sae.parameters)),
            (name: "adam_m", tensor: Tensor(shape: [sae.parameterCount], values: optimizer.firstMoment)),
            (name: "adam_v", tensor: Tensor(shape: [sae.parameterCount], values: optimizer.secondMoment)),
            (name: "since_fired", tensor: Tensor(shape: [sae.dSAE], values: sinceFired.map { Float(min($0, 1 << 24)) })),
        ], metadata: metadata, to: url)
    }
}

/// Trains an SAE on a hook of `model`, resumable from its checkpoint.
///
///     var trainer = try SAETrainer(model: model, hook: "blocks.5.hook_resid_post", settings: settings)
///     try trainer.train(checkpoint: url, every: 300) { status in … }
///     let sae = trainer.sae
public final class SAETrainer {
    public let model: HookedTransformer
    public let state: SAETrainingState
    let stream: ActivationStream

    public var settings: SAETrainingSettings { state.settings }
    public var sae: SparseAutoencoder { state.sae }
    public var step: Int { state.step }
    public var deadCount: Int { state.deadCount }

    /// A fresh run on `games` (cycled), or on endless fresh random games when nil.
    public init(model: HookedTransformer, hook: String, settings: SAETrainingSettings, games: GameDataset? = nil) throws {
        try settings.validate()
        self.model = model
        stream = try ActivationStream(model: model, hook: hook, seed: settings.seed, games: games, chunkGames: settings.chunkGames)
        state = try SAETrainingState(hook: hook, width: stream.width, settings: settings)
    }

    /// Resumes from a checkpoint written by `saveCheckpoint`: weights, Adam's moments, the step, the stream's position.
    public init(model: HookedTransformer, resuming url: URL, games: GameDataset? = nil) throws {
        let file = try SafetensorsFile.read(from: url)
        guard let hook = file.metadata["hook"] else { throw WorkbenchError("\(url.path): not an SAE training checkpoint (no hook in its metadata)") }
        let width = try ActivationStream.width(of: try HookPoint(name: hook), config: model.config)
        let resumed = try SAETrainingState(resuming: url, width: width)
        let (chunk, row) = try SAETrainingState.streamPosition(of: url)
        self.model = model
        state = resumed
        stream = try ActivationStream(model: model, hook: hook, seed: resumed.settings.seed, games: games, chunkGames: resumed.settings.chunkGames,
                                      chunk: chunk, row: row)
    }

    /// Trains to `settings.steps`, writing the checkpoint every `every` seconds (and at the end) when given.
    /// A non-finite loss stops the run with an error; the last checkpoint stays as it was.
    public func train(checkpoint: URL? = nil, every seconds: Double = 300, progress: (SAETrainingStatus) -> Void = { _ in }) throws {
        let B = settings.batchSize
        let batch = UnsafeMutablePointer<Float>.allocate(capacity: B * stream.width)
        defer { batch.deallocate() }
        var lastSave = Date()
        while !state.isFinished {
            try stream.next(B, into: batch)
            if let status = try state.train(on: batch) { progress(status) }
            if let checkpoint, Date().timeIntervalSince(lastSave) >= seconds || state.isFinished {
                try saveCheckpoint(to: checkpoint)
                lastSave = Date()
            }
        }
    }

    /// Writes weights, Adam's moments, the step and the stream's position, atomically.
    public func saveCheckpoint(to url: URL) throws {
        try state.saveCheckpoint(to: url, chunk: stream.chunk, row: stream.row)
    }
}

extension SAETrainer {
    /// Trains an SAE with `settings` on `hook` of `model` and writes it to `file` (with the model's name, the games
    /// and the recipe in its metadata; `randomInitSeed` for a control trained on a random-init model), checkpointing
    /// every 5 minutes to `SAEFile.sibling(of: file, ".ckpt")` and removing the checkpoint at the end. With `resume`
    /// it continues from that checkpoint (which must have the same settings and hook); nil when there is none but
    /// `file` exists (already trained).
    public static func train(model: HookedTransformer, modelName: String, randomInitSeed: UInt64? = nil, hook: String, settings: SAETrainingSettings,
                             games: GameDataset?, gamesSource: String, to file: URL, resume: Bool,
                             progress: (SAETrainingStatus) -> Void = { _ in }) throws -> SAETrainer? {
        let checkpoint = SAEFile.sibling(of: file, ".ckpt")
        let hasCheckpoint = FileManager.default.fileExists(atPath: checkpoint.path)
        if resume && !hasCheckpoint && FileManager.default.fileExists(atPath: file.path) { return nil }
        let trainer: SAETrainer
        if resume && hasCheckpoint {
            trainer = try SAETrainer(model: model, resuming: checkpoint, games: games)
            guard trainer.settings == settings, trainer.sae.hook == hook else {
                throw WorkbenchError("\(checkpoint.path) was written with other settings or another hook (\(trainer.sae.hook)); resume with the same flags, or drop --resume")
            }
        } else {
            trainer = try SAETrainer(model: model, hook: hook, settings: settings, games: games)
        }
        try trainer.train(checkpoint: checkpoint, every: 300, progress: progress)
        var sae = trainer.sae
        sae.metadata["model"] = modelName
        if let randomInitSeed { sae.metadata["random_init_seed"] = String(randomInitSeed) }
        sae.metadata["games"] = gamesSource
        sae.metadata["settings"] = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        try SAEFile.save(sae, to: file)
        try? FileManager.default.removeItem(at: checkpoint)
        return trainer
    }
}

extension SAEMath {
    /// One Adam step of the SAE on the batch `x`: forward, backward, the decoder gradient projected off the rows,
    /// Adam, the rows renormalised. The step of both `SAETrainer` and `bench sae`.
    static func step(_ p: UnsafeMutablePointer<Float>, _ sae: SparseAutoencoder.Layout, x: UnsafePointer<Float>, rows: Int,
                     workspace: SparseAutoencoder.Workspace, grad: UnsafeMutablePointer<Float>, optimizer: inout AdamW, learningRate: Float,
                     auxiliary: AuxiliaryK? = nil) -> Loss {
        let loss = forwardBackward(p, sae, x: x, rows: rows, workspace: workspace, grad: grad, auxiliary: auxiliary)
        projectDecoderGradient(p, sae, grad: grad)
        optimizer.step(parameters: p, gradients: grad, learningRate: learningRate)
        normaliseDecoder(p, sae)
        return loss
    }

}

public enum SAECheckpoint {
    public static let format = "othello-gpt-sae-checkpoint"
}

/// The SAE's training step alone (no activation stream), timed on activations in memory: `bench sae`.
public enum SAEBenchmark {
    /// Runs `steps` Adam steps of `batch` rows of `data` (`rows × d_in`, cycled) on `sae`; returns the seconds and
    /// the mean loss of the last step.
    public static func time(_ sae: inout SparseAutoencoder, data: [Float], rows: Int, steps: Int, batch: Int, learningRate: Float) -> (seconds: Double, loss: Double) {
        let layout = sae.layout, d = sae.dIn
        let workspace = SparseAutoencoder.Workspace(dIn: d, dSAE: sae.dSAE, rows: batch, batchTopKTraining: sae.kind.name == .batchtopk)
        var grad = [Float](repeating: 0, count: sae.parameterCount)
        var optimizer = AdamW(parameterCount: sae.parameterCount, decayed: [], settings: .init(beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0))
        var x = [Float](repeating: 0, count: batch * d)
        var last = 0.0
        let started = Date()
        for step in 0..<steps {
            for r in 0..<batch {
                let source = (step * batch + r) % rows
                for j in 0..<d { x[r * d + j] = data[source * d + j] }
            }
            sae.parameters.withUnsafeMutableBufferPointer { p in
                grad.withUnsafeMutableBufferPointer { g in
                    let loss = SAEMath.step(p.baseAddress!, layout, x: x, rows: batch, workspace: workspace, grad: g.baseAddress!,
                                            optimizer: &optimizer, learningRate: learningRate)
                    last = (loss.squaredError + loss.l1) / Double(batch)
                }
            }
        }
        return (Date().timeIntervalSince(started), last)
    }
}
