import ArgumentParser
import Foundation
import OthelloBenchmarks
import OthelloSAEs
import OthelloModel
import OthelloRules
import WorkbenchSupport

/// `othello-gpt bench sae`: SAE training steps, next to the same recipe in PyTorch on the same data.
struct BenchSAE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sae",
        abstract: "Time SAE training steps on a hook's activations, next to the same recipe in PyTorch.",
        discussion: """
        Caches the hook's activations on --games random games, then times --steps training steps (forward, \
        backward, decoder-gradient projection, Adam, renormalisation) of --batch positions each, after --warmup \
        untimed training steps (a ReLU SAE is dense at initialisation and sparse once trained: the two regimes \
        run different code) and one more untimed step. When python3 can import torch, scripts/bench_sae_torch.py runs the same steps from \
        the same initial weights on the same activations with the same number of threads; the report gives both \
        rates (positions per second), their ratio and both final losses.

        Example:
          othello-gpt bench sae --hook blocks.5.hook_resid_post --features 2048 --steps 50 --threads 2
        """
    )

    @OptionGroup var model: ModelOptions
    @Option(help: "The hook.") var hook: String = "blocks.5.hook_resid_post"
    @Option(help: "relu, topk or batchtopk.", transform: choice("--kind")) var kind: SparseAutoencoder.Kind.Name = .relu
    @Option(help: "Dictionary size.") var features: Int = 2048
    @Option(help: "TopK's and BatchTopK's k.") var k: Int = 32
    @Option(name: .customLong("stream-chunks"), help: "Chunks of 256 fresh games the activation stream is timed on (0: skip).") var streamChunks: Int = 2
    @Option(help: "ReLU's L1 coefficient.") var l1: Float = 5
    @Option(help: "Positions per step.") var batch: Int = 4096
    @Option(help: "Timed steps.") var steps: Int = 50
    @Option(help: "Untimed training steps first (both sides then start from the same trained weights, as sparse as training makes them).") var warmup: Int = 300
    @Option(help: "Games whose activations are cycled through.") var games: Int = 300
    @Flag(name: .customLong("no-torch"), help: "Skip the PyTorch reference.") var noTorch = false
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        var benchmark = SAETrainingBenchmark(model: try model.load())
        benchmark.settings.features = features; benchmark.settings.kind = kind; benchmark.settings.k = k; benchmark.settings.l1 = l1
        benchmark.settings.batchSize = batch
        (benchmark.hook, benchmark.steps, benchmark.warmup, benchmark.games, benchmark.reference) = (hook, steps, warmup, games, !noTorch)
        benchmark.streamChunks = streamChunks
        let report = try benchmark.run()
        if json { return try printJSON(report) }
        print("\(report.dIn) → \(features) \(kind) SAE on \(hook), \(steps) steps of \(batch) positions after \(warmup) untimed ones, \(report.threads) threads")
        print(String(format: "  workbench %7.2f s  (%.0f positions/s, final loss %.4g)", report.seconds, report.positionsPerSecond, report.loss))
        if let seconds = report.pytorch.seconds, let loss = report.pytorch.loss {
            print(String(format: "  PyTorch   %7.2f s  (%.0f positions/s, final loss %.4g)  → %.2f×", seconds, Double(steps * batch) / seconds, loss, seconds / report.seconds))
        } else if let skipped = report.pytorch.skipped { print("  PyTorch reference skipped: \(skipped)") }
        if let stream = report.streamPositionsPerSecond {
            print(String(format: "  activation stream %.0f positions/s (fresh games through the model to %@)", stream, hook))
        }
    }
}
