import ArgumentParser
import Foundation
import OthelloModel
import WorkbenchSupport

/// `othello-gpt bench forward`: forward-pass speed of the full Othello-GPT beside OpenBLAS and TransformerLens.
struct BenchForward: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Tokens per second of the forward pass with a cache, beside sgemm and TransformerLens.",
        discussion: """
        Runs the full 8-layer Othello-GPT (d_model 512, random weights) on a batch of games, caching every \
        blocks.L.hook_resid_post, then caching every hook. Beside it, in the same run: the OpenBLAS sgemm \
        rate on the model's own matrix shapes, the GFLOP/s the forward achieves, and — when python3 with \
        torch and transformer_lens is importable — TransformerLens' run_with_cache on the same weights and \
        thread count (scripts/bench_transformer_lens.py), with the GFLOP/s of PyTorch's own matrix products on \
        the same shapes (its ceiling, as sgemm is the workbench's). Build with `swift build -c release` first.

        Example: othello-gpt bench forward --batch 64 --threads 2
        """
    )

    @Option(help: "Games per forward pass (59 tokens each).")
    var batch: Int = 64

    @Option(help: "Threads for OpenBLAS and PyTorch (default: all cores).")
    var threads: Int?

    @Option(help: "Seconds to measure each figure, split over the rounds.")
    var seconds: Double = 9

    @Option(help: "Rounds of measurements; each figure is the best of its rounds.")
    var rounds: Int = 3

    @Flag(help: "Skip the TransformerLens reference even when Python has it.")
    var noReference = false

    @Flag(help: "Also print where the time of one forward pass goes, by the hook point each kernel produces.")
    var profile = false

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        guard batch >= 1, batch <= 4096 else { throw WorkbenchError("--batch \(batch): choose 1…4096 games") }
        guard seconds > 0, rounds >= 1 else { throw WorkbenchError("--seconds must be positive and --rounds at least 1") }
        let threads = threads ?? Parallel.coreCount
        Matmul.setThreads(threads)
        let config = ModelConfig.othelloGPT
        let model = HookedTransformer.random(config: config, seed: 1)
        var rng = SeededRandom(seed: 2)
        let positions = config.nCtx
        let tokens = (0..<(batch * positions)).map { _ in Int32(1 + rng.next(below: config.dVocab - 1)) }
        let tokensPerPass = Double(batch * positions)
        let flopsPerToken = config.forwardFLOPsPerToken(positions: positions)

        let arena = ActivationArena(config: config, maxBatch: batch, mode: .inference)   // reused, as in a long run
        func rate(_ filter: HookFilter, seconds: Double) throws -> Double {
            let options = HookedTransformer.RunOptions(batchSize: batch, arena: arena)
            let (passes, elapsed) = try timed(seconds) {
                _ = try model.runWithCache(tokens: tokens, games: batch, positions: positions, filter: filter, options: options)
            }
            return tokensPerPass * Double(passes) / elapsed
        }
        // Rounds alternate the measurements so that a busy moment on a shared machine hits all of them alike;
        // each figure is the best of its rounds.
        _ = try rate(.none, seconds: 0)   // warm-up
        var residPost = 0.0, allHooks = 0.0, sgemm = 0.0
        for _ in 0..<rounds {
            residPost = max(residPost, try rate(HookFilter { $0.kind == .residPost }, seconds: seconds / Double(rounds)))
            sgemm = max(sgemm, try sgemmRate(config: config, rows: batch * positions, seconds: seconds / Double(rounds)))
            allHooks = max(allHooks, try rate(HookFilter { $0.kind != .result }, seconds: seconds / Double(rounds)))
        }
        let reference = noReference ? nil : try transformerLens(model: model, threads: threads)

        let achieved = residPost * flopsPerToken / 1e9
        let profile = self.profile ? try forwardProfile(model: model, tokens: tokens) : nil
        let report = Report(batch: batch, threads: threads, positions: positions, tokensPerSResidPost: residPost, tokensPerSAllHooks: allHooks,
                            gflopsAchieved: achieved, gflopsSgemm: sgemm, shareOfSgemm: achieved / sgemm, transformerLens: reference,
                            speedupVsTransformerLens: reference?.residPostTokensPerS.map { residPost / $0 },
                            speedupAllHooksVsTransformerLens: reference?.allHooksTokensPerS.map { allHooks / $0 },
                            profileSecondsPerPass: profile?.seconds,
                            profileShareByHook: profile.map { Dictionary(uniqueKeysWithValues: $0.shares.map { ($0.kind, $0.share) }) })
        if json { return print(try JSONOutput.string(report)) }
        print("forward pass, Othello-GPT 8 layers d_model 512, batch \(batch) × \(positions) tokens, \(threads) threads")
        print(String(format: "  this workbench, cache resid_post   %8.0f tokens/s  %6.1f GFLOP/s (%.0f%% of sgemm)", residPost, achieved, 100 * achieved / sgemm))
        print(String(format: "  this workbench, cache every hook   %8.0f tokens/s", allHooks))
        print(String(format: "  OpenBLAS sgemm, the model's shapes %8.1f GFLOP/s", sgemm))
        if let reference, let tl = reference.residPostTokensPerS, let tlAll = reference.allHooksTokensPerS {
            print(String(format: "  TransformerLens, cache resid_post  %8.0f tokens/s  %6.1f GFLOP/s  → %.2f× faster here", tl, tl * flopsPerToken / 1e9, residPost / tl))
            print(String(format: "  TransformerLens, cache every hook  %8.0f tokens/s  → %.2f× faster here", tlAll, allHooks / tlAll))
            if let gemm = reference.matmulGflops {
                let blas = reference.blas ?? "its BLAS"
                print(String(format: "  PyTorch matmul, same shapes       %8.1f GFLOP/s", gemm)
                      + " (\(blas); TransformerLens reaches " + String(format: "%.0f%% of it)", 100 * tl * flopsPerToken / 1e9 / gemm))
            }
        } else if let reference, let why = reference.skipped {
            print("  TransformerLens: skipped (\(why))")
        }
        if let profile {
            print(String(format: "profile of a forward pass (%.3f s), by the activation produced:", profile.seconds))
            for (kind, share) in profile.shares {
                print("  " + kind.padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: "%5.1f%%", 100 * share))
            }
        }
    }

    /// Times two forward passes (after a warm-up) hook point by hook point: the time before each hook is the
    /// kernels producing it. Returns the seconds per pass and each kind's share (above 0.1%), largest first.
    private func forwardProfile(model: HookedTransformer, tokens: [Int32]) throws -> (seconds: Double, shares: [(kind: String, share: Double)]) {
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

    /// Runs `body` repeatedly for at least `seconds` (and once); returns (runs, elapsed seconds).
    private func timed(_ seconds: Double, _ body: () throws -> Void) throws -> (Int, Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        var runs = 0
        while true {
            try body()
            runs += 1
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if elapsed >= seconds { return (runs, elapsed) }
        }
    }

    /// The sgemm rate on one block's and the unembedding's products, shaped as the forward pass calls them
    /// (`rows` = batch × positions): Q/K/V, W_O, W_in, W_out, W_U.
    private func sgemmRate(config: ModelConfig, rows: Int, seconds: Double) throws -> Double {
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
        let (runs, elapsed) = try timed(seconds) {
            for (m, n, k, ldc, calls) in shapes {
                for _ in 0..<calls { Matmul.gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: c, ldc: ldc) }
            }
        }
        return flops * Double(runs) / elapsed / 1e9
    }

    /// `bench forward --json`.
    struct Report: Codable {
        var batch, threads, positions: Int
        var tokensPerSResidPost, tokensPerSAllHooks, gflopsAchieved, gflopsSgemm, shareOfSgemm: Double
        var transformerLens: PythonReference?
        var speedupVsTransformerLens, speedupAllHooksVsTransformerLens: Double?
        var profileSecondsPerPass: Double?
        var profileShareByHook: [String: Double]?
    }

    /// TransformerLens' figures from scripts/bench_transformer_lens.py, or why they were skipped.
    private func transformerLens(model: HookedTransformer, threads: Int) throws -> PythonReference {
        guard let script = referenceScript("bench_transformer_lens.py") else {
            return PythonReference(skipped: "scripts/bench_transformer_lens.py not found; run from the repository root")
        }
        let weights = FileManager.default.temporaryDirectory.appendingPathComponent("othello-gpt-bench-\(getpid()).safetensors")
        defer { try? FileManager.default.removeItem(at: weights) }
        try model.save(to: weights)
        return runPythonJSON(script, ["--weights", weights.path, "--batch", String(batch), "--threads", String(threads),
                                      "--seconds", String(seconds), "--rounds", String(rounds)], needs: "torch and transformer_lens")
    }
}
