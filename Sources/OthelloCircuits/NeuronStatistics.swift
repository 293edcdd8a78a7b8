import Foundation
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport

/// Every MLP neuron's activation (`blocks.L.mlp.hook_post`) on a set of games, summarised as the atlas's neuron
/// pages show it (`UnitStatistics` per layer: mean, frequency, maximum, mean given each square mine / theirs /
/// empty / legal / flipped / played, top positions), and optionally a sample of positions kept whole for rules and
/// histograms.
///
/// The conditioned means come from one matrix product per batch and layer (conditionsᵀ · activations), so all
/// 8,192 neurons of an 8-layer model cost about one forward pass per game.
///
///     let stats = try NeuronStatistics.compute(model: model, games: games)
///     stats.layers[5].conditionedMean(unit: 421, condition: .mine)    // 64 values, one per square
public struct NeuronStatistics: Sendable {
    public var layers: [UnitStatistics]
    /// The positions `keep` chose, with every layer's activations; nil without `keep`.
    public var sample: ActivationSample?
    public var positions: Int { layers.first?.positions ?? 0 }

    /// The statistics of every neuron of every layer on `games`, keeping the `topCount` top positions per neuron and
    /// the positions for which `keep` says yes in `sample`.
    public static func compute(model: HookedTransformer, games: GameDataset, topCount: Int = 20, batchSize: Int = 64,
                               keep: ((GamePosition) -> Bool)? = nil, progress: ProgressBar? = nil) throws -> NeuronStatistics {
        let config = model.config, L = config.nLayers, N = config.dMLP, T = config.nCtx, C = BoardConditions.count
        let points = (0..<L).map { HookPoint(.mlpPost, layer: $0) }
        var layers = [UnitStatistics](repeating: UnitStatistics(units: N, topCount: topCount), count: L)
        var sample = keep.map { _ in ActivationSample(layers: L) }
        let size = max(1, batchSize)
        var indicators = [Float](repeating: 0, count: size * T * C)
        var activations = [Float](repeating: 0, count: size * T * N)
        for start in stride(from: 0, to: games.count, by: size) {
            let batch = Array(start..<min(start + size, games.count))
            let cache = try model.runWithCache(tokens: games.tokenBatch(batch, positions: T), games: batch.count, positions: T, points: points,
                                               options: .init(batchSize: batch.count, computeLogits: false))
            // The rows that are real positions (games end before the context does), and their conditions.
            var rows: [Int] = [], positions: [GamePosition] = []
            for (b, g) in batch.enumerated() {
                var p = 0
                try GameReplay.replay(games[g], source: "game \(g)") { step in
                    defer { p += 1 }
                    guard p < T else { return }
                    indicators.withUnsafeMutableBufferPointer {
                        BoardConditions.indicators(of: ProbePosition(game: g, position: p, step: step), into: $0.baseAddress! + rows.count * C)
                    }
                    rows.append(b * T + p)
                    positions.append(GamePosition(game: g, position: p))
                }
            }
            let m = rows.count
            guard m > 0 else { continue }
            let kept = keep.map { keep in positions.indices.filter { keep(positions[$0]) } } ?? []
            if !kept.isEmpty {
                sample!.positions += kept.map { positions[$0] }
                for r in kept { sample!.conditions += indicators[(r * C)..<((r + 1) * C)] }
            }
            for l in 0..<L {
                let values = try cache.values(points[l])
                values.withUnsafeBufferPointer { v in
                    activations.withUnsafeMutableBufferPointer { a in
                        for (r, row) in rows.enumerated() { (a.baseAddress! + r * N).update(from: v.baseAddress! + row * N, count: N) }
                    }
                }
                activations.withUnsafeBufferPointer { a in
                    indicators.withUnsafeBufferPointer { i in
                        layers[l].add(activations: a.baseAddress!, rows: m, positions: positions, conditions: i.baseAddress!)
                    }
                }
                for r in kept { sample!.activations[l] += activations[(r * N)..<((r + 1) * N)] }
            }
            progress?.advance(by: batch.count)
        }
        guard layers.first.map({ $0.positions > 0 }) ?? false else { throw WorkbenchError("neuron statistics: the games have no positions") }
        for l in 0..<L { layers[l].finish() }
        return NeuronStatistics(layers: layers, sample: sample)
    }
}
