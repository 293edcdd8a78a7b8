import COpenBLAS
import Foundation
import OthelloModel
import OthelloRules
import WorkbenchSupport

/// The speed of training: games per second of full training steps, and the matrix products' share.
///
/// Two figures on the same shapes in the same run: the training step itself, and a replay of exactly
/// the sgemm calls one step makes (same shapes, same parallel split over shards), with nothing else.
/// Their FLOP count is the same, so `achievedGFLOPs / sgemmGFLOPs` is the fraction of the step's time
/// spent in matrix products.
///
///     let result = try TrainingBenchmark.measure(config: config, batchSize: 128, threads: 2)
///     print(result.gamesPerSecond, result.achievedGFLOPs, result.sgemmGFLOPs)
public enum TrainingBenchmark {
    public struct Result: Codable {
        public var threads: Int
        public var batchSize: Int
        /// Median seconds of one training step (forward, backward, clipping, AdamW; no data generation).
        public var secondsPerStep: Double
        public var gamesPerSecond: Double
        /// FLOPs of the matrix products of one step.
        public var flopsPerStep: Double
        /// flopsPerStep / secondsPerStep.
        public var achievedGFLOPs: Double
        /// flopsPerStep / (median seconds of the sgemm calls of one step alone).
        public var sgemmGFLOPs: Double
    }

    /// Measures `steps` training steps (after one warm-up step) of `config` on `batchSize` random games,
    /// the batch cut in shards of `gamesPerShard` games (see `Trainer`).
    public static func measure(config: ModelConfig, batchSize: Int, threads: Int, steps: Int = 6, gamesPerShard: Int = 16) throws -> Result {
        let parameters = ModelParameters(config: config)
        parameters.initializeForTraining(seed: 1)
        let trainer = try Trainer(parameters: parameters, batchSize: batchSize, optimizer: AdamW.Settings(), threads: threads,
                                  gamesPerShard: gamesPerShard)
        let games = TokenBatch(RandomGames.generate(count: batchSize, seed: 1, threads: threads))
        let replay = GemmReplay(config: config, gamesPerShard: trainer.gamesPerShard, batchSize: batchSize, threads: threads)

        _ = try trainer.step(games: games, learningRate: 1e-4, maxGradNorm: 1)
        replay.run()
        var stepTimes: [Double] = [], gemmTimes: [Double] = []
        for _ in 0..<max(1, steps) {
            stepTimes.append(try seconds { _ = try trainer.step(games: games, learningRate: 1e-4, maxGradNorm: 1) })
            gemmTimes.append(seconds { replay.run() })
        }
        let step = median(stepTimes), gemm = median(gemmTimes)
        return Result(threads: threads, batchSize: batchSize, secondsPerStep: step, gamesPerSecond: Double(batchSize) / step,
                      flopsPerStep: replay.flops, achievedGFLOPs: replay.flops / step / 1e9, sgemmGFLOPs: replay.flops / gemm / 1e9)
    }

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

/// Every sgemm call of one training step (forward and backward), with the trainer's shapes and its
/// parallel split over shards, on scratch buffers.
final class GemmReplay: @unchecked Sendable {
    struct Call {
        var transA = false, transB = false
        var m: Int, n: Int, k: Int
        /// Repetitions per shard (per game and head for attention).
        var count: Int
    }

    let calls: [Call]
    let shards: Int
    let threads: Int
    let flops: Double
    private let buffers: [(a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>)]

    init(config: ModelConfig, gamesPerShard: Int, batchSize: Int, threads: Int) {
        let T = Trainer.positions, R = gamesPerShard * T
        let (C, H, D, M, V, L) = (config.dModel, config.nHeads, config.dHead, config.dMLP, config.dVocab, config.nLayers)
        let heads = gamesPerShard * H
        var calls: [Call] = []
        // Linear maps: forward y = x W, backward dx = dy Wᵀ and dW = xᵀ dy.
        func linear(_ inDim: Int, _ outDim: Int, _ count: Int) {
            calls.append(Call(m: R, n: outDim, k: inDim, count: count))
            calls.append(Call(transB: true, m: R, n: inDim, k: outDim, count: count))
            calls.append(Call(transA: true, m: inDim, n: outDim, k: R, count: count))
        }
        // W_Q, W_K, W_V: forward per head, backward all three at once (packed [C, 3C]).
        calls.append(Call(m: R, n: D, k: C, count: 3 * H * L))
        calls.append(Call(transB: true, m: R, n: C, k: 3 * H * D, count: L))
        calls.append(Call(transA: true, m: C, n: 3 * H * D, k: R, count: L))
        linear(C, C, L)              // W_O as [H·D, C]
        linear(C, M, L)              // W_in
        linear(M, C, L)              // W_out
        linear(C, V, 1)              // W_U
        // Attention per game and head: forward scores and z, backward dpattern, dv, dq, dk.
        calls.append(Call(transB: true, m: T, n: T, k: D, count: heads * L))
        calls.append(Call(m: T, n: D, k: T, count: heads * L))
        calls.append(Call(transB: true, m: T, n: T, k: D, count: heads * L))
        calls.append(Call(transA: true, m: T, n: D, k: T, count: 2 * heads * L))
        calls.append(Call(m: T, n: D, k: T, count: heads * L))
        self.calls = calls
        shards = (batchSize + gamesPerShard - 1) / gamesPerShard
        self.threads = threads
        flops = Double(shards) * calls.reduce(0) { $0 + 2 * Double($1.m * $1.n * $1.k * $1.count) }
        let size = calls.map { max($0.m * $0.k, $0.k * $0.n, $0.m * $0.n) }.max() ?? 1
        func make() -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: size)
            p.initialize(repeating: 0.01, count: size)
            return p
        }
        buffers = (0..<shards).map { _ in (make(), make(), make()) }
    }

    deinit {
        for (a, b, c) in buffers { a.deallocate(); b.deallocate(); c.deallocate() }
    }

    func run() {
        withSingleThreadedBLAS {
            Parallel.forEach(chunks: shards, threads: threads) { shard in
                let (a, b, c) = self.buffers[shard]
                for call in self.calls {
                    let lda = call.transA ? call.m : call.k, ldb = call.transB ? call.k : call.n
                    for _ in 0..<call.count {
                        cblas_sgemm(CblasRowMajor, call.transA ? CblasTrans : CblasNoTrans, call.transB ? CblasTrans : CblasNoTrans,
                                    Int32(call.m), Int32(call.n), Int32(call.k), 1, a, Int32(lda), b, Int32(ldb), 0, c, Int32(call.n))
                    }
                }
            }
        }
    }
}
