import Foundation
import OthelloModel
import WorkbenchSupport

/// A trained probe: per square a classifier of the activation at one hook into the classes of a basis, for
/// one or more modes (see `ProbeMode`).
///
/// - `linear`: `logits = x · W + b`, `W` `[d_in, 64 · classes]` (Li et al.'s and Nanda's linear probe; Nanda's has no bias).
/// - `mlp`: Li et al.'s two-layer probe, `logits = ReLU(x · W_hidden + b_hidden) · W_out + b_out`.
///
/// Logits are laid out square-major: square `s`, class `c` at `s · classes + c` (the layout of Nanda's
/// `[d_model, 8, 8, options]` tensor and of Li et al.'s `proj` output).
///
///     let probe = try ProbeFile.load(from: URL(fileURLWithPath: "probe.safetensors"))
///     let predictions = probe.predict(mode: 0, inputs: x, rows: n)    // n × 64 class indices
public struct Probe {
    public enum Kind: String, Codable, CaseIterable, Sendable {
        case linear, mlp

        public init(name: String) throws {
            guard let kind = Kind(rawValue: name.lowercased()) else {
                throw WorkbenchError("unknown probe kind \"\(name)\"; choose linear or mlp")
            }
            self = kind
        }
    }

    public var kind: Kind
    public var basis: ProbeBasis
    /// The hook it reads (`ProbeHook.name`).
    public var hook: String
    public var modes: [ProbeMode]
    /// The activation width it reads.
    public var inputWidth: Int
    /// The hidden width of an MLP probe (0 for linear).
    public var hidden: Int
    /// Per mode, every weight in one flat buffer laid out by `layout`.
    public var parameters: [[Float]]
    /// Free-form facts kept in the file: the training settings, the model it was trained on, its accuracy.
    public var metadata: [String: String]

    public var classes: Int { basis.classCount }
    public var outputs: Int { 64 * classes }

    /// Offsets of the tensors in each mode's parameter buffer.
    public struct Layout: Equatable {
        /// linear: W, b; mlp: W_hidden, b_hidden, W_out, b_out — (name, offset, count, is a weight matrix).
        public let tensors: [(name: String, offset: Int, count: Int, isMatrix: Bool)]
        public var count: Int { tensors.last.map { $0.offset + $0.count } ?? 0 }
        public func offset(_ name: String) -> Int { tensors.first { $0.name == name }!.offset }

        public static func == (a: Layout, b: Layout) -> Bool { a.tensors.map(\.name) == b.tensors.map(\.name) && a.count == b.count }
    }

    public var layout: Layout { Self.layout(kind: kind, inputWidth: inputWidth, hidden: hidden, outputs: outputs) }

    static func layout(kind: Kind, inputWidth d: Int, hidden h: Int, outputs o: Int) -> Layout {
        let shapes: [(String, Int, Bool)] = kind == .linear
            ? [("W", d * o, true), ("b", o, false)]
            : [("W_hidden", d * h, true), ("b_hidden", h, false), ("W_out", h * o, true), ("b_out", o, false)]
        var offset = 0
        var tensors: [(name: String, offset: Int, count: Int, isMatrix: Bool)] = []
        for (name, count, isMatrix) in shapes {
            tensors.append((name, offset, count, isMatrix))
            offset += count
        }
        return Layout(tensors: tensors)
    }

    /// A probe with zero weights.
    public init(kind: Kind, basis: ProbeBasis, hook: String, modes: [ProbeMode], inputWidth: Int, hidden: Int = 128,
                metadata: [String: String] = [:]) {
        self.kind = kind
        self.basis = basis
        self.hook = hook
        self.modes = modes
        self.inputWidth = inputWidth
        self.hidden = kind == .mlp ? hidden : 0
        self.metadata = metadata
        let count = Self.layout(kind: kind, inputWidth: inputWidth, hidden: self.hidden, outputs: 64 * basis.classCount).count
        parameters = Array(repeating: [Float](repeating: 0, count: count), count: modes.count)
    }

    /// Throws a one-line error unless the probe reads activations of `width` at `hook` (`source` names the probe file).
    public func check(fits hook: ProbeHook, config: ModelConfig, source: String) throws {
        let width = hook.width(config: config)
        guard width == inputWidth else {
            throw WorkbenchError("\(source): the probe reads \(inputWidth)-wide activations (\(kind.rawValue) [\(inputWidth), 64 × \(classes)]), but \(hook.name) of this model is \(width) wide (d_model \(config.dModel)); train a probe on this model or pass the model the probe was made for")
        }
    }

    /// Logits of `rows` activations (`inputs`, `rows × inputWidth`) under mode `mode` into `logits`
    /// (`rows × outputs`); `hiddenScratch` must hold `rows × hidden` floats for an MLP probe.
    public func logits(mode: Int, inputs: UnsafePointer<Float>, rows: Int, into logits: UnsafeMutablePointer<Float>,
                       hiddenScratch: UnsafeMutablePointer<Float>? = nil) {
        parameters[mode].withUnsafeBufferPointer { p in
            ProbeMath.forward(kind: kind, parameters: p.baseAddress!, layout: layout, inputs: inputs, rows: rows,
                              inputWidth: inputWidth, hidden: hidden, outputs: outputs, logits: logits, hiddenOut: hiddenScratch)
        }
    }

    /// The predicted class of every square for `rows` activations: `rows × 64` class indices.
    public func predict(mode: Int, inputs: UnsafePointer<Float>, rows: Int) -> [UInt8] {
        var predictions = [UInt8](repeating: 0, count: rows * 64)
        let chunk = 2048
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: chunk * outputs)
        let hiddenBuffer = UnsafeMutablePointer<Float>.allocate(capacity: chunk * max(1, hidden))
        defer { logits.deallocate(); hiddenBuffer.deallocate() }
        predictions.withUnsafeMutableBufferPointer { out in
            for start in stride(from: 0, to: rows, by: chunk) {
                let n = min(chunk, rows - start)
                self.logits(mode: mode, inputs: inputs + start * inputWidth, rows: n, into: logits, hiddenScratch: hiddenBuffer)
                ProbeMath.argmax(logits: logits, rows: n, classes: classes, into: out.baseAddress! + start * 64)
            }
        }
        return predictions
    }

    /// Each square's class probabilities (softmax of its logits) for `rows` activations: `rows × 64 × classes`.
    public func probabilities(mode: Int, inputs: UnsafePointer<Float>, rows: Int) -> [Float] {
        var out = [Float](repeating: 0, count: rows * outputs)
        let hiddenBuffer = UnsafeMutablePointer<Float>.allocate(capacity: rows * max(1, hidden))
        defer { hiddenBuffer.deallocate() }
        out.withUnsafeMutableBufferPointer { o in
            logits(mode: mode, inputs: inputs, rows: rows, into: o.baseAddress!, hiddenScratch: hiddenBuffer)
            for cell in 0..<(rows * 64) {
                let p = Softmax.probabilities(UnsafeBufferPointer(start: o.baseAddress! + cell * classes, count: classes))
                for k in 0..<classes { o[cell * classes + k] = p[k] }
            }
        }
        return out
    }

    /// A tensor of mode `mode` by name (`W`, `b`, `W_hidden`, …) as a flat array.
    public func tensor(_ name: String, mode: Int) -> [Float] {
        guard let entry = layout.tensors.first(where: { $0.name == name }) else { return [] }
        return Array(parameters[mode][entry.offset..<(entry.offset + entry.count)])
    }
}

/// The probes' numeric kernels over flat buffers: forward, loss and backward, argmax.
enum ProbeMath {
    /// `logits = x·W + b` (linear) or `ReLU(x·W_h + b_h)·W_o + b_o` (mlp); the MLP's hidden activations go to
    /// `hiddenOut`.
    static func forward(kind: Probe.Kind, parameters p: UnsafePointer<Float>, layout: Probe.Layout, inputs: UnsafePointer<Float>,
                        rows n: Int, inputWidth d: Int, hidden h: Int, outputs o: Int,
                        logits: UnsafeMutablePointer<Float>, hiddenOut: UnsafeMutablePointer<Float>?) {
        switch kind {
        case .linear:
            affine(out: logits, input: inputs, weight: p + layout.offset("W"), bias: p + layout.offset("b"), rows: n, inDim: d, outDim: o)
        case .mlp:
            let hiddenValues = hiddenOut!
            affine(out: hiddenValues, input: inputs, weight: p + layout.offset("W_hidden"), bias: p + layout.offset("b_hidden"),
                   rows: n, inDim: d, outDim: h)
            for i in 0..<(n * h) where hiddenValues[i] < 0 { hiddenValues[i] = 0 }
            affine(out: logits, input: hiddenValues, weight: p + layout.offset("W_out"), bias: p + layout.offset("b_out"),
                   rows: n, inDim: h, outDim: o)
        }
    }

    /// `out[n, outDim] = input[n, inDim] · weight[inDim, outDim] + bias` (the product starts from the bias).
    static func affine(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                       bias: UnsafePointer<Float>, rows n: Int, inDim: Int, outDim: Int) {
        for r in 0..<n { (out + r * outDim).update(from: bias, count: outDim) }
        Matmul.gemm(m: n, n: outDim, k: inDim, a: input, lda: inDim, b: weight, ldb: outDim, c: out, ldc: outDim, beta: 1)
    }

    /// Cross-entropy of every square's softmax against `labels` (`rows × 64`); overwrites `logits` with the
    /// gradient of the mean over a batch of `batchRows` rows and their squares (these rows may be a shard of it).
    /// Returns the summed (not averaged) loss.
    static func crossEntropyBackward(logits: UnsafeMutablePointer<Float>, labels: UnsafePointer<UInt8>, rows n: Int,
                                     classes c: Int, batchRows: Int) -> Double {
        let scale = 1 / Float(batchRows * 64)
        var loss = 0.0
        for group in 0..<(n * 64) {
            let z = logits + group * c
            loss += Double(Softmax.crossEntropy(logits: z, gradient: z, count: c, target: Int(labels[group]), gradientScale: scale))
        }
        return loss
    }

    /// The class with the highest logit for each of `rows × 64` squares.
    static func argmax(logits: UnsafePointer<Float>, rows n: Int, classes c: Int, into out: UnsafeMutablePointer<UInt8>) {
        for group in 0..<(n * 64) {
            let z = logits + group * c
            var best = 0
            for k in 1..<c where z[k] > z[best] { best = k }
            out[group] = UInt8(best)
        }
    }
}

extension Probe {
    /// Buffers for `inputGradient` on up to `rows` rows (made once, reused across steps).
    public final class GradientWorkspace {
        let rows: Int
        let logits, hidden, hiddenGradient: UnsafeMutablePointer<Float>

        public init(probe: Probe, rows: Int) {
            self.rows = rows
            logits = .allocate(capacity: rows * probe.outputs)
            hidden = .allocate(capacity: rows * max(1, probe.hidden))
            hiddenGradient = .allocate(capacity: rows * max(1, probe.hidden))
        }

        deinit { logits.deallocate(); hidden.deallocate(); hiddenGradient.deallocate() }
    }

    /// The weighted cross-entropy of mode `mode` against `targets` (`rows × 64` classes) with per-square `weights`
    /// (`rows × 64`), summed over squares and averaged over rows, and its gradient with respect to the inputs
    /// (`rows × inputWidth`, written to `gradient`): what Li et al.'s gradient edit descends. With
    /// `targetProbabilities` (`rows × 64`), also each square's probability of its target class.
    public func inputGradient(mode: Int, inputs: UnsafePointer<Float>, rows n: Int, targets: UnsafePointer<UInt8>,
                              weights: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>, workspace w: GradientWorkspace,
                              targetProbabilities: UnsafeMutablePointer<Float>? = nil) -> Double {
        precondition(n <= w.rows, "Probe.inputGradient: \(n) rows for a workspace of \(w.rows)")
        let c = classes, o = outputs, d = inputWidth, h = hidden
        logits(mode: mode, inputs: inputs, rows: n, into: w.logits, hiddenScratch: w.hidden)
        var loss = 0.0
        for group in 0..<(n * 64) {
            let z = w.logits + group * c, weight = weights[group]
            let crossEntropy = Softmax.crossEntropy(logits: z, gradient: z, count: c, target: Int(targets[group]), gradientScale: weight / Float(n))
            loss += Double(weight) * Double(crossEntropy)
            targetProbabilities?[group] = expf(-crossEntropy)
        }
        parameters[mode].withUnsafeBufferPointer { p in
            let p = p.baseAddress!
            switch kind {
            case .linear:
                Matmul.gemm(m: n, n: d, k: o, a: w.logits, lda: o, b: p + layout.offset("W"), ldb: o, transposeB: true, c: gradient, ldc: d)
            case .mlp:
                Matmul.gemm(m: n, n: h, k: o, a: w.logits, lda: o, b: p + layout.offset("W_out"), ldb: o, transposeB: true,
                            c: w.hiddenGradient, ldc: h)
                for i in 0..<(n * h) where w.hidden[i] <= 0 { w.hiddenGradient[i] = 0 }
                Matmul.gemm(m: n, n: d, k: h, a: w.hiddenGradient, lda: h, b: p + layout.offset("W_hidden"), ldb: h, transposeB: true,
                            c: gradient, ldc: d)
            }
        }
        return loss / Double(n)
    }
}
