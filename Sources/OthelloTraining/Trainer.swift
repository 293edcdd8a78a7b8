import COpenBLAS
import Foundation
import OthelloModel
import OthelloRules
import WorkbenchSupport

/// Trains an Othello-GPT (or any LNPre model on any token stream) on batches of sequences: forward, backward,
/// global-norm clipping and AdamW.
///
/// A batch of B games gives B × 59 predictions: the input is the tokens of moves 0...58, the target
/// the tokens of moves 1...59; targets after a game's end (token 0) are not counted. The loss is the
/// mean cross-entropy over the counted predictions. Other streams give `positions` when the trainer is made
/// (sequences of `positions + 1` tokens), with 0 as their padding too.
///
/// The batch is cut into shards of `gamesPerShard` games, run in parallel on `threads` threads (each
/// matrix product single-threaded), and their gradients are summed in shard order: the result of a
/// step does not depend on the number of threads.
///
///     let weights = ModelParameters(config: config)
///     weights.initializeForTraining(seed: 1)
///     let trainer = try Trainer(parameters: weights, batchSize: 128, optimizer: AdamW.Settings(), threads: 2)
///     let result = try trainer.step(games: batch, learningRate: 1e-3, maxGradNorm: 1)
public final class Trainer {
    /// The positions the model reads in a game: moves 0...58 predict moves 1...59.
    public static let gamePositions = GameDataset.maxLength - 1

    public let config: ModelConfig
    /// The positions of each training sequence (`gamePositions` for Othello games).
    public let positions: Int
    public let parameters: ModelParameters
    public internal(set) var optimizer: AdamW
    public let batchSize: Int
    public let threads: Int
    public let gamesPerShard: Int
    private let shards: [ShardWorkspace]
    /// The batch's gradients (the sum of the shards').
    private let gradients: ModelParameters
    /// Each block's W_Q, W_K, W_V side by side, `[L, C, 3·H·D]`, repacked before every backward pass.
    private let packedAttention: UnsafeMutablePointer<Float>

    /// What one step measured.
    public struct StepResult {
        /// The mean next-move cross-entropy over the batch's counted positions, before the update.
        public var loss: Double
        /// The global L2 norm of the gradients before clipping.
        public var gradientNorm: Float
    }

    /// A trainer updating `parameters` in place; throws a `WorkbenchError` for a model it cannot train.
    public init(parameters: ModelParameters, batchSize: Int, optimizer settings: AdamW.Settings,
                threads: Int = Parallel.coreCount, gamesPerShard: Int = 16, positions: Int = Trainer.gamePositions) throws {
        let config = parameters.config
        try Self.validate(config: config, batchSize: batchSize, positions: positions)
        self.config = config
        self.positions = positions
        self.parameters = parameters
        self.batchSize = batchSize
        self.threads = max(1, threads)
        let shardGames = max(1, min(gamesPerShard, batchSize))
        self.gamesPerShard = shardGames
        let shardCount = (batchSize + shardGames - 1) / shardGames
        let bytes = Double(shardCount) * Double(ShardWorkspace.byteCount(config: config, maxGames: shardGames, positions: positions))
        let memory = Double(ProcessInfo.processInfo.physicalMemory)
        guard bytes <= 0.75 * memory else {
            throw WorkbenchError(String(format: "training: a batch of %d games needs about %.1f GB of working memory, more than this machine's %.1f GB allows; lower --batch",
                                        batchSize, bytes / 1e9, memory / 1e9))
        }
        shards = (0..<shardCount).map { _ in
            ShardWorkspace(config: config, maxGames: shardGames, positions: positions)
        }
        gradients = ModelParameters(layout: parameters.layout)
        let packedCount = config.nLayers * 3 * config.dModel * config.dModel
        packedAttention = .allocate(capacity: packedCount)
        packedAttention.initialize(repeating: 0, count: packedCount)
        optimizer = AdamW(parameterCount: parameters.count, decayed: parameters.layout.weightDecayedRanges, settings: settings)
    }

    deinit { packedAttention.deallocate() }

    /// The largest batch (its working memory must also fit the machine: see `init`).
    public static let maxBatchSize = 65_536

    /// Throws if `config` cannot be trained here: LNPre only, a context of at least `positions` (59 for games),
    /// heads dividing d_model, and a batch of 1...`maxBatchSize` sequences.
    public static func validate(config: ModelConfig, batchSize: Int, positions: Int = gamePositions) throws {
        try config.validate()
        guard config.normalizationType == .LNPre else {
            throw WorkbenchError("training: only LNPre models (layer norms without weights, as Othello-GPT) can be trained; got \(config.normalizationType.rawValue)")
        }
        guard positions >= 1 else { throw WorkbenchError("training: a sequence needs at least 1 position, got \(positions)") }
        guard config.nCtx >= positions else {
            throw WorkbenchError("training: the context n_ctx \(config.nCtx) is shorter than the \(positions) positions a sequence needs; use n_ctx ≥ \(positions)")
        }
        guard positions != gamePositions || config.dVocab >= Vocabulary.size else {
            throw WorkbenchError("training: d_vocab must be at least \(Vocabulary.size) (pass + 60 squares) to train on games, got \(config.dVocab)")
        }
        guard (1...maxBatchSize).contains(batchSize) else {
            throw WorkbenchError("training: the batch size must be between 1 and \(maxBatchSize), got \(batchSize)")
        }
    }

    /// One training step on `games` (a batch of exactly `batchSize` games, `games.count × 60` tokens):
    /// forward, backward, clip the gradients to `maxGradNorm`, AdamW at `learningRate`.
    /// If the loss or the gradient norm is not finite, the weights are left unchanged (the caller decides).
    public func step(games: TokenBatch, learningRate: Float, maxGradNorm: Float) throws -> StepResult {
        guard games.count == batchSize else {
            throw WorkbenchError("training: a batch of \(games.count) games given to a trainer of batch size \(batchSize)")
        }
        guard games.width == positions + 1 else {
            throw WorkbenchError("training: sequences of \(games.width) tokens given to a trainer of \(positions) positions (sequences of \(positions + 1))")
        }
        guard Int(games.maxToken) < config.dVocab else {
            throw WorkbenchError("training: token \(games.maxToken) is outside the model's vocabulary 0..<\(config.dVocab)")
        }
        let loss = try computeGradients(games)
        let norm = clipGradientNorm(gradients.base, count: gradients.count, maxNorm: maxGradNorm)
        guard loss.isFinite, norm.isFinite else { return StepResult(loss: loss, gradientNorm: norm) }
        optimizer.step(parameters: parameters.base, gradients: gradients.base, learningRate: learningRate)
        return StepResult(loss: loss, gradientNorm: norm)
    }

    /// The gradients of the last `computeGradients` (or `step`, after clipping).
    var gradientBuffer: UnsafeMutablePointer<Float> { gradients.base }

    /// Forward and backward over `games`; leaves the batch's gradients in `gradients`, returns the mean loss.
    func computeGradients(_ games: TokenBatch) throws -> Double {
        let counted = games.countedTargets
        guard counted > 0 else {
            throw WorkbenchError("training: the batch holds no move to predict (every game is shorter than 2 moves)")
        }
        let lossWeight = 1 / Float(counted)
        let model = HookedTransformer(parameters: parameters)
        let (C, H, D) = (config.dModel, config.nHeads, config.dHead)
        for layer in 0..<config.nLayers {
            let block = parameters.block(layer)
            packAttentionWeights(into: packedAttention + layer * 3 * C * C, W_Q: block.W_Q, W_K: block.W_K, W_V: block.W_V,
                                 dModel: C, nHeads: H, dHead: D)
        }
        let packed = SharedPointer(packedAttention)
        let shardGames = gamesPerShard
        for (index, shard) in shards.enumerated() {
            let first = index * shardGames
            games.writeInputsAndTargets(games: first..<min(first + shardGames, games.count), tokens: &shard.tokens, targets: &shard.targets)
        }
        let results = ParallelResults<Double>(count: shards.count)
        withSingleThreadedBLAS {
            Parallel.forEach(chunks: shards.count, threads: threads) { [shards] index in
                let first = index * shardGames
                let count = min(first + shardGames, games.count) - first
                results.set(index) {
                    try shards[index].forwardBackward(model: model, packedAttention: packed.base, games: count, lossWeight: lossWeight)
                }
            }
        }
        let losses = try results.values()
        sumShardGradients()
        return losses.reduce(0, +)
    }

    /// `gradients = Σ shards' gradients`, in shard order, parallel over slices of the buffer.
    private func sumShardGradients() {
        let count = gradients.count
        let sliceSize = 1 << 16
        let total = SharedPointer(gradients.base)
        let parts = shards.map { SharedPointer($0.gradients.base) }
        Parallel.forEach(chunks: (count + sliceSize - 1) / sliceSize, threads: threads) { slice in
            let start = slice * sliceSize, end = min(start + sliceSize, count)
            let out = total.base
            (out + start).update(from: parts[0].base + start, count: end - start)
            for part in parts.dropFirst() {
                let p = part.base
                for i in start..<end { out[i] += p[i] }
            }
        }
    }

    /// The fraction of predictions that are legal moves, Li et al.'s "legal move top-1": at every
    /// position of every game of `evaluation` after which the game goes on, whether the model's
    /// highest logit is a legal move for the side to move (the padding token counts as illegal), as
    /// `othello-gpt eval` computes it.
    public func legalMoveAccuracy(_ evaluation: EvaluationSet) throws -> Double {
        guard positions == Self.gamePositions else {
            throw WorkbenchError("training: legal-move accuracy needs a trainer of games (\(Self.gamePositions) positions), not of \(positions)")
        }
        let model = HookedTransformer(parameters: parameters)
        let T = positions, V = config.dVocab
        let shardGames = gamesPerShard
        let chunks = (evaluation.games.count + shardGames - 1) / shardGames
        let workspaces = shards
        // Worker w evaluates chunks w, w + workers, ... with workspace w's arena.
        let results = ParallelResults<Int>(count: workspaces.count)
        withSingleThreadedBLAS {
            Parallel.forEach(chunks: workspaces.count, threads: threads) { worker in
                results.set(worker) {
                    let arena = workspaces[worker].arena
                    var tokens = [Int32](repeating: 0, count: shardGames * T), targets = tokens
                    var correct = 0
                    for chunk in stride(from: worker, to: chunks, by: workspaces.count) {
                        let first = chunk * shardGames
                        let range = first..<min(first + shardGames, evaluation.games.count)
                        evaluation.games.writeInputsAndTargets(games: range, tokens: &tokens, targets: &targets)
                        try model.forward(tokens: Array(tokens[0..<(range.count * T)]), batch: range.count, positions: T, into: arena,
                                              options: .init(threads: 1))
                        for (row, game) in range.enumerated() {
                            for t in 0..<T {
                                let legal = evaluation.legalMoves[game * T + t]
                                guard legal != 0 else { continue }
                                if LegalMoveMetric.isTopPredictionLegal(arena.logits + (row * T + t) * V, vocabulary: V, legalMoves: legal) {
                                    correct += 1
                                }
                            }
                        }
                    }
                    return correct
                }
            }
        }
        let correct = try results.values().reduce(0, +)
        return evaluation.predictions > 0 ? Double(correct) / Double(evaluation.predictions) : 0
    }
}

/// Runs `body` with OpenBLAS on one thread (the trainer parallelises over shards itself), then
/// restores OpenBLAS's thread count.
public func withSingleThreadedBLAS<R>(_ body: () throws -> R) rethrows -> R {
    let saved = openblas_get_num_threads()
    openblas_set_num_threads(1)
    defer { openblas_set_num_threads(saved) }
    return try body()
}

/// One result (or error) per chunk of a `Parallel.forEach`.
final class ParallelResults<Value>: @unchecked Sendable {
    private var results: [Result<Value, Error>?]
    private let lock = NSLock()

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ body: () throws -> Value) {
        let result = Result { try body() }
        lock.lock(); defer { lock.unlock() }
        results[index] = result
    }

    /// The values in chunk order, or the first chunk's error.
    func values() throws -> [Value] {
        try results.map { result in
            guard let result else { throw WorkbenchError("internal: a parallel chunk did not run") }
            return try result.get()
        }
    }
}
