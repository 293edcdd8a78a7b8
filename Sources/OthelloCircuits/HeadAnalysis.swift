import Foundation
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport

/// Per-head attention scores over many games, each a `[layer][head]` matrix of mean attention:
/// - `previousMove`: from each position to the one before (TransformerLens' previous-token score, on real games);
/// - `mine` / `theirs`: to the earlier moves (the position itself included) of the player who moves next / of the
///   other player ("mine" = the player who moves next, passes inferred);
/// - `firstPosition`: to position 0;
/// - `byDistance`: `[layer][head][k]`, the mean attention from each position to the one k moves before (k = 0: itself),
///   over the positions that have one;
/// - `duplicateToken` and `induction` (`RepeatedTokenAttention`, the TransformerLens tutorials' detectors) on
///   sequences of random tokens repeated twice (not games: out of the model's distribution, as the tutorials'
///   inputs are for GPT-2).
public struct HeadScores: Codable, Sendable {
    public var previousMove: [[Double]]
    public var mine: [[Double]]
    public var theirs: [[Double]]
    public var firstPosition: [[Double]]
    public var duplicateToken: [[Double]]
    public var induction: [[Double]]
    public var byDistance: [[[Double]]]
    public var games: Int

    public static func compute(model: HookedTransformer, games: GameDataset, seed: UInt64 = 1, batchSize: Int = 64,
                               progress: ProgressBar? = nil) throws -> HeadScores {
        let config = model.config
        let (L, H, T) = (config.nLayers, config.nHeads, config.nCtx)
        let zero = [[Double]](repeating: [Double](repeating: 0, count: H), count: L)
        var scores = HeadScores(previousMove: zero, mine: zero, theirs: zero, firstPosition: zero, duplicateToken: zero, induction: zero,
                                byDistance: [[[Double]]](repeating: [[Double]](repeating: [Double](repeating: 0, count: T), count: H), count: L),
                                games: games.count)
        var rows = 0.0, previousRows = 0.0
        var distanceRows = [Double](repeating: 0, count: T)
        var distance = [Double](repeating: 0, count: L * H * T)   // [layer][head][k], summed
        let patterns = (0..<L).map { HookPoint(.pattern, layer: $0) }
        for start in stride(from: 0, to: games.count, by: batchSize) {
            let batch = Array(start..<min(start + batchSize, games.count))
            let cache = try model.runWithCache(tokens: games.tokenBatch(batch, positions: T), games: batch.count, positions: T, points: patterns,
                                               options: .init(batchSize: batch.count, computeLogits: false))
            for (row, g) in batch.enumerated() {
                let steps = try GameReplay(moves: games[g]).steps
                let n = min(T, steps.count)
                rows += Double(n)
                previousRows += Double(max(n - 1, 0))
                for k in 0..<n { distanceRows[k] += Double(n - k) }
                // Whether move k was played by the player who moves next after move q: mine[q * T + k].
                var isMine = [Bool](repeating: false, count: n * T)
                for q in 0..<n { for k in 0...q { isMine[q * T + k] = steps[k].player == steps[q].perspective } }
                for l in 0..<L {
                    let pattern = try cache.values(patterns[l])
                    for h in 0..<H {
                        var previous = 0.0, mine = 0.0, theirs = 0.0, first = 0.0
                        pattern.withUnsafeBufferPointer { p in
                            distance.withUnsafeMutableBufferPointer { distance in
                                let head = p.baseAddress! + ((row * H + h) * T) * T
                                for q in 0..<n {
                                    let query = head + q * T
                                    first += Double(query[0])
                                    if q > 0 { previous += Double(query[q - 1]) }
                                    for k in 0...q {
                                        let a = Double(query[k])
                                        if isMine[q * T + k] { mine += a } else { theirs += a }
                                        distance[(l * H + h) * T + q - k] += a
                                    }
                                }
                            }
                        }
                        scores.previousMove[l][h] += previous
                        scores.mine[l][h] += mine
                        scores.theirs[l][h] += theirs
                        scores.firstPosition[l][h] += first
                    }
                }
            }
            progress?.advance(by: batch.count)
        }
        for l in 0..<L {
            for h in 0..<H {
                scores.previousMove[l][h] /= max(previousRows, 1)
                scores.mine[l][h] /= max(rows, 1)
                scores.theirs[l][h] /= max(rows, 1)
                scores.firstPosition[l][h] /= max(rows, 1)
                for k in 0..<T { scores.byDistance[l][h][k] = distance[(l * H + h) * T + k] / max(distanceRows[k], 1) }
            }
        }
        let repeated = try RepeatedTokenAttention.measure(model: model, seed: seed, batchSize: batchSize)
        scores.duplicateToken = repeated.duplicateToken
        scores.induction = repeated.induction
        return scores
    }
}

/// The TransformerLens tutorials' attention detectors on `sequences` sequences of `n = n_ctx / 2` random tokens
/// (distinct within a sequence when the vocabulary allows, drawn from 1..<d_vocab: token 0 is padding) repeated
/// twice, each a `[layer][head]` mean:
/// - `previousToken`: from every position q ≥ 1 to q − 1;
/// - `duplicateToken`: from position n + i of the second copy to i, the same token in the first copy;
/// - `induction`: from n + i to i + 1, the token that followed it (i + 1 < n).
///
///     let scores = try RepeatedTokenAttention.measure(model: model)
///     scores.induction[1][3]     // ≈ 1 for an induction head
public struct RepeatedTokenAttention: Codable, Sendable {
    public var previousToken: [[Double]]
    public var duplicateToken: [[Double]]
    public var induction: [[Double]]
    public var sequences: Int
    /// n, the length of each copy.
    public var copyLength: Int

    /// `sequences` rows of `n` random tokens followed by the same `n` (`sequences × 2n` tokens, n = n_ctx / 2).
    public static func tokens(config: ModelConfig, sequences: Int, seed: UInt64) -> [Int32] {
        let n = config.nCtx / 2, T = config.nCtx
        var random = SeededRandom(seed: seed, stream: 99)
        var tokens = [Int32](repeating: 0, count: sequences * T)
        let pool = Array(1..<Int32(max(config.dVocab, 2)))
        for s in 0..<sequences {
            var choices = pool
            for i in 0..<n {
                let token: Int32
                if n <= choices.count {   // without replacement: a partial Fisher–Yates shuffle
                    let j = i + random.next(below: choices.count - i)
                    choices.swapAt(i, j)
                    token = choices[i]
                } else {
                    token = pool[random.next(below: pool.count)]
                }
                tokens[s * T + i] = token
                tokens[s * T + n + i] = token
            }
        }
        return tokens
    }

    public static func measure(model: HookedTransformer, sequences: Int = 64, seed: UInt64 = 1, batchSize: Int = 64) throws -> RepeatedTokenAttention {
        let config = model.config
        let (L, H, T) = (config.nLayers, config.nHeads, config.nCtx)
        let n = T / 2
        let patterns = (0..<L).map { HookPoint(.pattern, layer: $0) }
        let cache = try model.runWithCache(tokens: tokens(config: config, sequences: sequences, seed: seed), games: sequences, positions: T,
                                           points: patterns, options: .init(batchSize: batchSize, computeLogits: false))
        let zero = [[Double]](repeating: [Double](repeating: 0, count: H), count: L)
        var scores = RepeatedTokenAttention(previousToken: zero, duplicateToken: zero, induction: zero, sequences: sequences, copyLength: n)
        for l in 0..<L {
            let pattern = try cache.values(patterns[l])
            for h in 0..<H {
                var previous = 0.0, duplicate = 0.0, induction = 0.0
                for s in 0..<sequences {
                    let base = ((s * H + h) * T) * T
                    for q in 1..<T { previous += Double(pattern[base + q * T + q - 1]) }
                    for i in 0..<n {
                        let q = n + i
                        duplicate += Double(pattern[base + q * T + i])
                        if i + 1 < n { induction += Double(pattern[base + q * T + i + 1]) }
                    }
                }
                scores.previousToken[l][h] = previous / Double(max(sequences * (T - 1), 1))
                scores.duplicateToken[l][h] = duplicate / Double(max(sequences * n, 1))
                scores.induction[l][h] = induction / Double(max(sequences * (n - 1), 1))
            }
        }
        return scores
    }
}

/// What each head (and each layer's attention) is worth: the change of legal top-1 and next-move loss when it is
/// zero- or mean-ablated (its `hook_z` replaced by zeros or by its mean over the games, per position).
public struct HeadAblation: Codable, Sendable {
    public var clean: NextMoveScore
    /// [layer][head] change (ablated − clean) of the loss and of legal top-1.
    public var lossChange: [[Double]]
    public var legalChange: [[Double]]
    /// [layer]: the whole attention layer (hook_attn_out) ablated.
    public var layerLossChange: [Double]
    public var layerLegalChange: [Double]
    public var method: String

    public static func run(model: HookedTransformer, games: GameDataset, mean: Bool, batchSize: Int = 64, progress: ProgressBar? = nil) throws -> HeadAblation {
        let config = model.config
        let (L, H, T, dHead) = (config.nLayers, config.nHeads, config.nCtx, config.dHead)
        // Means of z per layer, position and head (over the games), and of attn_out per layer and position.
        var zMean = [[Float]](repeating: [Float](repeating: 0, count: T * H * dHead), count: L)
        var outMean = [[Float]](repeating: [Float](repeating: 0, count: T * config.dModel), count: L)
        if mean {
            let means = (0..<L).flatMap { [HookPoint(.z, layer: $0), HookPoint(.attnOut, layer: $0)] }
            for start in stride(from: 0, to: games.count, by: batchSize) {
                let batch = Array(start..<min(start + batchSize, games.count))
                let cache = try model.runWithCache(tokens: games.tokenBatch(batch, positions: T), games: batch.count, positions: T, points: means,
                                                   options: .init(batchSize: batch.count, computeLogits: false))
                for l in 0..<L {
                    let z = try cache.values(HookPoint(.z, layer: l)), out = try cache.values(HookPoint(.attnOut, layer: l))
                    for i in 0..<z.count { zMean[l][i % (T * H * dHead)] += z[i] / Float(games.count) }
                    for i in 0..<out.count { outMean[l][i % (T * config.dModel)] += out[i] / Float(games.count) }
                }
            }
        }
        /// A hook that sets `width` values at `offset` of every position's row to `mean`'s values for that position
        /// (`mean` is `[positions, rowWidth]`): the ablation of one head's `z` or one layer's `attn_out`.
        func replacing(_ point: HookPoint, with mean: [Float], offset: Int, width: Int, rowWidth: Int, games: Int) -> Hook {
            Hook(point) { act in
                for g in 0..<games {
                    for t in 0..<T {
                        let row = act.row(game: g, position: t)
                        for i in 0..<width { row[offset + i] = mean[t * rowWidth + offset + i] }
                    }
                }
            }
        }
        let clean = try NextMoveScore.measure(model, games: games, batchSize: batchSize)
        var result = HeadAblation(clean: clean, lossChange: [], legalChange: [], layerLossChange: [], layerLegalChange: [], method: mean ? "mean" : "zero")
        for l in 0..<L {
            var lossRow: [Double] = [], legalRow: [Double] = []
            for h in 0..<H {
                let point = HookPoint(.z, layer: l)
                let score = try NextMoveScore.measure(model, games: games, hooks: { batch in
                    [replacing(point, with: zMean[l], offset: h * dHead, width: dHead, rowWidth: H * dHead, games: batch.count)]
                }, batchSize: batchSize)
                lossRow.append(score.loss - clean.loss)
                legalRow.append(score.legalTop1 - clean.legalTop1)
                progress?.advance(by: 1)
            }
            result.lossChange.append(lossRow)
            result.legalChange.append(legalRow)
            let point = HookPoint(.attnOut, layer: l)
            let score = try NextMoveScore.measure(model, games: games, hooks: { batch in
                [replacing(point, with: outMean[l], offset: 0, width: config.dModel, rowWidth: config.dModel, games: batch.count)]
            }, batchSize: batchSize)
            result.layerLossChange.append(score.loss - clean.loss)
            result.layerLegalChange.append(score.legalTop1 - clean.legalTop1)
            progress?.advance(by: 1)
        }
        return result
    }
}

/// One head's attention on one prefix, summarised as the head scores are: the mean, over the positions after the
/// first, of the attention to the previous move and to the moves played by the player of the query's own move.
///
///     let pattern = try DirectLogitAttribution.pattern(model: model, moves: moves, layer: 2, head: 1)
///     let summary = PrefixAttention(pattern: pattern, players: try GameReplay(moves: moves).steps.map(\.player))
public struct PrefixAttention: Equatable {
    public var previousMove: Double
    public var samePlayer: Double

    /// `pattern[query][key]` (nil above the diagonal); `players[i]`: who played move i.
    public init(pattern: [[Double?]], players: [Player]) {
        var previous = 0.0, same = 0.0
        for q in 1..<max(1, players.count) {
            previous += pattern[q][q - 1] ?? 0
            same += (0...q).filter { players[$0] == players[q] }.reduce(0) { $0 + (pattern[q][$1] ?? 0) }
        }
        let n = Double(max(1, players.count - 1))
        previousMove = previous / n
        samePlayer = same / n
    }
}
