import Foundation
import OthelloModel
import OthelloRules
import OthelloSAEs
import WorkbenchSupport

/// `bench sae`: SAE training steps on a hook's activations (in memory), beside the same recipe in PyTorch from the
/// same initial weights on the same activations (scripts/bench_sae_torch.py).
public struct SAETrainingBenchmark {
    public var model: HookedTransformer
    public var hook = "blocks.5.hook_resid_post"
    /// The SAE's recipe (features, kind, k, l1, batch size, learning rate).
    public var settings = SAETrainingSettings()
    public var steps = 50
    /// Untimed training steps first: a ReLU SAE is dense at initialisation and sparse once trained.
    public var warmup = 300
    /// Games whose activations are cycled through.
    public var games = 300
    public var reference = true
    /// Chunks of the activation stream timed (256 fresh games each; 0: none).
    public var streamChunks = 2

    public init(model: HookedTransformer) { self.model = model }

    /// `bench sae --json`.
    public struct Report: Codable, Sendable {
        public var hook: String
        public var dIn, features: Int
        public var kind: String
        public var batch, steps, warmup, threads: Int
        public var seconds, positionsPerSecond, loss: Double
        public var pytorch: PythonReference
        public var speedup: Double?
        /// Positions per second the activation stream delivers (fresh games through the model to the hook, shuffled):
        /// the other half of `sae train`'s and `sae sweep`'s time.
        public var streamPositionsPerSecond: Double?
    }

    public func run() throws -> Report {
        guard steps >= 1, games >= 1 else { throw WorkbenchError("--steps and --games must be at least 1") }
        guard warmup >= 0 else { throw WorkbenchError("--warmup must be 0 or more") }
        var settings = self.settings
        settings.positions = settings.batchSize
        try settings.validate()
        let batch = settings.batchSize
        let point = try HookPoint(name: hook)
        let dataset = RandomGames.generate(count: games, seed: 1)
        let (data, positions) = try ActivationStream.activations(model: model, point: point, games: dataset, indices: Array(0..<games), batchSize: 64)
        var initial = SparseAutoencoder(dIn: data.count / positions.count, dSAE: settings.features, kind: try settings.kind(features: settings.features),
                                        hook: hook, seed: 1)
        try initial.check(fits: model.config, source: "--hook")
        if warmup > 0 { _ = SAEBenchmark.time(&initial, data: data, rows: positions.count, steps: warmup, batch: batch, learningRate: settings.learningRate) }
        var warm = initial
        _ = SAEBenchmark.time(&warm, data: data, rows: positions.count, steps: 1, batch: batch, learningRate: settings.learningRate)
        var sae = initial
        let ours = SAEBenchmark.time(&sae, data: data, rows: positions.count, steps: steps, batch: batch, learningRate: settings.learningRate)
        let torch = reference ? try pyTorch(initial: initial, data: data, rows: positions.count) : PythonReference(skipped: "--no-torch")
        var stream: Double?
        if streamChunks > 0 {
            let activations = try ActivationStream(model: model, hook: hook, seed: 1)
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: 4096 * activations.width)
            defer { buffer.deallocate() }
            let started = Date()
            var delivered = 0
            while activations.chunk < streamChunks { try activations.next(4096, into: buffer); delivered += 4096 }
            stream = Double(delivered) / Date().timeIntervalSince(started)
        }
        return Report(hook: hook, dIn: initial.dIn, features: settings.features, kind: settings.kind.rawValue, batch: batch, steps: steps, warmup: warmup,
                      threads: Matmul.threads, seconds: ours.seconds, positionsPerSecond: Double(steps * batch) / ours.seconds, loss: Double(ours.loss),
                      pytorch: torch, speedup: torch.seconds.map { $0 / ours.seconds }, streamPositionsPerSecond: stream)
    }

    func pyTorch(initial: SparseAutoencoder, data: [Float], rows: Int) throws -> PythonReference {
        guard let script = referenceScript("bench_sae_torch.py") else { return PythonReference(skipped: "scripts/bench_sae_torch.py not found; run from the repository root") }
        return try withReferenceFolder("sae") { folder in
            try NPYArray(shape: [rows, initial.dIn], values: data).write(to: folder.appendingPathComponent("activations.npy"))
            try NPYArray(shape: [initial.parameterCount], values: initial.parameters).write(to: folder.appendingPathComponent("parameters.npy"))
            try NPYArray(shape: [2], values: [Int32(initial.dIn), Int32(initial.dSAE)]).write(to: folder.appendingPathComponent("shape.npy"))
            let arguments = ["--folder", folder.path, "--kind", settings.kind.rawValue, "--k", String(settings.k), "--l1", String(settings.l1),
                             "--steps", String(steps), "--batch", String(settings.batchSize), "--lr", String(3e-4), "--threads", String(Matmul.threads)]
            return PythonReference.run(script, arguments)
        }
    }
}
