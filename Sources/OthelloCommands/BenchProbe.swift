import ArgumentParser
import Foundation
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
        guard games >= 5 else { throw WorkbenchError("--games must be at least 5") }
        let transformer = try model.load()
        let threads = Matmul.threads
        let hook = try ProbeHook(layer: layer, config: transformer.config)
        let testGames = max(1, games / 5)
        let dataset = RandomGames.generate(count: games + testGames, seed: seed, fullLength: true)
        var settings = ProbeTrainingSettings()
        settings.epochs = epochs

        var clock = Date()
        let cacheBar = ProgressBar(total: games, label: "cache")
        let train = try ProbeData.collect(model: transformer, games: dataset, indices: Array(0..<games), hooks: [hook],
                                          batchSize: 128, progress: cacheBar)
        let cacheSeconds = Date().timeIntervalSince(clock)
        cacheBar.finish()
        let test = try ProbeData.collect(model: transformer, games: dataset, indices: Array(games..<(games + testGames)), hooks: [hook], batchSize: 128)
        var results: [String: ProbeTiming] = [:]
        for kind in Probe.Kind.allCases {
            clock = Date()
            let bar = ProgressBar(total: ProbeTrainer.steps(rows: train.rows, settings: settings), label: "train \(kind.rawValue)")
            let probe = try ProbeTrainer.train(kind: kind, basis: .relative, hook: hook, on: train, settings: settings, progress: bar)
            bar.finish()
            let seconds = Date().timeIntervalSince(clock)
            let accuracy = try ProbeEvaluator.evaluate(probe, on: test, hook: hook, positions: transformer.config.nCtx).headline.accuracy
            results[kind.rawValue] = ProbeTiming(seconds: seconds, accuracy: accuracy, rowsPerSecond: Double(train.rows * epochs) / seconds)
        }
        let torch = noTorch ? Reference(skipped: "--no-torch") : try pyTorch(transformer, dataset: dataset, train: train, test: test, hook: hook, threads: threads)
        func speedup(_ kind: Probe.Kind) -> Double? {
            guard let theirs = (kind == .linear ? torch.linear : torch.mlp)?.seconds, let ours = results[kind.rawValue]?.seconds else { return nil }
            return theirs / ours
        }
        let report = Report(games: games, rows: train.rows, hook: hook.name, threads: threads, epochs: epochs, cacheSeconds: cacheSeconds,
                            probes: results, pytorch: torch, linearSpeedup: speedup(.linear), mlpSpeedup: speedup(.mlp),
                            cacheSpeedup: torch.cacheSeconds.map { $0 / cacheSeconds })
        if json { return try printJSON(report) }
        let d = transformer.config
        print("probes on \(hook.name) of a \(d.nLayers)-layer d_model \(d.dModel) model, \(games) games (\(train.rows) positions), \(epochs) epochs, \(threads) threads")
        print(String(format: "  caching the activations   workbench %7.2f s", cacheSeconds)
              + (torch.cacheSeconds.map { String(format: "   TransformerLens %7.2f s  → %.2f×", $0, $0 / cacheSeconds) } ?? ""))
        for kind in Probe.Kind.allCases {
            let ours = results[kind.rawValue]!
            var line = "  training, " + kind.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)
                + String(format: "workbench %7.2f s (%.2f%%)", ours.seconds, 100 * ours.accuracy)
            if let theirs = kind == .linear ? torch.linear : torch.mlp, let s = theirs.seconds, let a = theirs.accuracy {
                line += String(format: "   PyTorch %7.2f s (%.2f%%)  → %.2f×", s, 100 * a, s / ours.seconds)
            }
            print(line)
        }
        if let skipped = torch.skipped { print("  PyTorch reference skipped: \(skipped)") }
    }

    struct ProbeTiming: Codable {
        var seconds, accuracy, rowsPerSecond: Double
    }

    /// The PyTorch side: each kind's run of scripts/bench_probe_torch.py, TransformerLens' caching time.
    struct Reference: Codable {
        var skipped: String?
        var cacheSeconds: Double?
        var linear, mlp: PythonReference?
        init(skipped: String? = nil) { self.skipped = skipped }
    }

    /// `bench probe --json`.
    struct Report: Codable {
        var games, rows: Int
        var hook: String
        var threads, epochs: Int
        var cacheSeconds: Double
        var probes: [String: ProbeTiming]
        var pytorch: Reference
        var linearSpeedup, mlpSpeedup, cacheSpeedup: Double?
    }

    /// The reference: the same data through scripts/bench_probe_torch.py, or why it was skipped.
    private func pyTorch(_ transformer: HookedTransformer, dataset: GameDataset, train: ProbeData, test: ProbeData, hook: ProbeHook,
                         threads: Int) throws -> Reference {
        guard let script = referenceScript("bench_probe_torch.py") else {
            return Reference(skipped: "scripts/bench_probe_torch.py not found; run from the repository root")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("othello-gpt-bench-probe-\(getpid())")
        try createOutputFolder(folder)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, data) in [("train", train), ("test", test)] {
            let matrix = data.activations[hook]!
            let values = Array(UnsafeBufferPointer(start: matrix.pointer, count: matrix.rows * matrix.width))
            try NPYArray(shape: [matrix.rows, matrix.width], values: values).write(to: folder.appendingPathComponent("\(name)_x.npy"))
            try NPYArray(shape: [data.rows, 64], values: data.labels(.relative)).write(to: folder.appendingPathComponent("\(name)_y.npy"))
        }
        try dataset.write(to: folder.appendingPathComponent("games.npy"))
        let weights = folder.appendingPathComponent("model.safetensors")
        try transformer.save(to: weights)
        var out = Reference()
        for kind in Probe.Kind.allCases {
            var arguments = ["--folder", folder.path, "--kind", kind.rawValue, "--threads", String(threads), "--epochs", String(epochs)]
            if kind == .linear { arguments += ["--weights", weights.path, "--layer", String(layer)] }
            let result = runPythonJSON(script, arguments, needs: "torch (and transformer_lens)")
            if let skipped = result.skipped { return Reference(skipped: skipped) }
            if let cache = result.cacheSeconds { out.cacheSeconds = cache }
            if kind == .linear { out.linear = result } else { out.mlp = result }
        }
        return out
    }
}

/// The path of `scripts/NAME` of this package (found from the source tree, or the current folder), nil if absent.
func referenceScript(_ name: String) -> String? {
    let fromSource = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/\(name)").standardized
    let fromCurrent = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("scripts/\(name)")
    return [fromSource, fromCurrent].first { FileManager.default.fileExists(atPath: $0.path) }?.path
}

/// What a reference script (scripts/bench_*.py) prints as its last line, or why it did not run (`skipped`).
struct PythonReference: Codable {
    var skipped: String?
    var torch: String?
    var threads: Int?
    var blas: String?
    /// bench_transformer_lens.py: forward-pass rates and PyTorch's matmul rate on the model's shapes.
    var residPostTokensPerS, allHooksTokensPerS, matmulGflops: Double?
    /// bench_probe_torch.py and bench_sae_torch.py: training time, and the probe's accuracy or the SAE's final loss.
    var seconds, accuracy, loss: Double?
    /// bench_probe_torch.py with --weights: TransformerLens caching the same activations.
    var cacheSeconds: Double?

    init(skipped: String) { self.skipped = skipped }
}

/// Runs `python3 script arguments` and decodes the last line of its standard output; a `skipped` reference when
/// python3 or the script's imports are missing or it fails.
func runPythonJSON(_ script: String, _ arguments: [String], needs: String = "torch") -> PythonReference {
    let skipped = PythonReference(skipped: "python3 with \(needs) is not importable")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return skipped }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0, let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
          let reference = try? JSONOutput.decoder.decode(PythonReference.self, from: Data(line.utf8)) else { return skipped }
    return reference
}
