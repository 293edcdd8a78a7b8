import Foundation
import OthelloModel
import WorkbenchSupport

/// `bench forward`: tokens per second of the full Othello-GPT forward pass with a cache, beside the OpenBLAS sgemm
/// rate on the model's own shapes and TransformerLens' `run_with_cache` on the same weights (when Python has it).
///
///     let report = try ForwardBenchmark(batch: 64, threads: 2).run()
///     print(report.tokensPerSResidPost, report.shareOfSgemm)
public struct ForwardBenchmark {
    public var batch: Int
    public var threads: Int
    /// Seconds to measure each figure, split over the rounds; each figure is the best of its rounds.
    public var seconds: Double = 9
    public var rounds: Int = 3
    public var reference = true
    /// Also time one forward pass hook point by hook point.
    public var profile = false

    public init(batch: Int, threads: Int) {
        self.batch = batch
        self.threads = threads
    }

    /// `bench forward --json`.
    public struct Report: Codable, Sendable {
        public var batch, threads, positions: Int
        public var tokensPerSResidPost, tokensPerSAllHooks, gflopsAchieved, gflopsSgemm, shareOfSgemm: Double
        public var transformerLens: PythonReference?
        public var speedupVsTransformerLens, speedupAllHooksVsTransformerLens: Double?
        public var profileSecondsPerPass: Double?
        public var profileShareByHook: [String: Double]?
        /// The profile's shares, largest first.
        public var profileShares: [(kind: String, share: Double)] {
            (profileShareByHook ?? [:]).sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { (kind: $0.key, share: $0.value) }
        }
        /// The forward pass's FLOPs per token (matrix products, 2·m·n·k).
        public var flopsPerToken: Double { ModelConfig.othelloGPT.forwardFLOPsPerToken(positions: positions) }

        init(batch: Int, threads: Int, positions: Int) {
            (self.batch, self.threads, self.positions) = (batch, threads, positions)
            (tokensPerSResidPost, tokensPerSAllHooks, gflopsAchieved, gflopsSgemm, shareOfSgemm) = (0, 0, 0, 0, 0)
        }
    }

    /// Measures the figures (setting OpenBLAS to `threads` threads).
    public func run() throws -> Report {
        guard batch >= 1, batch <= 4096 else { throw WorkbenchError("--batch \(batch): choose 1…4096 games") }
        guard seconds > 0, rounds >= 1 else { throw WorkbenchError("--seconds must be positive and --rounds at least 1") }
        Matmul.setThreads(threads)
        let config = ModelConfig.othelloGPT
        let model = HookedTransformer.random(config: config, seed: 1)
        var rng = SeededRandom(seed: 2)
        let positions = config.nCtx
        let tokens = (0..<(batch * positions)).map { _ in Int32(1 + rng.next(below: config.dVocab - 1)) }
        let tokensPerPass = Double(batch * positions)
        var report = Report(batch: batch, threads: threads, positions: positions)

        let arena = ActivationArena(config: config, maxBatch: batch, mode: .inference)   // reused, as in a long run
        func rate(_ filter: HookFilter, seconds: Double) throws -> Double {
            let options = HookedTransformer.RunOptions(batchSize: batch, arena: arena)
            let (passes, elapsed) = try Timing.repeated(for: seconds) {
                _ = try model.runWithCache(tokens: tokens, games: batch, positions: positions, filter: filter, options: options)
            }
            return tokensPerPass * Double(passes) / elapsed
        }
        // Rounds alternate the measurements so that a busy moment on a shared machine hits all of them alike.
        _ = try rate(.none, seconds: 0)   // warm-up
        var residPost = 0.0, allHooks = 0.0, sgemm = 0.0
        for _ in 0..<rounds {
            residPost = max(residPost, try rate(HookFilter { $0.kind == .residPost }, seconds: seconds / Double(rounds)))
            sgemm = max(sgemm, Self.sgemmRate(config: config, rows: batch * positions, seconds: seconds / Double(rounds)))
            allHooks = max(allHooks, try rate(HookFilter { $0.kind != .result }, seconds: seconds / Double(rounds)))
        }
        report.tokensPerSResidPost = residPost
        report.tokensPerSAllHooks = allHooks
        report.gflopsAchieved = residPost * report.flopsPerToken / 1e9
        report.gflopsSgemm = sgemm
        report.shareOfSgemm = report.gflopsAchieved / sgemm
        if reference {
            let tl = try transformerLens(model: model)
            report.transformerLens = tl
            report.speedupVsTransformerLens = tl.residPostTokensPerS.map { residPost / $0 }
            report.speedupAllHooksVsTransformerLens = tl.allHooksTokensPerS.map { allHooks / $0 }
        }
        if profile {
            let (seconds, shares) = try Self.profile(model: model, tokens: tokens, batch: batch)
            report.profileSecondsPerPass = seconds
            report.profileShareByHook = Dictionary(uniqueKeysWithValues: shares.map { ($0.kind, $0.share) })
        }
        return report
    }

    /// Times two forward passes (after a warm-up) hook point by hook point: the time before each hook is the
    /// kernels producing it. Returns the seconds per pass and each kind's share (above 0.1%), largest first.
    static func profile(model: HookedTransformer, tokens: [Int32], batch: Int) throws -> (seconds: Double, shares: [(kind: String, share: Double)]) {
        let arena = ActivationArena(config: model.config, maxBatch: batch, mode: .inference)
        var spent: [HookPoint.Kind: Double] = [:]
        for pass in 0..<3 {
            var last = DispatchTime.now().uptimeNanoseconds
            try model.forward(tokens: tokens, batch: batch, positions: model.config.nCtx, into: arena) { act in
                let now = DispatchTime.now().uptimeNanoseconds
                if pass > 0 { spent[act.point.kind, default: 0] += Double(now - last) / 1e9 }
                last = now
            }
        }
        let total = spent.values.reduce(0, +)
        let shares = spent.sorted { $0.value > $1.value }.filter { $0.value > 0.001 * total }
            .map { (kind: String(describing: $0.key), share: $0.value / total) }
        return (total / 2, shares)
    }

    /// The sgemm rate on one block's and the unembedding's products, shaped as the forward pass calls them
    /// (`rows` = batch × positions): Q/K/V, W_O, W_in, W_out, W_U.
    static func sgemmRate(config: ModelConfig, rows: Int, seconds: Double) -> Double {
        let (C, H, D, M, V) = (config.dModel, config.nHeads, config.dHead, config.dMLP, config.dVocab)
        let a = UnsafeMutablePointer<Float>.allocate(capacity: rows * M); defer { a.deallocate() }
        let b = UnsafeMutablePointer<Float>.allocate(capacity: C * M); defer { b.deallocate() }
        let c = UnsafeMutablePointer<Float>.allocate(capacity: rows * M); defer { c.deallocate() }
        a.initialize(repeating: 0.01, count: rows * M)
        b.initialize(repeating: 0.01, count: C * M)
        c.initialize(repeating: 0, count: rows * M)
        // (m, n, k, ldc, calls); Q/K/V as the forward pass computes them: per head for small batches, else packed.
        let qkv = rows >= Kernels.packedHeadsFromRows ? (rows, H * D, C, H * D, 3) : (rows, D, C, H * D, 3 * H)
        let shapes = [qkv, (rows, C, H * D, C, 1), (rows, M, C, M, 1), (rows, C, M, C, 1), (rows, V, C, V, 1)]
        let flops = shapes.reduce(0.0) { $0 + 2 * Double($1.0 * $1.1 * $1.2 * $1.4) }
        let (runs, elapsed) = Timing.repeated(for: seconds) {
            for (m, n, k, ldc, calls) in shapes {
                for _ in 0..<calls { Matmul.gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: c, ldc: ldc) }
            }
        }
        return flops * Double(runs) / elapsed / 1e9
    }

    /// TransformerLens' figures from scripts/bench_transformer_lens.py, or why they were skipped.
    func transformerLens(model: HookedTransformer) throws -> PythonReference {
        guard let script = referenceScript("bench_transformer_lens.py") else {
            return PythonReference(skipped: "scripts/bench_transformer_lens.py not found; run from the repository root")
        }
        return try withReferenceFolder("forward") { folder in
            let weights = folder.appendingPathComponent("model.safetensors")
            try model.save(to: weights)
            return PythonReference.run(script, ["--weights", weights.path, "--batch", String(batch), "--threads", String(threads),
                                                "--seconds", String(seconds), "--rounds", String(rounds)], needs: "torch and transformer_lens")
        }
    }
}
