import Foundation
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport

/// `bench probe`: caching one layer's activations and training a linear and an MLP probe on them, beside PyTorch
/// training the same probes on the same activations and labels (scripts/bench_probe_torch.py) and TransformerLens
/// caching the same layer.
public struct ProbeBenchmark {
    public var model: HookedTransformer
    /// Training games (a fifth as many more are held out).
    public var games = 10_000
    public var layer = 4
    public var seed: UInt64 = 1
    public var epochs = 4
    public var reference = true

    public init(model: HookedTransformer) { self.model = model }

    public struct ProbeTiming: Codable, Sendable {
        public var seconds, accuracy, rowsPerSecond: Double
    }

    /// The PyTorch side: each kind's run of scripts/bench_probe_torch.py, TransformerLens' caching time.
    public struct Reference: Codable, Sendable {
        public var skipped: String?
        public var cacheSeconds: Double?
        public var linear, mlp: PythonReference?
        init(skipped: String? = nil) { self.skipped = skipped }

        public subscript(kind: Probe.Kind) -> PythonReference? { kind == .linear ? linear : mlp }
    }

    /// `bench probe --json`.
    public struct Report: Codable, Sendable {
        public var games, rows: Int
        public var hook: String
        public var threads, epochs: Int
        public var cacheSeconds: Double
        public var probes: [String: ProbeTiming]
        public var pytorch: Reference
        public var linearSpeedup, mlpSpeedup, cacheSpeedup: Double?
    }

    public func run() throws -> Report {
        guard games >= 5 else { throw WorkbenchError("--games must be at least 5") }
        let threads = Matmul.threads
        let hook = try ProbeHook(layer: layer, config: model.config)
        let testGames = max(1, games / 5)
        let dataset = RandomGames.generate(count: games + testGames, seed: seed, fullLength: true)
        var settings = ProbeTrainingSettings()
        settings.epochs = epochs

        var clock = Date()
        let cacheBar = ProgressBar(total: games, label: "cache")
        let train = try ProbeData.collect(model: model, games: dataset, indices: Array(0..<games), hooks: [hook], batchSize: 128, progress: cacheBar)
        let cacheSeconds = Date().timeIntervalSince(clock)
        cacheBar.finish()
        let test = try ProbeData.collect(model: model, games: dataset, indices: Array(games..<(games + testGames)), hooks: [hook], batchSize: 128)
        var results: [String: ProbeTiming] = [:]
        for kind in Probe.Kind.allCases {
            clock = Date()
            let bar = ProgressBar(total: ProbeTrainer.steps(rows: train.rows, settings: settings), label: "train \(kind.rawValue)")
            let probe = try ProbeTrainer.train(kind: kind, basis: .relative, hook: hook, on: train, settings: settings, progress: bar)
            bar.finish()
            let seconds = Date().timeIntervalSince(clock)
            let accuracy = try ProbeEvaluator.evaluate(probe, on: test, hook: hook, positions: model.config.nCtx).headline.accuracy
            results[kind.rawValue] = ProbeTiming(seconds: seconds, accuracy: accuracy, rowsPerSecond: Double(train.rows * epochs) / seconds)
        }
        let torch = reference ? try pyTorch(dataset: dataset, train: train, test: test, hook: hook, threads: threads) : Reference(skipped: "--no-torch")
        func speedup(_ kind: Probe.Kind) -> Double? {
            guard let theirs = torch[kind]?.seconds, let ours = results[kind.rawValue]?.seconds else { return nil }
            return theirs / ours
        }
        return Report(games: games, rows: train.rows, hook: hook.name, threads: threads, epochs: epochs, cacheSeconds: cacheSeconds,
                      probes: results, pytorch: torch, linearSpeedup: speedup(.linear), mlpSpeedup: speedup(.mlp),
                      cacheSpeedup: torch.cacheSeconds.map { $0 / cacheSeconds })
    }

    /// The reference: the same data through scripts/bench_probe_torch.py, or why it was skipped.
    func pyTorch(dataset: GameDataset, train: ProbeData, test: ProbeData, hook: ProbeHook, threads: Int) throws -> Reference {
        guard let script = referenceScript("bench_probe_torch.py") else {
            return Reference(skipped: "scripts/bench_probe_torch.py not found; run from the repository root")
        }
        return try withReferenceFolder("probe") { folder in
            for (name, data) in [("train", train), ("test", test)] {
                let matrix = data.activations[hook]!
                let values = Array(UnsafeBufferPointer(start: matrix.pointer, count: matrix.rows * matrix.width))
                try NPYArray(shape: [matrix.rows, matrix.width], values: values).write(to: folder.appendingPathComponent("\(name)_x.npy"))
                try NPYArray(shape: [data.rows, 64], values: data.labels(.relative)).write(to: folder.appendingPathComponent("\(name)_y.npy"))
            }
            try dataset.write(to: folder.appendingPathComponent("games.npy"))
            let weights = folder.appendingPathComponent("model.safetensors")
            try model.save(to: weights)
            var out = Reference()
            for kind in Probe.Kind.allCases {
                var arguments = ["--folder", folder.path, "--kind", kind.rawValue, "--threads", String(threads), "--epochs", String(epochs)]
                if kind == .linear { arguments += ["--weights", weights.path, "--layer", String(layer)] }
                let result = PythonReference.run(script, arguments, needs: "torch (and transformer_lens)")
                if let skipped = result.skipped { return Reference(skipped: skipped) }
                if let cache = result.cacheSeconds { out.cacheSeconds = cache }
                if kind == .linear { out.linear = result } else { out.mlp = result }
            }
            return out
        }
    }
}
