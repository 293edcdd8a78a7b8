import COpenBLAS
import Foundation
import OthelloModel
import OthelloRules
import WorkbenchSupport

/// The speed of training: seconds per training step, and per step's matrix products alone.
///
/// Two timings on the same shapes: the training step itself (forward, backward, clipping, AdamW on a
/// fixed batch of random games; no data generation), and a replay of exactly the sgemm calls one step
/// makes (same shapes, same parallel split over shards) with nothing else. Their FLOP count is the
/// same, `flopsPerStep`, so the ratio of the two times is the share of the step spent in matrix products.
/// Time them alternately (with any other reference) so that both see the same load.
///
///     let bench = try TrainingBenchmark(config: config, batchSize: 128, threads: 2)
///     let gflops = bench.flopsPerStep / (try bench.timeStep()) / 1e9
public final class TrainingBenchmark {
    public let batchSize: Int
    /// FLOPs of the matrix products of one step (2·m·n·k summed over its sgemm calls).
    public var flopsPerStep: Double { replay.flops }
    private let trainer: Trainer
    private let games: TokenBatch
    private let replay: GemmReplay

    /// A trainer for `config` on `batchSize` random games in shards of `gamesPerShard` (see `Trainer`),
    /// warmed up by one step.
    public init(config: ModelConfig, batchSize: Int, threads: Int, gamesPerShard: Int = 16) throws {
        let parameters = ModelParameters(config: config)
        parameters.initializeForTraining(seed: 1)
        trainer = try Trainer(parameters: parameters, batchSize: batchSize, optimizer: AdamW.Settings(), threads: threads,
                              gamesPerShard: gamesPerShard)
        games = TokenBatch(RandomGames.generate(count: batchSize, seed: 1, threads: threads))
        replay = GemmReplay(config: config, gamesPerShard: trainer.gamesPerShard, batchSize: batchSize, threads: threads)
        self.batchSize = batchSize
        _ = try timeStep()
        _ = timeMatrixProducts()
    }

    /// Seconds of one training step.
    public func timeStep() throws -> Double {
        try Self.seconds { _ = try trainer.step(games: games, learningRate: 1e-4, maxGradNorm: 1) }
    }

    /// Seconds of one step's sgemm calls alone.
    public func timeMatrixProducts() -> Double {
        Self.seconds { replay.run() }
    }

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
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
        let calls = Self.calls(config: config, gamesPerShard: gamesPerShard)
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

    /// The sgemm calls of one shard of `gamesPerShard` games in a training step of a `config` model.
    static func calls(config: ModelConfig, gamesPerShard: Int) -> [Call] {
        let T = Trainer.gamePositions, R = gamesPerShard * T
        let (C, H, D, M, V, L) = (config.dModel, config.nHeads, config.dHead, config.dMLP, config.dVocab, config.nLayers)
        let heads = gamesPerShard * H
        var calls: [Call] = []
        // Linear maps: forward y = x W, backward dx = dy Wᵀ and dW = xᵀ dy.
        func linear(_ inDim: Int, _ outDim: Int, _ count: Int) {
            calls.append(Call(m: R, n: outDim, k: inDim, count: count))
            calls.append(Call(transB: true, m: R, n: inDim, k: outDim, count: count))
            calls.append(Call(transA: true, m: inDim, n: outDim, k: R, count: count))
        }
        // W_Q, W_K, W_V: forward each with its heads packed (per head for few rows), backward all three at once ([C, 3C]).
        if R >= Kernels.packedHeadsFromRows {
            calls.append(Call(m: R, n: H * D, k: C, count: 3 * L))
        } else {
            calls.append(Call(m: R, n: D, k: C, count: 3 * H * L))
        }
        calls.append(Call(transB: true, m: R, n: C, k: 3 * H * D, count: L))
        calls.append(Call(transA: true, m: C, n: 3 * H * D, k: R, count: L))
        linear(C, C, L)              // W_O as [H·D, C]
        linear(C, M, L)              // W_in
        linear(M, C, L)              // W_out
        linear(C, V, 1)              // W_U
        // Attention per game and head: forward scores (from kᵀ) and z, backward dpattern (from vᵀ), dv, dq, dk.
        calls.append(Call(m: T, n: T, k: D, count: heads * L))
        calls.append(Call(m: T, n: D, k: T, count: heads * L))
        calls.append(Call(m: T, n: T, k: D, count: heads * L))
        calls.append(Call(transA: true, m: T, n: D, k: T, count: 2 * heads * L))
        calls.append(Call(m: T, n: D, k: T, count: heads * L))
        return calls
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
