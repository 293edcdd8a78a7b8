import ArgumentParser
import Foundation
import OthelloBenchmarks
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport

/// `othello-gpt bench probe`: caching activations and training probes, next to PyTorch on the same data.
struct BenchProbe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Time caching one layer's activations and training a linear and an MLP probe, next to PyTorch.",
        discussion: """
        Generates --games random full-length games (plus a fifth as many held out), caches \
        blocks.<layer>.hook_resid_post of the model for all of them, and trains a linear and an MLP probe (mine/theirs \
        basis) with the default recipe (4 epochs, AdamW lr 1e-3, batch 512). When python3 can import torch, \
        scripts/bench_probe_torch.py trains the same probes on the same activations and labels (written to a \
        temporary folder) with the same number of threads, and TransformerLens caches the same layer; the \
        report gives both times, their ratio and both test accuracies. Timings are wall-clock on whatever else \
        the machine is doing: compare the ratio, measured in one run.

        Example:
          othello-gpt bench probe --games 10000 --layer 4 --threads 2
        """
    )

    @OptionGroup var model: ModelOptions
    @Option(help: "Training games (a fifth as many more are held out).") var games: Int = 10_000
    @Option(help: "Layer whose resid_post is probed.") var layer: Int = 4
    @Option(help: "Seed of the games.") var seed: UInt64 = 1
    @Option(help: "Epochs of probe training.") var epochs: Int = 4
    @Flag(name: .customLong("no-torch"), help: "Skip the PyTorch reference.") var noTorch = false
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        var benchmark = ProbeBenchmark(model: try model.load())
        (benchmark.games, benchmark.layer, benchmark.seed, benchmark.epochs, benchmark.reference) = (games, layer, seed, epochs, !noTorch)
        let report = try benchmark.run()
        if json { return try printJSON(report) }
        let d = benchmark.model.config, torch = report.pytorch
        print("probes on \(report.hook) of a \(d.nLayers)-layer d_model \(d.dModel) model, \(games) games (\(report.rows) positions), \(epochs) epochs, \(report.threads) threads")
        print(String(format: "  caching the activations   workbench %7.2f s", report.cacheSeconds)
              + (torch.cacheSeconds.map { String(format: "   TransformerLens %7.2f s  → %.2f×", $0, $0 / report.cacheSeconds) } ?? ""))
        for kind in Probe.Kind.allCases {
            let ours = report.probes[kind.rawValue]!
            var line = "  training, " + kind.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)
                + String(format: "workbench %7.2f s (%.2f%%)", ours.seconds, 100 * ours.accuracy)
            if let theirs = torch[kind], let s = theirs.seconds, let a = theirs.accuracy {
                line += String(format: "   PyTorch %7.2f s (%.2f%%)  → %.2f×", s, 100 * a, s / ours.seconds)
            }
            print(line)
        }
        if let skipped = torch.skipped { print("  PyTorch reference skipped: \(skipped)") }
    }
}
