import Foundation
import OthelloModel
import OthelloRules
import WorkbenchSupport

/// Activation patching between a clean and a corrupted game that differ in one move: the activation at one hook
/// kind, one layer (and head) and one position is copied from the clean run into the corrupted run, and the
/// metric — the logit of a chosen move at the last position — is normalised to 0 (corrupted) … 1 (clean).
///
///     let result = try ActivationPatching.run(model: model, clean: clean, corrupted: corrupted, kind: .residPre, token: t)
///     result.normalised[layer][position]
public enum ActivationPatching {
    /// What is patched: a per-layer hook point; `.z` patches one head at a time.
    public static let kinds: [HookPoint.Kind] = [.residPre, .attnOut, .mlpOut, .z]

    public struct Result: Codable, Sendable {
        /// Row labels: `L3` per layer, or `L3H1` per head for z.
        public var rows: [String]
        /// `[row][position]`: (patched − corrupted) / (clean − corrupted) of the metric.
        public var normalised: [[Double]]
        public var clean: Double
        public var corrupted: Double
        public var token: Int
    }

    /// Patches every (layer[, head], position) of `kind` from `clean` into `corrupted` (prefixes of equal length),
    /// scoring the logit of `token` at the last position. All variants run as one batch of corrupted copies.
    public static func run(model: HookedTransformer, clean: [Int], corrupted: [Int], kind: HookPoint.Kind, token: Int,
                           batchSize: Int = 64) throws -> Result {
        let config = model.config
        guard kinds.contains(kind) else { throw WorkbenchError("patching takes resid_pre, attn_out, mlp_out or z") }
        guard clean.count == corrupted.count, !clean.isEmpty, clean.count <= config.nCtx else {
            throw WorkbenchError("patching needs a clean and a corrupted prefix of the same length, 1…\(config.nCtx) moves")
        }
        guard (1..<config.dVocab).contains(token) else { throw WorkbenchError("patching: token \(token) is not a move token (1…\(config.dVocab - 1))") }
        _ = try GameReplay(moves: clean, source: "clean game")
        _ = try GameReplay(moves: corrupted, source: "corrupted game")
        let T = clean.count, V = config.dVocab
        let points = (0..<config.nLayers).map { HookPoint(kind, layer: $0) }
        let cleanCache = try model.runWithCache(tokens: Vocabulary.tokens(forMoves: clean), games: 1, positions: T, filter: HookFilter { points.contains($0) })
        let corruptedLogits = try model.logits(tokens: Vocabulary.tokens(forMoves: corrupted), games: 1, positions: T)
        let cleanMetric = Double(try cleanCache.logitValues()[(T - 1) * V + token])
        let corruptedMetric = Double(corruptedLogits.values[(T - 1) * V + token])
        let heads = kind == .z ? config.nHeads : 1
        let d = kind == .z ? config.dHead : config.dModel
        struct Variant { let layer: Int, head: Int, position: Int }
        var variants: [Variant] = []
        for layer in 0..<config.nLayers { for head in 0..<heads { for p in 0..<T { variants.append(Variant(layer: layer, head: head, position: p)) } } }
        var metric = [Double](repeating: 0, count: variants.count)
        let corruptedTokens = Vocabulary.tokens(forMoves: corrupted)
        let cleanValues = try points.map { try cleanCache.values($0) }
        for start in stride(from: 0, to: variants.count, by: batchSize) {
            let batch = Array(variants[start..<min(start + batchSize, variants.count)])
            let hooks = zip(points, cleanValues).map { point, source in
                Hook(point) { act in
                    for (g, v) in batch.enumerated() where v.layer == point.layer {
                        let row = act.row(game: g, position: v.position)
                        let from = v.position * row.count + v.head * d
                        for i in 0..<d { row[v.head * d + i] = source[from + i] }
                    }
                }
            }
            let logits = try model.runWithHooks(tokens: Array((0..<batch.count).map { _ in corruptedTokens }.joined()), games: batch.count,
                                                positions: T, hooks: hooks, options: .init(batchSize: batch.count))
            for g in batch.indices { metric[start + g] = Double(logits.values[(g * T + T - 1) * V + token]) }
        }
        let span = cleanMetric - corruptedMetric
        var normalised: [[Double]] = []
        var rows: [String] = []
        for layer in 0..<config.nLayers {
            for head in 0..<heads {
                rows.append(kind == .z ? "L\(layer)H\(head)" : "L\(layer)")
                normalised.append((0..<T).map { p in
                    let i = (layer * heads + head) * T + p
                    return abs(span) > 1e-9 ? (metric[i] - corruptedMetric) / span : 0
                })
            }
        }
        return Result(rows: rows, normalised: normalised, clean: cleanMetric, corrupted: corruptedMetric, token: token)
    }

    /// Patching averaged over many clean/corrupted pairs of equal length: each pair patched as `run` does, scoring
    /// its own `defaultTarget`, and the normalised matrices averaged. A pair whose clean and corrupted metric differ
    /// by less than `minimumSpan` logits is left out (its normalisation would divide by almost nothing).
    public struct Average: Codable, Sendable {
        public var rows: [String]
        /// `[row][position]`: the mean normalised metric over the pairs used.
        public var normalised: [[Double]]
        public var pairs: Int
        public var skipped: Int
    }

    public static func average(model: HookedTransformer, pairs: [(clean: [Int], corrupted: [Int])], kind: HookPoint.Kind,
                               minimumSpan: Double = 0.5, batchSize: Int = 64, progress: ProgressBar? = nil) throws -> Average {
        guard let length = pairs.first?.clean.count, pairs.allSatisfy({ $0.clean.count == length }) else {
            throw WorkbenchError("patching pairs: give at least one pair, all prefixes of the same length")
        }
        var sum: [[Double]] = [], rows: [String] = [], used = 0
        for pair in pairs {
            defer { progress?.advance() }
            let metric = try defaultMetric(model: model, clean: pair.clean, corrupted: pair.corrupted)
            guard abs(metric.change) >= minimumSpan else { continue }   // skipped before the patched runs
            let result = try run(model: model, clean: pair.clean, corrupted: pair.corrupted, kind: kind, token: metric.token, batchSize: batchSize)
            if sum.isEmpty { sum = result.normalised.map { $0.map { _ in 0 } }; rows = result.rows }
            for r in sum.indices { for p in sum[r].indices { sum[r][p] += result.normalised[r][p] } }
            used += 1
        }
        guard used > 0 else {
            throw WorkbenchError("patching pairs: in none of the \(pairs.count) pairs does the corruption move the metric by \(minimumSpan) logits or more; choose another --corrupt-at")
        }
        return Average(rows: rows, normalised: sum.map { $0.map { $0 / Double(used) } }, pairs: used, skipped: pairs.count - used)
    }

    /// Up to `count` clean/corrupted pairs from `games`, from game `start` on: each game's first `moves` moves, move
    /// `index` replaced as `corrupt` does; games too short, or with no alternative there, are passed over.
    public static func pairs(from games: GameDataset, start: Int = 0, count: Int, moves: Int, corruptAt index: Int) -> [(clean: [Int], corrupted: [Int])] {
        var out: [(clean: [Int], corrupted: [Int])] = []
        var game = max(0, start)
        while out.count < count && game < games.count {
            if games[game].count >= moves, let corrupted = corrupt(Array(games[game].prefix(moves)), at: index) {
                out.append((Array(games[game].prefix(moves)), corrupted))
            }
            game += 1
        }
        return out
    }

    /// The move a patching example corrupts in a prefix of `count` moves: `before` moves before the last (so that
    /// the figure shows the information travelling from that position to the last), or move 0 in short prefixes.
    public static func defaultCorruptionIndex(count: Int, before: Int = 5) -> Int { max(0, count - 1 - before) }

    /// A corrupted version of a prefix: move `index` replaced by another legal move there (the first, in square
    /// order, after which the rest of the prefix stays legal). Nil when there is none.
    public static func corrupt(_ moves: [Int], at index: Int) -> [Int]? {
        guard moves.indices.contains(index), let steps = try? GameReplay(moves: Array(moves.prefix(index))).steps else { return nil }
        let before = steps.last.map { Position(board: $0.board, next: $0.next) } ?? .start
        for square in Bitboard.squares(before.legalMoves) where square != moves[index] {
            var candidate = moves
            candidate[index] = square
            if (try? GameReplay(moves: candidate)) != nil { return candidate }
        }
        return nil
    }

    /// The patching metric's default move: of the moves legal after the clean prefix, the one whose last-position
    /// logit the corruption lowers most.
    public static func defaultTarget(model: HookedTransformer, clean: [Int], corrupted: [Int]) throws -> Int {
        try defaultMetric(model: model, clean: clean, corrupted: corrupted).token
    }

    /// `defaultTarget` and how far the corruption moves its logit (clean − corrupted), from two forward passes:
    /// what decides, before patching anything, whether a pair's normalised metric would be more than noise.
    public static func defaultMetric(model: HookedTransformer, clean: [Int], corrupted: [Int]) throws -> (token: Int, change: Double) {
        let V = model.config.dVocab, T = clean.count
        let a = try model.logits(tokens: Vocabulary.tokens(forMoves: clean), games: 1, positions: T).values
        let b = try model.logits(tokens: Vocabulary.tokens(forMoves: corrupted), games: 1, positions: T).values
        let legal = try GameReplay(moves: clean).steps.last!.legalSquares.map(Vocabulary.tokenUnchecked(forSquare:))
        guard let best = legal.max(by: { a[(T - 1) * V + $0] - b[(T - 1) * V + $0] < a[(T - 1) * V + $1] - b[(T - 1) * V + $1] }) else {
            throw WorkbenchError("the clean game is over after the prefix; choose fewer --moves")
        }
        return (best, Double(a[(T - 1) * V + best] - b[(T - 1) * V + best]))
    }
}
