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
        func tokens(_ moves: [Int]) -> [Int32] { moves.map { Int32(Vocabulary.tokenUnchecked(forSquare: $0)) } }
        let points = (0..<config.nLayers).map { HookPoint(kind, layer: $0) }
        let cleanCache = try model.runWithCache(tokens: tokens(clean), games: 1, positions: T, filter: HookFilter { points.contains($0) })
        let corruptedLogits = try model.logits(tokens: tokens(corrupted), games: 1, positions: T)
        let cleanMetric = Double(cleanCache.logits!.values[(T - 1) * V + token])
        let corruptedMetric = Double(corruptedLogits.values[(T - 1) * V + token])
        let heads = kind == .z ? config.nHeads : 1
        let d = kind == .z ? config.dHead : config.dModel
        struct Variant { let layer: Int, head: Int, position: Int }
        var variants: [Variant] = []
        for layer in 0..<config.nLayers { for head in 0..<heads { for p in 0..<T { variants.append(Variant(layer: layer, head: head, position: p)) } } }
        var metric = [Double](repeating: 0, count: variants.count)
        let corruptedTokens = tokens(corrupted)
        for start in stride(from: 0, to: variants.count, by: batchSize) {
            let batch = Array(variants[start..<min(start + batchSize, variants.count)])
            let hooks = points.map { point in
                Hook(point) { act in
                    let source = cleanCache[point]!.values
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
}
