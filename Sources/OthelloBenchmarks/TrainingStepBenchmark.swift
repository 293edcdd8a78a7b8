import Foundation
import OthelloModel
import OthelloTraining
import WorkbenchSupport

/// `bench train`: full training steps (forward, backward, clipping, AdamW) of a configuration on random games,
/// alternating step by step with every sgemm call of one step replayed alone (the ceiling) and the same training
/// step in PyTorch/TransformerLens (scripts/bench_train_torch.py); figures are medians over the rounds.
public struct TrainingStepBenchmark {
    public var config: ModelConfig
    public var batch = 128
    public var threads: Int
    public var gamesPerShard = 16
    /// Timed rounds (after one warm-up step each).
    public var steps = 8
    /// The PyTorch script (default scripts/bench_train_torch.py of this package); nil with `reference` false.
    public var torchScript: String?
    public var reference = true

    public init(config: ModelConfig, threads: Int) {
        self.config = config
        self.threads = threads
    }

    public struct Figure: Codable, Sendable {
        public var gamesPerSecond: Double
        public var gflops: Double
        public var secondsPerStep: Double
    }

    /// `bench train --json`.
    public struct Report: Codable, Sendable {
        public var threads: Int
        public var batchSize: Int
        public var flopsPerStep: Double
        /// The OpenBLAS kernels in use (`openblas_get_corename`).
        public var openBLASCore: String
        public var workbench: Figure
        public var sgemmAlone: Figure
        public var pytorch: Figure?
        /// workbench games/s ÷ PyTorch games/s.
        public var ratioToPyTorch: Double?
        public var pytorchNote: String?
    }

    public func run() throws -> Report {
        guard threads >= 1, steps >= 1, batch >= 1, gamesPerShard >= 1 else {
            throw WorkbenchError("bench train: --threads, --steps, --batch and --games-per-shard must be at least 1")
        }
        var pytorch: Result<PythonStepper, WorkbenchError> = reference ? startPyTorch() : .failure(WorkbenchError("skipped (--no-torch)"))
        let bench = try TrainingBenchmark(config: config, batchSize: batch, threads: threads, gamesPerShard: gamesPerShard)
        var stepTimes: [Double] = [], gemmTimes: [Double] = [], torchTimes: [Double] = []
        for _ in 0..<steps {
            stepTimes.append(try bench.timeStep())
            gemmTimes.append(bench.timeMatrixProducts())
            if case .success(let torch) = pytorch {
                do { torchTimes.append(try torch.ask("step")) } catch let error as WorkbenchError { pytorch = .failure(error) }
            }
        }
        if case .success(let torch) = pytorch { torch.stop() }
        func figure(_ times: [Double]) -> Figure {
            let seconds = times.sorted()[times.count / 2]
            return Figure(gamesPerSecond: Double(batch) / seconds, gflops: bench.flopsPerStep / seconds / 1e9, secondsPerStep: seconds)
        }
        var report = Report(threads: threads, batchSize: batch, flopsPerStep: bench.flopsPerStep, openBLASCore: Matmul.coreName,
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
        return report
    }

    /// Starts the PyTorch script with the same shape and threads and waits for its warm-up.
    func startPyTorch() -> Result<PythonStepper, WorkbenchError> {
        guard let script = torchScript ?? referenceScript("bench_train_torch.py") else {
            return .failure(WorkbenchError("scripts/bench_train_torch.py not found; pass --torch-script"))
        }
        let arguments = ["--layers", "\(config.nLayers)", "--d-model", "\(config.dModel)", "--heads", "\(config.nHeads)",
                         "--d-mlp", "\(config.dMLP)", "--batch", "\(batch)", "--threads", "\(threads)"]
        do { return .success(try PythonStepper(script: script, arguments: arguments)) } catch let error as WorkbenchError {
            return .failure(error)
        } catch { return .failure(WorkbenchError("\(error)")) }
    }
}
