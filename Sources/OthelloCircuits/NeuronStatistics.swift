import Foundation
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport

/// Every MLP neuron's activation (`blocks.L.mlp.hook_post`) on a set of games, summarised as the atlas's neuron
/// pages show it: the mean, the share of positions where it is positive, the largest value, the mean given each
/// square's state, and the top-activating positions.
///
/// The square states ("mine" = the player who moves next, Nanda's convention) are `conditions`: mine, theirs,
/// empty, legal (for the player to move), just flipped, just played. The conditioned means come from one matrix
/// product per batch and layer (conditionsᵀ · activations), so all 8,192 neurons of an 8-layer model cost about
/// one forward pass per game.
///
///     let stats = try NeuronStatistics.compute(model: model, games: games)
///     stats.conditionedMean(layer: 5, neuron: 421, condition: .mine)    // 64 values, one per square
public struct NeuronStatistics: Codable, Sendable {
    /// A square's state at a position.
    public enum Condition: Int, CaseIterable, Codable, Sendable {
        case mine, theirs, empty, legal, flipped, played
    }

    /// One top-activating position: game `game` of the set after move `position` (token position), the activation.
    public struct Example: Codable, Equatable, Sendable {
        public var game: Int
        public var position: Int
        public var activation: Float
    }

    public var layers: Int
    public var neurons: Int
    /// Positions the statistics are over (every position of every game, up to the model's context).
    public var positions: Int
    /// Per layer, `[neuron]`.
    public var mean: [[Float]]
    public var frequency: [[Float]]
    public var maximum: [[Float]]
    /// Per layer, `[condition][square][neuron]` flattened: the mean activation over the positions where the square
    /// is in that state (0 where no position is).
    public var conditioned: [[Float]]
    /// `[condition][square]`: how many positions had the square in that state.
    public var conditionCounts: [Int]
    /// Per layer and neuron, the top positions, largest first.
    public var top: [[[Example]]]

    /// The mean activation of `neuron` of `layer` given each square in `condition` (64 values).
    public func conditionedMean(layer: Int, neuron: Int, condition: Condition) -> [Float] {
        (0..<64).map { conditioned[layer][(condition.rawValue * 64 + $0) * neurons + neuron] }
    }

    /// Writes the 6 × 64 condition indicators of `position` (1 where the square is in the state) into `row`.
    static func conditions(of position: ProbePosition, into row: UnsafeMutablePointer<Float>) {
        var relative = [UInt8](repeating: 0, count: 64)
        relative.withUnsafeMutableBufferPointer { ProbeBasis.relative.labels(of: position, into: $0.baseAddress!) }
        let states: [(Condition, (Int) -> Bool)] = [
            (.mine, { relative[$0] == 2 }), (.theirs, { relative[$0] == 1 }), (.empty, { relative[$0] == 0 }),
            (.legal, { position.legalMoves >> UInt64($0) & 1 == 1 }), (.flipped, { position.flipped >> UInt64($0) & 1 == 1 }),
            (.played, { $0 == position.move }),
        ]
        for (condition, holds) in states {
            for square in 0..<64 { row[condition.rawValue * 64 + square] = holds(square) ? 1 : 0 }
        }
    }

    /// The statistics of every neuron of every layer on `games`, keeping the `topCount` top positions per neuron.
    public static func compute(model: HookedTransformer, games: GameDataset, topCount: Int = 20, batchSize: Int = 64,
                               progress: ProgressBar? = nil) throws -> NeuronStatistics {
        let config = model.config, L = config.nLayers, N = config.dMLP, T = config.nCtx
        let C = Condition.allCases.count * 64
        let points = (0..<L).map { HookPoint(.mlpPost, layer: $0) }
        var sums = [[Double]](repeating: [Double](repeating: 0, count: N), count: L)
        var positive = [[Int]](repeating: [Int](repeating: 0, count: N), count: L)
        var maximum = [[Float]](repeating: [Float](repeating: -.infinity, count: N), count: L)
        var conditioned = [[Float]](repeating: [Float](repeating: 0, count: C * N), count: L)
        var counts = [Int](repeating: 0, count: C)
        var top = [[[Example]]](repeating: [[Example]](repeating: [], count: N), count: L)
        var rowsSeen = 0
        for start in stride(from: 0, to: games.count, by: max(1, batchSize)) {
            let batch = Array(start..<min(start + max(1, batchSize), games.count))
            let cache = try model.runWithCache(tokens: games.tokenBatch(batch, positions: T), games: batch.count, positions: T, points: points,
                                               options: .init(batchSize: batch.count, computeLogits: false))
            // The rows that are real positions (games end before the context does), and their conditions.
            var rows: [(row: Int, game: Int, position: Int)] = []
            var indicators = [Float](repeating: 0, count: batch.count * T * C)
            for (b, g) in batch.enumerated() {
                var p = 0
                try GameReplay.replay(games[g], source: "game \(g)") { step in
                    defer { p += 1 }
                    guard p < T else { return }
                    rows.append((b * T + p, g, p))
                    indicators.withUnsafeMutableBufferPointer { conditions(of: ProbePosition(game: g, position: p, step: step), into: $0.baseAddress! + (rows.count - 1) * C) }
                }
            }
            let m = rows.count
            guard m > 0 else { continue }
            for r in 0..<m { for c in 0..<C where indicators[r * C + c] != 0 { counts[c] += 1 } }
            var activations = [Float](repeating: 0, count: m * N)
            for l in 0..<L {
                let values = try cache.values(points[l])
                for (r, row) in rows.enumerated() {
                    for n in 0..<N {
                        let a = values[row.row * N + n]
                        activations[r * N + n] = a
                        sums[l][n] += Double(a)
                        if a > 0 { positive[l][n] += 1 }
                        if a > maximum[l][n] { maximum[l][n] = a }
                        if top[l][n].count < topCount || a > top[l][n][top[l][n].count - 1].activation {
                            // In place (no copy of the list): insert in order, drop the smallest beyond topCount.
                            let at = top[l][n].firstIndex { $0.activation < a } ?? top[l][n].count
                            top[l][n].insert(Example(game: row.game, position: row.position, activation: a), at: at)
                            if top[l][n].count > topCount { top[l][n].removeLast() }
                        }
                    }
                }
                // Sums of activations over the positions in each condition: indicatorsᵀ [C, m] · activations [m, N].
                indicators.withUnsafeBufferPointer { i in
                    activations.withUnsafeBufferPointer { a in
                        conditioned[l].withUnsafeMutableBufferPointer { out in
                            Matmul.gemm(m: C, n: N, k: m, a: i.baseAddress!, lda: C, transposeA: true, b: a.baseAddress!, ldb: N,
                                        c: out.baseAddress!, ldc: N, beta: 1)
                        }
                    }
                }
            }
            rowsSeen += m
            progress?.advance(by: batch.count)
        }
        guard rowsSeen > 0 else { throw WorkbenchError("neuron statistics: the games have no positions") }
        for l in 0..<L {
            for c in 0..<C {
                let scale: Float = counts[c] > 0 ? 1 / Float(counts[c]) : 0
                for n in 0..<N { conditioned[l][c * N + n] *= scale }
            }
        }
        return NeuronStatistics(layers: L, neurons: N, positions: rowsSeen, mean: sums.map { $0.map { Float($0 / Double(rowsSeen)) } },
                                frequency: positive.map { $0.map { Float($0) / Float(rowsSeen) } }, maximum: maximum,
                                conditioned: conditioned, conditionCounts: counts, top: top)
    }
}
