import Foundation
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport

/// What chosen features respond to: per feature, the correlation of its activation with each square being mine,
/// theirs or empty ("mine" = the player who moves next), and its most activating positions.
public struct SAEFeatureProfiles {
    public static let topCount = 4
    /// [feature][0 mine, 1 theirs, 2 empty][square]: Pearson correlation over the positions (0 where constant).
    public var correlation: [[[Double]]]
    /// [feature]: up to `topCount` (game, position, activation), largest first.
    public var top: [[(game: Int, position: Int, activation: Float)]]

    public static func compute(_ sae: SparseAutoencoder, model: HookedTransformer, games: GameDataset, features: [Int], batchSize: Int = 64) throws -> SAEFeatureProfiles {
        let point = try HookPoint(name: sae.hook)
        let F = features.count
        // Running sums for correlations: Σa, Σa², and per (state, square) Σs, Σa·s (s ∈ {0, 1}).
        var sumA = [Double](repeating: 0, count: F), sumAA = [Double](repeating: 0, count: F)
        var sumS = [[Double]](repeating: [Double](repeating: 0, count: 64), count: 3)
        var sumAS = [[[Double]]](repeating: [[Double]](repeating: [Double](repeating: 0, count: 64), count: 3), count: F)
        var top = [[(game: Int, position: Int, activation: Float)]](repeating: [], count: F)
        var count = 0.0
        var labels = [UInt8](repeating: 0, count: 64)
        for start in stride(from: 0, to: games.count, by: batchSize) {
            let batch = Array(start..<min(start + batchSize, games.count))
            let (x, positions) = try ActivationStream.activations(model: model, point: point, games: games, indices: batch, batchSize: batchSize)
            let f = sae.encode(x, rows: positions.count)
            var steps: [Int: [GameStep]] = [:]
            for g in batch { steps[g] = try GameReplay(moves: games[g]).steps }
            for (r, p) in positions.enumerated() {
                let position = ProbePosition(game: p.game, position: p.position, step: steps[p.game]![p.position])
                labels.withUnsafeMutableBufferPointer { ProbeBasis.relative.labels(of: position, into: $0.baseAddress!) }
                count += 1
                // relative labels: 0 empty, 1 theirs, 2 mine → states 0 mine, 1 theirs, 2 empty
                for square in 0..<64 { sumS[[2, 1, 0][Int(labels[square])]][square] += 1 }
                for (i, feature) in features.enumerated() {
                    let a = f[r * sae.dSAE + feature]
                    guard a > 0 else { continue }
                    sumA[i] += Double(a); sumAA[i] += Double(a) * Double(a)
                    for square in 0..<64 { sumAS[i][[2, 1, 0][Int(labels[square])]][square] += Double(a) }
                    if top[i].count < topCount || a > top[i].last!.activation {
                        top[i].append((p.game, p.position, a))
                        top[i].sort { $0.activation > $1.activation }
                        if top[i].count > topCount { top[i].removeLast() }
                    }
                }
            }
        }
        var correlation = [[[Double]]](repeating: [[Double]](repeating: [Double](repeating: 0, count: 64), count: 3), count: F)
        for i in 0..<F {
            let meanA = sumA[i] / count, varA = sumAA[i] / count - meanA * meanA
            for k in 0..<3 {
                for square in 0..<64 {
                    let meanS = sumS[k][square] / count, varS = meanS - meanS * meanS
                    let cov = sumAS[i][k][square] / count - meanA * meanS
                    correlation[i][k][square] = varA > 0 && varS > 0 ? cov / (varA * varS).squareRoot() : 0
                }
            }
        }
        return SAEFeatureProfiles(correlation: correlation, top: top)
    }
}
