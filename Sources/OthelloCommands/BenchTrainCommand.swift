import ArgumentParser
import Foundation
import OthelloBenchmarks
import OthelloModel
import OthelloTraining
import WorkbenchSupport

/// `othello-gpt bench train`: training throughput of the shipped configuration, beside the sgemm rate
/// on the same shapes and the same training loop in PyTorch, measured alternately in the same run.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training games/s and GFLOP/s against sgemm on the same shapes and against PyTorch.",
        discussion: """
        Times full training steps (forward, backward, clipping, AdamW) of the shipped configuration \
        (\(ModelConfig.shipped.shapeDescription), batch 128) on random games, and, alternating with \
        them step by step so that all see the same load from other programs: every sgemm call of one \
        step replayed alone (the same FLOPs with nothing else: the ceiling), and the same training step \
        in PyTorch/TransformerLens (scripts/bench_train_torch.py) with the same number of threads, when \
        python3 can import torch. Figures are medians over --steps rounds; GFLOP/s count the matrix \
        products of a step (2·m·n·k per sgemm). Build in release first (`make build`: for this CPU):
          make build && .build/release/othello-gpt bench train
        """
    )

    @Option(name: .customLong("threads"), help: "Threads (default: all cores).") var threadsOption: Int?
    var threads: Int { threadsOption ?? Parallel.coreCount }
    @Option(help: "Timed rounds (after one warm-up step each).") var steps: Int = 8
    @Option(help: "Transformer blocks (default: the shipped model's).") var layers: Int = ModelConfig.shipped.nLayers
    @Option(name: .customLong("d-model"), help: "Residual stream width.") var dModel: Int = ModelConfig.shipped.dModel
    @Option(help: "Attention heads.") var heads: Int = ModelConfig.shipped.nHeads
    @Option(name: .customLong("d-mlp"), help: "MLP hidden width.") var dMLP: Int = ModelConfig.shipped.dMLP
    @Option(help: "Games per step.") var batch: Int = 128
    @Option(name: .customLong("games-per-shard"), help: "Games per shard of the batch (the trainer's unit of parallel work).") var gamesPerShard: Int = 16
    @Option(name: .customLong("torch-script"), help: "The PyTorch reference script (default: scripts/bench_train_torch.py of this package).") var torchScript: String?
    @Flag(name: .customLong("no-torch"), help: "Skip the PyTorch reference.") var noTorch = false
    @Flag(help: "Print the figures as JSON.") var json = false

    func run() throws {
        var benchmark = TrainingStepBenchmark(config: try ModelConfig(nLayers: layers, dModel: dModel, nHeads: heads, dMLP: dMLP), threads: threads)
        (benchmark.batch, benchmark.gamesPerShard, benchmark.steps, benchmark.torchScript, benchmark.reference) = (batch, gamesPerShard, steps, torchScript, !noTorch)
        try printReport(try benchmark.run(), shape: benchmark.config)
    }

    func printReport(_ report: TrainingStepBenchmark.Report, shape config: ModelConfig) throws {
        if json {
            print(try JSONOutput.string(report))
            return
        }
        print("training \(config.shapeDescription), batch \(batch), \(threads) thread\(threads == 1 ? "" : "s"); OpenBLAS kernels: \(report.openBLASCore); medians of \(steps) alternating rounds")
        func line(_ name: String, _ figure: TrainingStepBenchmark.Figure, _ note: String) {
            print(String(format: "  %@ %7.1f games/s  %6.1f GFLOP/s  %6.3f s/step  %@", name.padding(toLength: 12, withPad: " ", startingAt: 0),
                         figure.gamesPerSecond, figure.gflops, figure.secondsPerStep, note))
        }
        line("workbench", report.workbench, "")
        line("sgemm alone", report.sgemmAlone, "(the step's matrix products only, same shapes and split)")
        if let torch = report.pytorch, let ratio = report.ratioToPyTorch {
            line("PyTorch", torch, String(format: "→ workbench %.2f× PyTorch", ratio))
        } else if let note = report.pytorchNote {
            print("  PyTorch     not measured: \(note)")
        }
        if report.openBLASCore == "Prescott" {
            print("  note: OpenBLAS runs its generic Prescott (SSE3) kernels; on a CPU with AVX2 or AVX-512, OPENBLAS_CORETYPE=Haswell or SkylakeX is several times faster")
        }
    }
}
