import ArgumentParser
import Foundation
import OthelloBenchmarks
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
        var benchmark = ForwardBenchmark(batch: batch, threads: threads ?? Parallel.coreCount)
        (benchmark.seconds, benchmark.rounds, benchmark.reference, benchmark.profile) = (seconds, rounds, !noReference, profile)
        let report = try benchmark.run()
        if json { return print(try JSONOutput.string(report)) }
        let (residPost, allHooks, sgemm, achieved) = (report.tokensPerSResidPost, report.tokensPerSAllHooks, report.gflopsSgemm, report.gflopsAchieved)
        print("forward pass, Othello-GPT 8 layers d_model 512, batch \(batch) × \(report.positions) tokens, \(report.threads) threads")
        print(String(format: "  this workbench, cache resid_post   %8.0f tokens/s  %6.1f GFLOP/s (%.0f%% of sgemm)", residPost, achieved, 100 * achieved / sgemm))
        print(String(format: "  this workbench, cache every hook   %8.0f tokens/s", allHooks))
        print(String(format: "  OpenBLAS sgemm, the model's shapes %8.1f GFLOP/s", sgemm))
        if let reference = report.transformerLens, let tl = reference.residPostTokensPerS, let tlAll = reference.allHooksTokensPerS {
            let flopsPerToken = report.flopsPerToken
            print(String(format: "  TransformerLens, cache resid_post  %8.0f tokens/s  %6.1f GFLOP/s  → %.2f× faster here", tl, tl * flopsPerToken / 1e9, residPost / tl))
            print(String(format: "  TransformerLens, cache every hook  %8.0f tokens/s  → %.2f× faster here", tlAll, allHooks / tlAll))
            if let gemm = reference.matmulGflops {
                let blas = reference.blas ?? "its BLAS"
                print(String(format: "  PyTorch matmul, same shapes       %8.1f GFLOP/s", gemm)
                      + " (\(blas); TransformerLens reaches " + String(format: "%.0f%% of it)", 100 * tl * flopsPerToken / 1e9 / gemm))
            }
        } else if let why = report.transformerLens?.skipped {
            print("  TransformerLens: skipped (\(why))")
        }
        if let seconds = report.profileSecondsPerPass {
            print(String(format: "profile of a forward pass (%.3f s), by the activation produced:", seconds))
            for (kind, share) in report.profileShares {
                print("  " + kind.padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: "%5.1f%%", 100 * share))
            }
        }
    }
}
