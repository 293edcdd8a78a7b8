import ArgumentParser
import Foundation
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

    struct Figure: Codable {
        var gamesPerSecond: Double
        var gflops: Double
        var secondsPerStep: Double
    }

    struct Report: Codable {
        var threads: Int
        var batchSize: Int
        var flopsPerStep: Double
        /// The OpenBLAS kernels in use (`openblas_get_corename`).
        var openBLASCore: String
        var workbench: Figure
        var sgemmAlone: Figure
        var pytorch: Figure?
        /// workbench games/s ÷ PyTorch games/s.
        var ratioToPyTorch: Double?
        var pytorchNote: String?
    }

    func run() throws {
        guard threads >= 1, steps >= 1, batch >= 1, gamesPerShard >= 1 else {
            throw WorkbenchError("bench train: --threads, --steps, --batch and --games-per-shard must be at least 1")
        }
        let config = try ModelConfig(nLayers: layers, dModel: dModel, nHeads: heads, dMLP: dMLP)
        var pytorch: Result<PyTorchSteps, WorkbenchError> = noTorch ? .failure(WorkbenchError("skipped (--no-torch)")) : startPyTorch()
        let bench = try TrainingBenchmark(config: config, batchSize: batch, threads: threads, gamesPerShard: gamesPerShard)
        var stepTimes: [Double] = [], gemmTimes: [Double] = [], torchTimes: [Double] = []
        for _ in 0..<steps {
            stepTimes.append(try bench.timeStep())
            gemmTimes.append(bench.timeMatrixProducts())
            if case .success(let torch) = pytorch {
                do { torchTimes.append(try torch.step()) } catch let error as WorkbenchError { pytorch = .failure(error) }
            }
        }
        if case .success(let torch) = pytorch { torch.stop() }
        func figure(_ times: [Double]) -> Figure {
            let seconds = times.sorted()[times.count / 2]
            return Figure(gamesPerSecond: Double(batch) / seconds, gflops: bench.flopsPerStep / seconds / 1e9, secondsPerStep: seconds)
        }
        var report = Report(threads: threads, batchSize: batch, flopsPerStep: bench.flopsPerStep, openBLASCore: Self.openBLASCore,
                            workbench: figure(stepTimes), sgemmAlone: figure(gemmTimes))
        switch pytorch {
        case .success where torchTimes.count == steps:
            let torch = figure(torchTimes)
            report.pytorch = torch
            report.ratioToPyTorch = report.workbench.gamesPerSecond / torch.gamesPerSecond
        case .failure(let error):
            report.pytorchNote = error.description
        default:
            report.pytorchNote = "PyTorch stopped answering"
        }
        try printReport(report, shape: config)
    }

    func printReport(_ report: Report, shape config: ModelConfig) throws {
        if json {
            print(try JSONOutput.string(report))
            return
        }
        print("training \(config.shapeDescription), batch \(batch), \(threads) thread\(threads == 1 ? "" : "s"); OpenBLAS kernels: \(report.openBLASCore); medians of \(steps) alternating rounds")
        func line(_ name: String, _ figure: Figure, _ note: String) {
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

    /// The kernels OpenBLAS chose (`openblas_get_corename`).
    static var openBLASCore: String {
        typealias CoreName = @convention(c) () -> UnsafePointer<CChar>?
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "openblas_get_corename"),
              let name = unsafeBitCast(symbol, to: CoreName.self)() else { return "unknown" }
        return String(cString: name)
    }

    /// The PyTorch reference running beside this process, one step per request.
    final class PyTorchSteps {
        let process: Process
        let input: FileHandle
        let output: FileHandle
        private var buffer = Data()

        init(process: Process, input: FileHandle, output: FileHandle) {
            self.process = process
            self.input = input
            self.output = output
        }

        /// The next line the script prints, nil at its end.
        func readLine() -> String? {
            while true {
                if let newline = buffer.firstIndex(of: 0x0A) {
                    let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...newline)
                    return line
                }
                let chunk = output.availableData
                if chunk.isEmpty { return nil }
                buffer.append(chunk)
            }
        }

        /// Seconds of one PyTorch training step.
        func step() throws -> Double {
            try input.write(contentsOf: Data("step\n".utf8))
            guard let line = readLine(), let seconds = Double(line) else {
                throw WorkbenchError("the PyTorch reference stopped answering")
            }
            return seconds
        }

        func stop() {
            try? input.close()
            process.waitUntilExit()
        }
    }

    /// Starts scripts/bench_train_torch.py with the same shape and threads and waits for its warm-up.
    func startPyTorch() -> Result<PyTorchSteps, WorkbenchError> {
        let script = torchScript ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/bench_train_torch.py").path
        guard FileManager.default.fileExists(atPath: script) else {
            return .failure(WorkbenchError("\(script) not found; pass --torch-script"))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--layers", "\(layers)", "--d-model", "\(dModel)", "--heads", "\(heads)",
                             "--d-mlp", "\(dMLP)", "--batch", "\(batch)", "--threads", "\(threads)"]
        let input = Pipe(), output = Pipe()
        signal(SIGPIPE, SIG_IGN)   // a script that dies makes writes fail with an error instead of killing this process
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return .failure(WorkbenchError("cannot run python3 (\(error.localizedDescription))")) }
        let torch = PyTorchSteps(process: process, input: input.fileHandleForWriting, output: output.fileHandleForReading)
        while let line = torch.readLine() {
            if line == "ready" { return .success(torch) }
        }
        process.waitUntilExit()
        return .failure(WorkbenchError("python3 \(script) exited without training (is torch with transformer-lens 3.9 installed?)"))
    }
}
