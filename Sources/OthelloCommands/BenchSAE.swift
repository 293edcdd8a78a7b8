import ArgumentParser
import Foundation
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
    @Option(help: "relu or topk.", transform: choice("--kind")) var kind: SparseAutoencoder.Kind.Name = .relu
    @Option(help: "Dictionary size.") var features: Int = 2048
    @Option(help: "TopK's k.") var k: Int = 32
    @Option(help: "ReLU's L1 coefficient.") var l1: Float = 5
    @Option(help: "Positions per step.") var batch: Int = 4096
    @Option(help: "Timed steps.") var steps: Int = 50
    @Option(help: "Untimed training steps first (both sides then start from the same trained weights, as sparse as training makes them).") var warmup: Int = 300
    @Option(help: "Games whose activations are cycled through.") var games: Int = 300
    @Flag(name: .customLong("no-torch"), help: "Skip the PyTorch reference.") var noTorch = false
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        guard steps >= 1, games >= 1 else { throw WorkbenchError("--steps and --games must be at least 1") }
        let transformer = try model.load()
        var settings = SAETrainingSettings()
        settings.features = features; settings.kind = kind; settings.k = k; settings.l1 = l1; settings.batchSize = batch; settings.positions = batch
        try settings.validate()
        let point = try HookPoint(name: hook)
        let dataset = RandomGames.generate(count: games, seed: 1)
        let (data, positions) = try ActivationStream.activations(model: transformer, point: point, games: dataset, indices: Array(0..<games), batchSize: 64)
        var initial = SparseAutoencoder(dIn: data.count / positions.count, dSAE: features, kind: try settings.kind(features: features), hook: hook, seed: 1)
        try initial.check(fits: transformer.config, source: "--hook")
        guard warmup >= 0 else { throw WorkbenchError("--warmup must be 0 or more") }
        if warmup > 0 { _ = SAEBenchmark.time(&initial, data: data, rows: positions.count, steps: warmup, batch: batch, learningRate: settings.learningRate) }
        var warm = initial
        _ = SAEBenchmark.time(&warm, data: data, rows: positions.count, steps: 1, batch: batch, learningRate: settings.learningRate)
        var sae = initial
        let ours = SAEBenchmark.time(&sae, data: data, rows: positions.count, steps: steps, batch: batch, learningRate: settings.learningRate)
        let rate = Double(steps * batch) / ours.seconds
        let torch = noTorch ? PythonReference(skipped: "--no-torch") : try pyTorch(initial: initial, data: data, rows: positions.count)
        let report = Report(hook: hook, dIn: initial.dIn, features: features, kind: kind.rawValue, batch: batch, steps: steps, warmup: warmup,
                            threads: Matmul.threads, seconds: ours.seconds, positionsPerSecond: rate, loss: Double(ours.loss), pytorch: torch,
                            speedup: torch.seconds.map { $0 / ours.seconds })
        if json { return try printJSON(report) }
        print("\(initial.dIn) → \(features) \(kind) SAE on \(hook), \(steps) steps of \(batch) positions after \(warmup) untimed ones, \(Matmul.threads) threads")
        print(String(format: "  workbench %7.2f s  (%.0f positions/s, final loss %.4g)", ours.seconds, rate, ours.loss))
        if let seconds = torch.seconds, let loss = torch.loss {
            print(String(format: "  PyTorch   %7.2f s  (%.0f positions/s, final loss %.4g)  → %.2f×", seconds, Double(steps * batch) / seconds, loss, seconds / ours.seconds))
        } else if let skipped = torch.skipped { print("  PyTorch reference skipped: \(skipped)") }
    }

    /// `bench sae --json`.
    struct Report: Codable {
        var hook: String
        var dIn, features: Int
        var kind: String
        var batch, steps, warmup, threads: Int
        var seconds, positionsPerSecond, loss: Double
        var pytorch: PythonReference
        var speedup: Double?
    }

    private func pyTorch(initial: SparseAutoencoder, data: [Float], rows: Int) throws -> PythonReference {
        guard let script = referenceScript("bench_sae_torch.py") else { return PythonReference(skipped: "scripts/bench_sae_torch.py not found; run from the repository root") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("othello-gpt-bench-sae-\(getpid())")
        try createOutputFolder(folder)
        defer { try? FileManager.default.removeItem(at: folder) }
        try NPYArray(shape: [rows, initial.dIn], values: data).write(to: folder.appendingPathComponent("activations.npy"))
        try NPYArray(shape: [initial.parameterCount], values: initial.parameters).write(to: folder.appendingPathComponent("parameters.npy"))
        try NPYArray(shape: [2], values: [Int32(initial.dIn), Int32(initial.dSAE)]).write(to: folder.appendingPathComponent("shape.npy"))
        let arguments = ["--folder", folder.path, "--kind", kind.rawValue, "--k", String(k), "--l1", String(l1), "--steps", String(steps), "--batch", String(batch),
                         "--lr", String(3e-4), "--threads", String(Matmul.threads)]
        return runPythonJSON(script, arguments)
    }
}
