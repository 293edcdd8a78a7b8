import OthelloRules
import WorkbenchSupport

/// Li et al.'s legal-move metric: the share of positions at which the model's top-1 predicted next move
/// is legal for the player to move (passes inferred; the padding token counts as illegal). Positions
/// after which the game is over are not counted.
///
///     let games = try GameDataset.read(from: URL(fileURLWithPath: "Games/synthetic-10k.npy"))
///     let score = try LegalMoveMetric.evaluate(model, on: games)
///     print(score.share)      // e.g. 0.95; Li et al. report an error rate of 0.01% for their synthetic model
public enum LegalMoveMetric {
    /// Counts of one evaluation.
    public struct Score: Equatable {
        /// Positions whose top-1 prediction is legal.
        public var legal: Int
        /// Positions scored (those after which the game goes on).
        public var positions: Int
        /// `legal / positions` (0 when nothing was scored).
        public var share: Double { positions > 0 ? Double(legal) / Double(positions) : 0 }
    }

    /// Whether the highest of the `vocabulary` logits at `logits` is a move in `legalMoves` (a bitboard).
    @inlinable
    public static func isTopPredictionLegal(_ logits: UnsafePointer<Float>, vocabulary: Int, legalMoves: UInt64) -> Bool {
        var best = 0
        for token in 1..<vocabulary where logits[token] > logits[best] { best = token }
        return best != Vocabulary.padding && legalMoves & (1 << UInt64(Vocabulary.squareUnchecked(forToken: best))) != 0
    }

    /// Scores `model` on the games `indices` of `dataset` (all of them by default), `batchSize` games per
    /// forward pass. `source` names the games in errors; `progress` advances by games, showing the share so far.
    public static func evaluate(
        _ model: HookedTransformer, on dataset: GameDataset, games indices: [Int]? = nil,
        batchSize: Int = 64, source: String = "games", progress: ProgressBar? = nil
    ) throws -> Score {
        let indices = indices ?? Array(0..<dataset.count)
        let T = model.config.nCtx, V = model.config.dVocab
        guard batchSize >= 1 else { throw WorkbenchError("evaluate: the batch size must be at least 1") }
        guard !indices.isEmpty else { return Score(legal: 0, positions: 0) }
        let arena = ActivationArena(config: model.config, maxBatch: min(batchSize, indices.count), mode: .inference)
        var score = Score(legal: 0, positions: 0)
        var tokens = [Int32](repeating: 0, count: min(batchSize, indices.count) * T)
        for start in stride(from: 0, to: indices.count, by: batchSize) {
            let batch = indices[start..<min(start + batchSize, indices.count)]
            dataset.writeTokenBatch(batch, positions: T, into: &tokens)
            let logits = try model.logits(tokens: Array(tokens[0..<(batch.count * T)]), games: batch.count, positions: T,
                                          options: .init(batchSize: batch.count, arena: arena))
            try logits.values.withUnsafeBufferPointer { values in
                for (row, game) in batch.enumerated() {
                    // Step t follows move t: the model has read moves 0…t and predicts a move of the player to move.
                    var t = 0
                    try GameReplay.replay(dataset[game], source: "\(source), game \(game)") { step in
                        defer { t += 1 }
                        guard t < T, step.legalMoves != 0 else { return }
                        score.positions += 1
                        if isTopPredictionLegal(values.baseAddress! + (row * T + t) * V, vocabulary: V, legalMoves: step.legalMoves) {
                            score.legal += 1
                        }
                    }
                }
            }
            progress?.advance(by: batch.count, status: String(format: "legal %.2f%%", 100 * score.share))
        }
        return score
    }
}

/// The model's next-move loss and legal top-1 on games, from logits `[games, positions, d_vocab]`: at each position
/// after which the game goes on, the cross-entropy of the move actually played next, and whether the top token is legal.
public struct NextMoveScore: Codable, Sendable {
    public var lossSum = 0.0
    public var legal = 0
    public var positions = 0
    public var loss: Double { positions > 0 ? lossSum / Double(positions) : 0 }
    public var legalTop1: Double { positions > 0 ? Double(legal) / Double(positions) : 0 }

    public init() {}

    /// Adds the positions of `batch` (dataset indices, in the logits' row order).
    public mutating func add(logits: [Float], games: GameDataset, batch: [Int], positions T: Int, vocabulary V: Int, source: String) throws {
        for (row, g) in batch.enumerated() {
            let moves = games[g]
            var t = 0
            try GameReplay.replay(moves, source: "\(source), game \(g)") { step in
                defer { t += 1 }
                guard t < T, t + 1 < moves.count, step.legalMoves != 0 else { return }
                let target = Vocabulary.tokenUnchecked(forSquare: moves[t + 1])
                logits.withUnsafeBufferPointer { l in
                    let row = l.baseAddress! + (row * T + t) * V
                    lossSum += Softmax.negativeLogProbability(of: target, logits: row, count: V)
                    if LegalMoveMetric.isTopPredictionLegal(row, vocabulary: V, legalMoves: step.legalMoves) { legal += 1 }
                }
                positions += 1
            }
        }
    }

    /// The score of `model` on `games` run with `hooks`, `batchSize` games per pass.
    public static func measure(_ model: HookedTransformer, games: GameDataset, hooks: (_ batch: [Int]) throws -> [Hook] = { _ in [] },
                               batchSize: Int = 64, source: String = "games") throws -> NextMoveScore {
        let T = model.config.nCtx, V = model.config.dVocab
        var score = NextMoveScore()
        for start in stride(from: 0, to: games.count, by: batchSize) {
            let batch = Array(start..<min(start + batchSize, games.count))
            let logits = try model.runWithHooks(tokens: games.tokenBatch(batch, positions: T), games: batch.count, positions: T, hooks: try hooks(batch),
                                                options: .init(batchSize: batch.count)).values
            try score.add(logits: logits, games: games, batch: batch, positions: T, vocabulary: V, source: source)
        }
        return score
    }
}
