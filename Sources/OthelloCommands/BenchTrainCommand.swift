import ArgumentParser
import Foundation
import OthelloModel
import OthelloTraining
import WorkbenchSupport

/// `othello-gpt bench train`: training throughput of the shipped configuration, beside the sgemm rate
/// on the same shapes and the same training loop in PyTorch, measured in the same run.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training games/s and GFLOP/s against sgemm on the same shapes and against PyTorch.",
        discussion: """
        Times full training steps (forward, backward, clipping, AdamW) of the shipped configuration
        (8 layers, d_model 128, 4 heads, d_mlp 512, batch 128) on random games, and, in the same run:
        every sgemm call of one step replayed alone (the ceiling: the same FLOPs with nothing else), and
        the same training step in PyTorch/TransformerLens (scripts/bench_train_torch.py) with the same
        number of threads, when python3 can import torch. Figures are medians over --steps steps.
        Build in release first:
          swift build -c release && .build/release/othello-gpt bench train
        """
    )

    @Option(help: "Threads (default: all cores).") var threads: Int = Parallel.coreCount
    @Option(help: "Timed steps (after one warm-up step).") var steps: Int = 6
    @Option(help: "Transformer blocks.") var layers: Int = 8
    @Option(name: .customLong("d-model"), help: "Residual stream width.") var dModel: Int = 128
    @Option(help: "Attention heads.") var heads: Int = 4
    @Option(name: .customLong("d-mlp"), help: "MLP hidden width.") var dMLP: Int = 512
    @Option(help: "Games per step.") var batch: Int = 128
    @Option(name: .customLong("games-per-shard"), help: "Games per shard of the batch (the trainer's unit of parallel work).") var gamesPerShard: Int = 16
    @Option(help: "The PyTorch reference script (default: scripts/bench_train_torch.py of this package).") var torchScript: String?
    @Flag(help: "Print the figures as JSON.") var json = false

    struct Report: Codable {
        var workbench: TrainingBenchmark.Result
        /// The OpenBLAS kernels in use (`openblas_get_corename`).
        var openBLASCore: String
        var pytorchGamesPerSecond: Double?
        var pytorchGFLOPs: Double?
        /// workbench games/s ÷ PyTorch games/s.
        var ratio: Double?
        var pytorchNote: String?
    }

    func run() throws {
        Matmul.selectCPUKernels()
        guard threads >= 1, steps >= 1, batch >= 1 else { throw WorkbenchError("bench train: --threads, --steps and --batch must be at least 1") }
        let config = try ModelConfig(nLayers: layers, dModel: dModel, nHeads: heads, dMLP: dMLP)
        let result = try TrainingBenchmark.measure(config: config, batchSize: batch, threads: threads, steps: steps, gamesPerShard: gamesPerShard)
        var report = Report(workbench: result, openBLASCore: Self.openBLASCore)
        switch pytorchGamesPerSecond() {
        case .success(let rate):
            report.pytorchGamesPerSecond = rate
            report.pytorchGFLOPs = rate / Double(batch) * result.flopsPerStep / 1e9
            report.ratio = result.gamesPerSecond / rate
        case .failure(let error):
            report.pytorchNote = error.description
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print("training \(layers) layers, d_model \(dModel), \(heads) heads, d_mlp \(dMLP), batch \(batch), \(threads) thread\(threads == 1 ? "" : "s"); OpenBLAS kernels: \(report.openBLASCore)")
        print(String(format: "  workbench   %7.1f games/s  %6.1f GFLOP/s  (%.3f s/step)", result.gamesPerSecond, result.achievedGFLOPs, result.secondsPerStep))
        print(String(format: "  sgemm alone %7.1f games/s  %6.1f GFLOP/s  (the step's matrix products, same shapes and split)",
                     result.sgemmGFLOPs * 1e9 / result.flopsPerStep * Double(batch), result.sgemmGFLOPs))
        if let rate = report.pytorchGamesPerSecond, let flops = report.pytorchGFLOPs, let ratio = report.ratio {
            print(String(format: "  PyTorch     %7.1f games/s  %6.1f GFLOP/s  → workbench %.2f× PyTorch", rate, flops, ratio))
        } else if let note = report.pytorchNote {
            print("  PyTorch     not measured: \(note)")
        }
        if report.openBLASCore == "Prescott" {
            print("  note: OpenBLAS runs its generic Prescott (SSE3) kernels; if this CPU has AVX2 or AVX-512, OPENBLAS_CORETYPE=Haswell or SkylakeX is several times faster")
        }
    }

    /// The kernels OpenBLAS chose (`openblas_get_corename`).
    static var openBLASCore: String {
        typealias CoreName = @convention(c) () -> UnsafePointer<CChar>?
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "openblas_get_corename"),
              let name = unsafeBitCast(symbol, to: CoreName.self)() else { return "unknown" }
        return String(cString: name)
    }

    /// Runs the PyTorch script with the same shape and threads; its games/s, or why not.
    func pytorchGamesPerSecond() -> Result<Double, WorkbenchError> {
        let script = torchScript ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/bench_train_torch.py").path
        guard FileManager.default.fileExists(atPath: script) else {
            return .failure(WorkbenchError("\(script) not found; pass --torch-script"))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--layers", "\(layers)", "--d-model", "\(dModel)", "--heads", "\(heads)",
                             "--d-mlp", "\(dMLP)", "--batch", "\(batch)", "--threads", "\(threads)", "--steps", "\(steps)"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return .failure(WorkbenchError("cannot run python3 (\(error.localizedDescription))")) }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            return .failure(WorkbenchError("python3 \(script) failed (is torch with transformer-lens installed?)"))
        }
        guard let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let rate = object["games_per_second"] as? Double else {
            return .failure(WorkbenchError("python3 \(script) printed no games_per_second"))
        }
        return .success(rate)
    }
}
