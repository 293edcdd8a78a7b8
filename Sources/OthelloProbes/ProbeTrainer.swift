import Foundation
import OthelloModel
import OthelloTraining
import WorkbenchSupport

/// How a probe is trained: minibatch AdamW on the mean cross-entropy over rows and squares.
/// The defaults are the recipe of the calibration figures (4 epochs, lr 1e-3, batch 512, PyTorch's AdamW
/// defaults β 0.9/0.999 and weight decay 0.01 — here on the weight matrices only, not the biases).
public struct ProbeTrainingSettings: Codable, Equatable, Sendable {
    public var epochs = 4
    public var learningRate: Float = 1e-3
    public var weightDecay: Float = 0.01
    public var batchSize = 512
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    /// Hidden width of an MLP probe (Li et al.: 128).
    public var hidden = 128
    /// Seeds the MLP's initial weights and the order of the rows in each epoch.
    public var seed: UInt64 = 1
    /// Shuffle the rows every epoch (off: the rows in order, for comparisons with a reference).
    public var shuffle = true

    public init() {}

    /// Throws a one-line error naming the first bad setting.
    public func validate() throws {
        guard epochs >= 1 else { throw WorkbenchError("--epochs must be at least 1, got \(epochs)") }
        guard learningRate > 0, learningRate.isFinite else { throw WorkbenchError("--lr must be positive, got \(learningRate)") }
        guard batchSize >= 1 else { throw WorkbenchError("--batch must be at least 1, got \(batchSize)") }
        guard hidden >= 1 else { throw WorkbenchError("--hidden must be at least 1, got \(hidden)") }
        try adam.validate()
    }

    var adam: AdamW.Settings { AdamW.Settings(beta1: beta1, beta2: beta2, eps: 1e-8, weightDecay: weightDecay) }

    /// The settings as one line of JSON (kept in probe files).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}

/// Trains probes on cached activations.
///
///     let probe = try ProbeTrainer.train(kind: .linear, basis: .relative, hook: hook, modes: [.all],
///                                        on: trainData, settings: ProbeTrainingSettings())
public enum ProbeTrainer {
    /// A probe of `kind` for `basis` trained on `data`'s activations at `hook`, one per mode, each on its own rows.
    public static func train(kind: Probe.Kind, basis: ProbeBasis, hook: ProbeHook, modes: [ProbeMode] = [.all],
                             on data: ProbeData, settings: ProbeTrainingSettings = ProbeTrainingSettings(),
                             threads: Int = Parallel.coreCount, progress: ProgressBar? = nil) throws -> Probe {
        try settings.validate()
        guard let inputs = data.activations[hook] else { throw WorkbenchError("probe training: no activations cached at \(hook.name)") }
        var probe = Probe(kind: kind, basis: basis, hook: hook.name, modes: modes, inputWidth: inputs.width, hidden: settings.hidden)
        probe.metadata["training"] = settings.json
        initialize(&probe, seed: settings.seed)
        let labels = data.labels(basis)
        for (mode, which) in modes.enumerated() {
            let rows = data.rows(in: which)
            guard !rows.isEmpty else { throw WorkbenchError("probe training: no positions in mode \(which.rawValue)") }
            try fit(&probe, mode: mode, inputs: inputs, rows: rows, labels: labels, settings: settings, threads: threads, progress: progress)
        }
        return probe
    }

    /// Steps in a training run of `rows` rows (for progress bars).
    public static func steps(rows: Int, settings: ProbeTrainingSettings) -> Int {
        settings.epochs * ((rows + settings.batchSize - 1) / settings.batchSize)
    }

    /// The initial weights: zeros for a linear probe (its loss is convex); for an MLP probe PyTorch's
    /// `nn.Linear` default, uniform in ±1/√fan_in for weights and biases, seeded per mode.
    public static func initialize(_ probe: inout Probe, seed: UInt64) {
        let layout = probe.layout
        for mode in probe.modes.indices {
            probe.parameters[mode] = [Float](repeating: 0, count: layout.count)
            guard probe.kind == .mlp else { continue }
            var random = SeededRandom(seed: seed, stream: UInt64(mode))
            for (name, offset, count, _) in layout.tensors {
                let fanIn = name.hasSuffix("hidden") ? probe.inputWidth : probe.hidden
                let bound = 1 / Float(fanIn).squareRoot()
                for i in offset..<(offset + count) { probe.parameters[mode][i] = bound * (2 * random.nextUnitFloat() - 1) }
            }
        }
    }

    /// Rows per shard: a step's batch is cut into shards of this many rows, each run forward and backward on one
    /// thread with single-threaded OpenBLAS (these products are too small to split well), their gradients summed
    /// in shard order — so a probe comes out the same on any number of threads.
    public static let rowsPerShard = 256

    /// Trains mode `mode` of `probe` from its current weights on `rows` of `inputs`, with `labels`
    /// (`inputs.rows × 64`, indexed by row), on up to `threads` threads. Returns the mean loss of every step.
    @discardableResult
    public static func fit(_ probe: inout Probe, mode: Int, inputs: ActivationMatrix, rows: [Int], labels: [UInt8],
                           settings: ProbeTrainingSettings, threads: Int = Parallel.coreCount,
                           progress: ProgressBar? = nil) throws -> [Double] {
        try settings.validate()
        guard inputs.width == probe.inputWidth else {
            throw WorkbenchError("probe training: activations are \(inputs.width) wide, the probe reads \(probe.inputWidth)")
        }
        guard !rows.isEmpty else { return [] }
        let layout = probe.layout, kind = probe.kind
        let (d, h, o, c) = (probe.inputWidth, probe.hidden, probe.outputs, probe.classes)
        let batch = min(settings.batchSize, rows.count)
        let shardRows = min(rowsPerShard, batch)
        let maxShards = (batch + shardRows - 1) / shardRows
        var optimizer = AdamW(parameterCount: layout.count,
                              decayed: layout.tensors.filter(\.isMatrix).map { $0.offset..<($0.offset + $0.count) },
                              settings: settings.adam)
        // Every buffer once, outside the loop: per shard its rows, labels, logits, hidden values and gradients.
        let workspaces = (0..<maxShards).map { _ in ShardWorkspace(rows: shardRows, inputWidth: d, hidden: h, outputs: o, parameters: layout.count) }
        let gradients = UnsafeMutablePointer<Float>.allocate(capacity: layout.count)
        defer { gradients.deallocate() }
        var order = rows
        var losses: [Double] = []
        try labels.withUnsafeBufferPointer { labelBuffer in
            let labels = SharedPointer(labelBuffer.baseAddress!)
            try probe.parameters[mode].withUnsafeMutableBufferPointer { parameterBuffer in
                let p = SharedPointer(parameterBuffer.baseAddress!)
                try withSingleThreadedBLAS {
                    for epoch in 0..<settings.epochs {
                        if settings.shuffle {
                            var random = SeededRandom(seed: settings.seed, stream: 1000 + UInt64(mode) * 1000 + UInt64(epoch))
                            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, random.next(below: i + 1)) }
                        }
                        let epochOrder = order
                        for start in stride(from: 0, to: epochOrder.count, by: batch) {
                            let n = min(batch, epochOrder.count - start)
                            let shards = (n + shardRows - 1) / shardRows
                            Parallel.forEach(chunks: shards, threads: threads) { shard in
                                let w = workspaces[shard]
                                let first = start + shard * shardRows, count = min(shardRows, start + n - first)
                                for i in 0..<count {
                                    let row = epochOrder[first + i]
                                    (w.x + i * d).update(from: inputs.row(row), count: d)
                                    (w.y + i * 64).update(from: labels.base + row * 64, count: 64)
                                }
                                ProbeMath.forward(kind: kind, parameters: p.base, layout: layout, inputs: w.x, rows: count, inputWidth: d,
                                                  hidden: h, outputs: o, logits: w.z, hiddenOut: w.hidden)
                                w.loss = ProbeMath.crossEntropyBackward(logits: w.z, labels: w.y, rows: count, classes: c, batchRows: n)
                                backward(kind: kind, parameters: p.base, layout: layout, inputs: w.x, hiddenValues: w.hidden,
                                         hiddenGradient: w.hiddenGradient, outputGradient: w.z, rows: count, inputWidth: d, hidden: h,
                                         outputs: o, gradients: w.gradients)
                            }
                            gradients.update(from: workspaces[0].gradients, count: layout.count)
                            var loss = workspaces[0].loss
                            for shard in 1..<max(1, shards) {
                                let g = workspaces[shard].gradients
                                for i in 0..<layout.count { gradients[i] += g[i] }
                                loss += workspaces[shard].loss
                            }
                            loss /= Double(n * 64)
                            guard loss.isFinite else {
                                throw WorkbenchError("probe training diverged (loss \(loss)) at epoch \(epoch + 1); lower --lr")
                            }
                            losses.append(loss)
                            optimizer.step(parameters: p.base, gradients: gradients, learningRate: settings.learningRate)
                            progress?.advance(by: 1)
                        }
                    }
                }
            }
        }
        return losses
    }

    /// One shard's buffers.
    final class ShardWorkspace: @unchecked Sendable {
        let x, z, hidden, hiddenGradient, gradients: UnsafeMutablePointer<Float>
        let y: UnsafeMutablePointer<UInt8>
        var loss = 0.0

        init(rows: Int, inputWidth: Int, hidden h: Int, outputs: Int, parameters: Int) {
            x = .allocate(capacity: rows * inputWidth)
            y = .allocate(capacity: rows * 64)
            z = .allocate(capacity: rows * outputs)
            hidden = .allocate(capacity: rows * max(h, 1))
            hiddenGradient = .allocate(capacity: rows * max(h, 1))
            gradients = .allocate(capacity: parameters)
        }

        deinit {
            x.deallocate(); y.deallocate(); z.deallocate(); hidden.deallocate(); hiddenGradient.deallocate(); gradients.deallocate()
        }
    }

    /// Gradients of every weight from the gradient of the logits `dz` (`rows × outputs`); an MLP probe needs its
    /// hidden (ReLU) values and room for their gradient, `rows × hidden` each.
    static func backward(kind: Probe.Kind, parameters p: UnsafePointer<Float>, layout: Probe.Layout, inputs x: UnsafePointer<Float>,
                         hiddenValues: UnsafePointer<Float>, hiddenGradient dh: UnsafeMutablePointer<Float>, outputGradient dz: UnsafePointer<Float>, rows n: Int,
                         inputWidth d: Int, hidden h: Int, outputs o: Int, gradients g: UnsafeMutablePointer<Float>) {
        /// dW = inputᵀ · dOut, db = column sums of dOut.
        func weightGradients(input: UnsafePointer<Float>, inDim: Int, dOut: UnsafePointer<Float>, outDim: Int, weight: String, bias: String) {
            Matmul.gemm(m: inDim, n: outDim, k: n, a: input, lda: inDim, transposeA: true, b: dOut, ldb: outDim,
                        c: g + layout.offset(weight), ldc: outDim)
            let db = g + layout.offset(bias)
            db.update(repeating: 0, count: outDim)
            for r in 0..<n {
                let row = dOut + r * outDim
                for j in 0..<outDim { db[j] += row[j] }
            }
        }
        switch kind {
        case .linear:
            weightGradients(input: x, inDim: d, dOut: dz, outDim: o, weight: "W", bias: "b")
        case .mlp:
            weightGradients(input: hiddenValues, inDim: h, dOut: dz, outDim: o, weight: "W_out", bias: "b_out")
            // dHidden = dz · W_outᵀ, through the ReLU (zero where the hidden value was not positive).
            Matmul.gemm(m: n, n: h, k: o, a: dz, lda: o, b: p + layout.offset("W_out"), ldb: o, transposeB: true, c: dh, ldc: h)
            for i in 0..<(n * h) where hiddenValues[i] <= 0 { dh[i] = 0 }
            weightGradients(input: x, inDim: d, dOut: dh, outDim: h, weight: "W_hidden", bias: "b_hidden")
        }
    }
}
