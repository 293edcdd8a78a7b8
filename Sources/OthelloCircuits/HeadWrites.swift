import Foundation
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport

/// What each attention head writes in the probe bases: the mean absolute projection of its output
/// (`hook_z` of the head times its `W_O`, TransformerLens' `hook_result`) onto each square's unit probe direction
/// (`ProbeDirectionKind`) of the layer's `hook_resid_post` probe — how strongly, on real games, the head writes about
/// each square's state into the residual stream.
///
///     let writes = try HeadWrites.compute(model: model, games: games, probes: probesByHook)
///     writes.mean[3][2][.mineTheirs]    // 64 values: L3H2's writes along each square's mine − theirs direction
public struct HeadWrites: Sendable {
    /// `[layer][head]`, per direction kind the 64 squares' mean |projection|; empty where the layer has no probe.
    public var mean: [[[ProbeDirectionKind: [Float]]]]

    public static func compute(model: HookedTransformer, games: GameDataset, probes: [HookPoint: [Probe]], batchSize: Int = 64,
                               progress: ProgressBar? = nil) throws -> HeadWrites {
        let config = model.config, (L, H, T, d, dh) = (config.nLayers, config.nHeads, config.nCtx, config.dModel, config.dHead)
        let layout = model.parameters.layout, base = model.parameters.base
        // Per layer and kind, per head P_h = W_O^h · Uᵀ [d_head, 64]: z_h · P_h is the projection on each direction.
        var projections: [[ProbeDirectionKind: [[Float]]]] = []
        for l in 0..<L {
            let directions = try ProbeDirectionKind.directions(of: probes[HookPoint(.residPost, layer: l)] ?? [], width: d)
            projections.append(directions.mapValues { u in
                let flat = u.flatMap { $0 }
                return (0..<H).map { h in
                    var p = [Float](repeating: 0, count: dh * 64)
                    flat.withUnsafeBufferPointer { u in
                        p.withUnsafeMutableBufferPointer {
                            Matmul.gemm(m: dh, n: 64, k: d, a: base + layout.blocks[l].W_O + h * dh * d, lda: d, b: u.baseAddress!, ldb: d, transposeB: true,
                                        c: $0.baseAddress!, ldc: 64)
                        }
                    }
                    return p
                }
            })
        }
        // Sums of |projection| per layer and kind, [head][square] flattened.
        var sums = projections.map { kinds in kinds.mapValues { _ in [Double](repeating: 0, count: H * 64) } }
        let points = (0..<L).map { HookPoint(.z, layer: $0) }
        var rows = 0
        for start in stride(from: 0, to: games.count, by: max(1, batchSize)) {
            let batch = Array(start..<min(start + max(1, batchSize), games.count))
            let cache = try model.runWithCache(tokens: games.tokenBatch(batch, positions: T), games: batch.count, positions: T, points: points,
                                               options: .init(batchSize: batch.count, computeLogits: false))
            let lengths = batch.map { min(T, games.lengths[$0]) }
            let m = lengths.reduce(0, +)
            rows += m
            var zh = [Float](repeating: 0, count: m * dh), out = [Float](repeating: 0, count: m * 64)
            for l in 0..<L where !projections[l].isEmpty {
                let z = try cache.values(points[l])
                for h in 0..<H {
                    // z of head h at every real position [m, d_head].
                    z.withUnsafeBufferPointer { z in
                        zh.withUnsafeMutableBufferPointer { zh in
                            var r = 0
                            for (b, n) in lengths.enumerated() {
                                for t in 0..<n {
                                    (zh.baseAddress! + r * dh).update(from: z.baseAddress! + ((b * T + t) * H + h) * dh, count: dh)
                                    r += 1
                                }
                            }
                        }
                    }
                    for (kind, perHead) in projections[l] {
                        var total = [Double](repeating: 0, count: 64)
                        zh.withUnsafeBufferPointer { a in
                            perHead[h].withUnsafeBufferPointer { p in
                                out.withUnsafeMutableBufferPointer { o in
                                    Matmul.gemm(m: m, n: 64, k: dh, a: a.baseAddress!, lda: dh, b: p.baseAddress!, ldb: 64, c: o.baseAddress!, ldc: 64)
                                    for r in 0..<m { for s in 0..<64 { total[s] += Double(abs(o[r * 64 + s])) } }
                                }
                            }
                        }
                        for s in 0..<64 { sums[l][kind]![h * 64 + s] += total[s] }
                    }
                }
            }
            progress?.advance(by: batch.count)
        }
        let scale = 1 / Double(max(rows, 1))
        return HeadWrites(mean: (0..<L).map { l in (0..<H).map { h in sums[l].mapValues { $0[(h * 64)..<((h + 1) * 64)].map { Float($0 * scale) } } } })
    }
}
