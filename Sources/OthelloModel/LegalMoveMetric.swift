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
