import Foundation
import OthelloModel
import WorkbenchSupport

/// A sparse autoencoder on one hook's activations, in SAELens' layout:
///
///     encode(x) = ReLU((x − b_dec) · W_enc + b_enc)          W_enc [d_in, d_sae], b_enc [d_sae]
///     decode(f) = f · W_dec + b_dec                          W_dec [d_sae, d_in], b_dec [d_in]
///
/// `relu` trains with an L1 penalty on the activations; `topK` keeps only the k largest pre-activations of each
/// row (then the ReLU); `batchTopK` (Bussmann et al., 2024) keeps the k × rows largest of the whole batch in
/// training and, at inference, every pre-activation above a threshold learned in training (a JumpReLU with one
/// threshold). The decoder rows are kept at unit norm, so the L1 penalty cannot be dodged by shrinking
/// activations against growing decoder rows.
///
///     var sae = SparseAutoencoder(dIn: 256, dSAE: 2048, kind: .topK(32), hook: "blocks.5.hook_resid_post", seed: 1)
///     let f = sae.encode(x, rows: n)          // [n, d_sae]
///     let xHat = sae.decode(f, rows: n)       // [n, d_in]
public struct SparseAutoencoder {
    public enum Kind: Equatable, Sendable {
        /// ReLU activations, trained with `l1` × the sum of the activations.
        case relu(l1: Float)
        /// The `k` largest pre-activations of each row, through a ReLU; the rest zero.
        case topK(Int)
        /// In training the `k × rows` largest positive pre-activations of a batch of rows; at inference those above
        /// `threshold` (the running mean of the smallest one kept in training). `k` 0: an SAE read for inference only.
        case batchTopK(k: Int, threshold: Float)

        /// The activation function's name, as files, SAELens and `--kind` spell it.
        public enum Name: String, Codable, CaseIterable, Sendable { case relu, topk, batchtopk }

        public var name: Name {
            switch self {
            case .relu: return .relu
            case .topK: return .topk
            case .batchTopK: return .batchtopk
            }
        }
    }

    public let dIn: Int
    public let dSAE: Int
    public var kind: Kind
    /// The hook the SAE reads (TransformerLens name).
    public var hook: String
    /// What else a file records: the training recipe, the model, the metrics.
    public var metadata: [String: String] = [:]
    /// W_enc, b_enc, W_dec, b_dec, one flat buffer in this order.
    public var parameters: [Float]

    /// Where each tensor starts in `parameters`, and the kind: what the passes need, apart from the weights.
    public struct Layout: Sendable {
        public let dIn: Int, dSAE: Int
        public let kind: Kind
        /// The exponent p of a ReLU SAE's penalty λ·Σ f^p (1: the L1 penalty; below 1 while p-annealing).
        public var sparsityExponent: Float = 1
        public var encoderWeights: Int { 0 }
        public var encoderBias: Int { dIn * dSAE }
        public var decoderWeights: Int { dIn * dSAE + dSAE }
        public var decoderBias: Int { 2 * dIn * dSAE + dSAE }
        public var parameterCount: Int { 2 * dIn * dSAE + dSAE + dIn }
    }

    public var layout: Layout { Layout(dIn: dIn, dSAE: dSAE, kind: kind) }
    public var encoderWeights: Int { layout.encoderWeights }
    public var encoderBias: Int { layout.encoderBias }
    public var decoderWeights: Int { layout.decoderWeights }
    public var decoderBias: Int { layout.decoderBias }
    public var parameterCount: Int { layout.parameterCount }

    /// A fresh SAE: decoder rows random unit vectors, the encoder their transpose, biases zero (SAELens'
    /// `init_encoder_as_decoder_transpose`).
    public init(dIn: Int, dSAE: Int, kind: Kind, hook: String, seed: UInt64) {
        self.dIn = dIn
        self.dSAE = dSAE
        self.kind = kind
        self.hook = hook
        parameters = [Float](repeating: 0, count: 2 * dIn * dSAE + dSAE + dIn)
        var random = SeededRandom(seed: seed, stream: 7)
        let dec = decoderWeights, enc = encoderWeights
        for i in 0..<dSAE {
            var norm: Float = 0
            for j in 0..<dIn {
                let value = random.nextGaussian()
                parameters[dec + i * dIn + j] = value
                norm += value * value
            }
            norm = norm.squareRoot()
            for j in 0..<dIn {
                parameters[dec + i * dIn + j] /= norm
                parameters[enc + j * dSAE + i] = parameters[dec + i * dIn + j]
            }
        }
    }

    /// An SAE with the given weights (shapes checked by the caller).
    public init(dIn: Int, dSAE: Int, kind: Kind, hook: String, parameters: [Float], metadata: [String: String] = [:]) {
        precondition(parameters.count == 2 * dIn * dSAE + dSAE + dIn)
        self.dIn = dIn
        self.dSAE = dSAE
        self.kind = kind
        self.hook = hook
        self.parameters = parameters
        self.metadata = metadata
    }

    /// Throws unless the kind's setting fits the dictionary (k from 1 to d_sae, L1 ≥ 0).
    public func validate() throws {
        switch kind {
        case .topK(let k):
            guard k >= 1, k <= dSAE else { throw WorkbenchError("TopK: k must be from 1 to the dictionary size \(dSAE), got \(k)") }
        case .relu(let l1):
            guard l1 >= 0, l1.isFinite else { throw WorkbenchError("the L1 coefficient must be zero or positive, got \(l1)") }
        case .batchTopK(let k, let threshold):
            guard k >= 0, k <= dSAE else { throw WorkbenchError("BatchTopK: k must be from 0 (an SAE read for inference only) to the dictionary size \(dSAE), got \(k)") }
            guard threshold >= 0, threshold.isFinite else { throw WorkbenchError("BatchTopK: the threshold must be zero or positive, got \(threshold)") }
        }
    }

    /// The activations `[rows, d_sae]` of `x` `[rows, d_in]`.
    public func encode(_ x: [Float], rows: Int) -> [Float] {
        var f = [Float](repeating: 0, count: rows * dSAE)
        let workspace = Workspace(dIn: dIn, dSAE: dSAE, rows: rows)
        withExtendedLifetime(workspace) {
            x.withUnsafeBufferPointer { x in
                f.withUnsafeMutableBufferPointer { f in
                    parameters.withUnsafeBufferPointer { p in
                        SAEMath.encode(p.baseAddress!, layout, x: x.baseAddress!, rows: rows, centred: workspace.centred, pre: workspace.pre, f: f.baseAddress!)
                    }
                }
            }
        }
        return f
    }

    /// The reconstruction `[rows, d_in]` of activations `f` `[rows, d_sae]`.
    public func decode(_ f: [Float], rows: Int) -> [Float] {
        var out = [Float](repeating: 0, count: rows * dIn)
        f.withUnsafeBufferPointer { f in
            out.withUnsafeMutableBufferPointer { out in
                parameters.withUnsafeBufferPointer { p in SAEMath.decode(p.baseAddress!, layout, f: f.baseAddress!, rows: rows, out: out.baseAddress!) }
            }
        }
        return out
    }

    /// Scratch buffers for `rows` rows at a time, allocated once outside the training loop.
    public struct Workspace {
        public let rows: Int
        public let dIn: Int, dSAE: Int
        let centred: UnsafeMutablePointer<Float>    // x − b_dec        [rows, d_in]
        let pre: UnsafeMutablePointer<Float>        // pre-activations  [rows, d_sae]
        let f: UnsafeMutablePointer<Float>          // activations      [rows, d_sae]
        let reconstruction: UnsafeMutablePointer<Float>
        let dReconstruction: UnsafeMutablePointer<Float>
        let dPre: UnsafeMutablePointer<Float>
        /// BatchTopK's selection scratch `[rows, d_sae]` (one float unless the workspace is made for BatchTopK training).
        let selection: UnsafeMutablePointer<Float>
        let selectionCount: Int
        /// dW_dec of the sparse path for every chunk of rows but the first, `(cores − 1) × d_sae × d_in`.
        let decoderGradients: UnsafeMutablePointer<Float>
        let decoderGradientCount: Int
        private let owner: Owner

        final class Owner {
            var buffers: [UnsafeMutableRawPointer] = []
            func allocate<T>(_ count: Int, _: T.Type) -> UnsafeMutablePointer<T> {
                let p = UnsafeMutablePointer<T>.allocate(capacity: max(1, count))
                buffers.append(UnsafeMutableRawPointer(p))
                return p
            }
            deinit { for b in buffers { b.deallocate() } }
        }

        public init(dIn: Int, dSAE: Int, rows: Int, batchTopKTraining: Bool = false) {
            let owner = Owner()
            self.owner = owner
            self.rows = rows
            (self.dIn, self.dSAE) = (dIn, dSAE)
            centred = owner.allocate(rows * dIn, Float.self)
            pre = owner.allocate(rows * dSAE, Float.self)
            f = owner.allocate(rows * dSAE, Float.self)
            reconstruction = owner.allocate(rows * dIn, Float.self)
            dReconstruction = owner.allocate(rows * dIn, Float.self)
            dPre = owner.allocate(rows * dSAE, Float.self)
            selectionCount = batchTopKTraining ? rows * dSAE : 1
            selection = owner.allocate(selectionCount, Float.self)
            decoderGradientCount = max(1, (Parallel.coreCount - 1) * dSAE * dIn)
            decoderGradients = owner.allocate(decoderGradientCount, Float.self)
        }
    }
}

/// The SAE's forward and backward passes over flat buffers, one function per stage (llm.c's style):
/// `encode` → `activeFeatures` → `decode` (sparse or dense) → `lossBackward` → `decoderBackward` →
/// `encoderBackward`; `forwardBackward` runs them in order. Loops over rows run in `Parallel.coreCount` chunks
/// (`Parallel.forEachRowChunk`), each chunk with partial sums of its own, added in chunk order.
enum SAEMath {
    static var chunks: Int { Parallel.coreCount }

    /// centred = x − b_dec; pre = centred · W_enc + b_enc; f = ReLU(pre) or TopK.
    static func encode(_ p: UnsafePointer<Float>, _ sae: SparseAutoencoder.Layout, x: UnsafePointer<Float>, rows: Int,
                       centred: UnsafeMutablePointer<Float>, pre: UnsafeMutablePointer<Float>, f: UnsafeMutablePointer<Float>) {
        let (d, n) = (sae.dIn, sae.dSAE)
        let bDec = p + sae.decoderBias
        for r in 0..<rows { for j in 0..<d { centred[r * d + j] = x[r * d + j] - bDec[j] } }
        Matmul.gemm(m: rows, n: n, k: d, a: centred, lda: d, b: p + sae.encoderWeights, ldb: n, c: pre, ldc: n)
        let kind = sae.kind
        let preRows = SharedPointer(pre), fRows = SharedPointer(f), bias = SharedPointer(p + sae.encoderBias)
        Parallel.forEachRowChunk(rows: rows, chunks: chunks) { _, range in
            for r in range { for i in 0..<n { preRows[r * n + i] += bias[i] } }
            switch kind {
            case .relu:
                for i in (range.lowerBound * n)..<(range.upperBound * n) { fRows[i] = max(preRows[i], 0) }
            case .batchTopK(_, let threshold):
                // Inference: the learned threshold. (Training selects over the batch: `selectBatchTopK`.)
                for i in (range.lowerBound * n)..<(range.upperBound * n) { fRows[i] = preRows[i] > threshold ? max(preRows[i], 0) : 0 }
            case .topK(let k):
                let values = UnsafeMutablePointer<Float>.allocate(capacity: k), indices = UnsafeMutablePointer<Int>.allocate(capacity: k)
                defer { values.deallocate(); indices.deallocate() }
                for r in range {
                    let row = preRows.base + r * n, out = fRows.base + r * n
                    out.update(repeating: 0, count: n)
                    let count = topK(row, n, k, values, indices)
                    for i in 0..<count where values[i] > 0 { out[indices[i]] = values[i] }
                }
            }
        }
    }

    /// The `k` largest of `row[0..<n]` into `values`/`indices`, kept sorted descending by insertion; returns k.
    static func topK(_ row: UnsafePointer<Float>, _ n: Int, _ k: Int, _ values: UnsafeMutablePointer<Float>, _ indices: UnsafeMutablePointer<Int>) -> Int {
        var count = 0
        for i in 0..<n {
            let v = row[i]
            if count == k && v <= values[k - 1] { continue }
            var slot = count == k ? k - 1 : count
            while slot > 0 && values[slot - 1] < v {
                values[slot] = values[slot - 1]
                indices[slot] = indices[slot - 1]
                slot -= 1
            }
            values[slot] = v
            indices[slot] = i
            if count < k { count += 1 }
        }
        return count
    }

    /// out = f · W_dec + b_dec.
    static func decode(_ p: UnsafePointer<Float>, _ sae: SparseAutoencoder.Layout, f: UnsafePointer<Float>, rows: Int, out: UnsafeMutablePointer<Float>) {
        let (d, n) = (sae.dIn, sae.dSAE)
        for r in 0..<rows { (out + r * d).update(from: p + sae.decoderBias, count: d) }
        Matmul.gemm(m: rows, n: d, k: n, a: f, lda: n, b: p + sae.decoderWeights, ldb: d, c: out, ldc: d, beta: 1)
    }

    /// The active features of every row: row r's are `features[rowStart[r]..<rowStart[r + 1]]`, ascending.
    struct ActiveFeatures {
        var features: [Int32]
        var rowStart: [Int]
        var count: Int { features.count }
        func of(row r: Int) -> Range<Int> { rowStart[r]..<rowStart[r + 1] }
    }

    /// Lists the features with f > 0 of each row (chunk by chunk of rows, then joined in order).
    static func activeFeatures(_ f: UnsafePointer<Float>, rows: Int, features n: Int) -> ActiveFeatures {
        let lists = UnsafeMutablePointer<(features: [Int32], ends: [Int])>.allocate(capacity: chunks)
        lists.initialize(repeating: ([], []), count: chunks)
        defer { lists.deinitialize(count: chunks); lists.deallocate() }
        let shared = SharedPointer(lists), fs = SharedPointer(f)
        Parallel.forEachRowChunk(rows: rows, chunks: chunks) { c, range in
            var features: [Int32] = [], ends: [Int] = []
            for r in range {
                let row = fs.base + r * n
                for i in 0..<n where row[i] > 0 { features.append(Int32(i)) }
                ends.append(features.count)
            }
            shared[c] = (features, ends)
        }
        var active = ActiveFeatures(features: [], rowStart: [0])
        for c in 0..<chunks {
            let offset = active.features.count
            active.features += lists[c].features
            active.rowStart += lists[c].ends.map { $0 + offset }
        }
        return active
    }

    /// out = f · W_dec + b_dec over the active features only (a TopK batch is mostly zeros).
    static func decodeSparse(_ p: UnsafePointer<Float>, _ sae: SparseAutoencoder.Layout, f: UnsafePointer<Float>, active: ActiveFeatures,
                             rows: Int, out: UnsafeMutablePointer<Float>) {
        let (d, n) = (sae.dIn, sae.dSAE)
        let params = SharedPointer(p), fs = SharedPointer(f), outs = SharedPointer(out)
        Parallel.forEachRowChunk(rows: rows, chunks: chunks) { _, range in
            for r in range {
                let o = outs.base + r * d
                o.update(from: params.base + sae.decoderBias, count: d)
                for a in active.of(row: r) {
                    let i = Int(active.features[a]), value = fs[r * n + i], row = params.base + sae.decoderWeights + i * d
                    for j in 0..<d { o[j] += value * row[j] }
                }
            }
        }
    }

    /// Sums of one batch's loss: squared error (summed over the input dimension) and the L1 term, each summed over
    /// the rows (divide by the rows for the means).
    struct Loss {
        var squaredError: Double
        var l1: Double
        var active: Int
        /// BatchTopK in training: the smallest activation kept (the threshold's next sample).
        var minKept: Float = 0
        /// The auxiliary (AuxK) loss term, a mean over the rows (0 without it).
        var auxiliary: Double = 0
    }

    /// The mean squared error's gradient dx̂ = 2(x̂ − x)/rows into `dReconstruction`; returns Σ‖x̂ − x‖².
    static func lossBackward(reconstruction: UnsafePointer<Float>, x: UnsafePointer<Float>, rows: Int, width d: Int,
                             dReconstruction: UnsafeMutablePointer<Float>) -> Double {
        let scale = 2 / Float(rows)
        var total = 0.0
        for r in 0..<rows {
            var sum: Float = 0
            for j in 0..<d {
                let e = reconstruction[r * d + j] - x[r * d + j]
                sum += e * e
                dReconstruction[r * d + j] = scale * e
            }
            total += Double(sum)
        }
        return total
    }

    /// Decoder: dW_dec = fᵀ · dx̂ and db_dec = Σ dx̂ into `grad` (the encoder's share of db_dec is subtracted by
    /// `encoderBackward`); activations: dpre = dx̂ · W_decᵀ + λ/rows where the feature is active (the ReLU / TopK
    /// mask), else 0; for a penalty λ·Σ f^p with p (`sparsityExponent`) below 1 the added term is λ/rows·p·f^(p−1).
    /// Sparse: over the active features only. Returns Σ f^p (for the penalty term).
    static func decoderBackward(_ p: UnsafePointer<Float>, _ sae: SparseAutoencoder.Layout, workspace w: SparseAutoencoder.Workspace,
                                active: ActiveFeatures?, rows: Int, l1: Float, grad: UnsafeMutablePointer<Float>) -> Double {
        let (d, n) = (sae.dIn, sae.dSAE)
        let gDec = grad + sae.decoderWeights, l1Grad = l1 / Float(rows)
        // The penalty λ·Σ f^p: its gradient λ·p·f^(p−1) and its value (p 1: λ and Σ f).
        let exponent = sae.sparsityExponent, plain = exponent == 1
        @Sendable @inline(__always) func penaltyGradient(_ value: Float) -> Float { plain ? l1Grad : l1Grad * exponent * powf(value, exponent - 1) }
        @Sendable @inline(__always) func penalty(_ value: Float) -> Double { plain ? Double(value) : Double(powf(value, exponent)) }
        // Each chunk of rows its own Σ f^p (and, sparse, its own dW_dec), added in chunk order.
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: chunks)
        defer { sums.deallocate() }
        let chunkSums = SharedPointer(sums), dPre = SharedPointer(w.dPre), fs = SharedPointer(w.f)
        if let active {
            gDec.update(repeating: 0, count: n * d)
            w.dPre.update(repeating: 0, count: rows * n)
            let extra = w.decoderGradients
            extra.update(repeating: 0, count: w.decoderGradientCount)
            let params = SharedPointer(p), gradients = SharedPointer(gDec), extras = SharedPointer(extra), dxs = SharedPointer(w.dReconstruction)
            Parallel.forEachRowChunk(rows: rows, chunks: chunks) { c, range in
                let gBase = c == 0 ? gradients.base : extras.base + (c - 1) * n * d
                var sum = 0.0
                for r in range {
                    let dx = dxs.base + r * d
                    for a in active.of(row: r) {
                        let i = Int(active.features[a]), value = fs[r * n + i], row = params.base + sae.decoderWeights + i * d, g = gBase + i * d
                        var dot: Float = 0
                        for j in 0..<d {
                            g[j] += value * dx[j]
                            dot += dx[j] * row[j]
                        }
                        dPre[r * n + i] = dot + penaltyGradient(value)
                        sum += penalty(value)
                    }
                }
                chunkSums[c] = sum
            }
            for c in 1..<max(chunks, 1) { for k in 0..<(n * d) { gDec[k] += extra[(c - 1) * n * d + k] } }
        } else {
            Matmul.gemm(m: n, n: d, k: rows, a: w.f, lda: n, transposeA: true, b: w.dReconstruction, ldb: d, c: gDec, ldc: d)
            Matmul.gemm(m: rows, n: n, k: d, a: w.dReconstruction, lda: d, b: p + sae.decoderWeights, ldb: d, transposeB: true, c: w.dPre, ldc: n)
            Parallel.forEachRowChunk(rows: rows, chunks: chunks) { c, range in
                var sum = 0.0
                for i in (range.lowerBound * n)..<(range.upperBound * n) {
                    if fs[i] > 0 {
                        dPre[i] += penaltyGradient(fs[i])
                        sum += penalty(fs[i])
                    } else {
                        dPre[i] = 0
                    }
                }
                chunkSums[c] = sum
            }
        }
        let gBDec = grad + sae.decoderBias
        gBDec.update(repeating: 0, count: d)
        for r in 0..<rows { for j in 0..<d { gBDec[j] += w.dReconstruction[r * d + j] } }
        return (0..<chunks).reduce(0.0) { $0 + sums[$1] }
    }

    /// Encoder: dW_enc = centredᵀ · dpre, db_enc = Σ dpre; the input x − b_dec adds −W_enc · db_enc to db_dec.
    static func encoderBackward(_ p: UnsafePointer<Float>, _ sae: SparseAutoencoder.Layout, workspace w: SparseAutoencoder.Workspace,
                                rows: Int, grad: UnsafeMutablePointer<Float>) {
        let (d, n) = (sae.dIn, sae.dSAE)
        Matmul.gemm(m: d, n: n, k: rows, a: w.centred, lda: d, transposeA: true, b: w.dPre, ldb: n, c: grad + sae.encoderWeights, ldc: n)
        // Column sums of dpre: each chunk of rows its own, then added.
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: chunks * n)
        defer { partial.deallocate() }
        partial.update(repeating: 0, count: chunks * n)
        let partials = SharedPointer(partial), dPre = SharedPointer(w.dPre)
        Parallel.forEachRowChunk(rows: rows, chunks: chunks) { c, range in
            let out = partials.base + c * n
            for r in range { for i in 0..<n { out[i] += dPre[r * n + i] } }
        }
        let gBEnc = grad + sae.encoderBias, gBDec = grad + sae.decoderBias, wEnc = p + sae.encoderWeights
        gBEnc.update(repeating: 0, count: n)
        for c in 0..<chunks { for i in 0..<n { gBEnc[i] += partial[c * n + i] } }
        for j in 0..<d {
            var dot: Float = 0
            for i in 0..<n { dot += wEnc[j * n + i] * gBEnc[i] }
            gBDec[j] -= dot
        }
    }

    /// The forward pass and the gradient of the mean loss — mean over rows of ‖x̂ − x‖² + λ·Σf^p (ReLU only), plus
    /// the `auxiliary` loss when given (TopK, BatchTopK) — into `grad` (all parameters, overwritten). When few enough features are active (TopK), the decoder's three
    /// products run over the active ones only.
    static func forwardBackward(_ p: UnsafePointer<Float>, _ sae: SparseAutoencoder.Layout, x: UnsafePointer<Float>, rows: Int,
                                workspace w: SparseAutoencoder.Workspace, grad: UnsafeMutablePointer<Float>, auxiliary: AuxiliaryK? = nil) -> Loss {
        var minKept: Float = 0
        precondition(rows <= w.rows, "SAE step: \(rows) rows in a workspace of \(w.rows)")
        if case .batchTopK(let k, _) = sae.kind {
            precondition(w.selectionCount >= rows * sae.dSAE, "BatchTopK training needs a workspace made with batchTopKTraining: true")
            let relu = SparseAutoencoder.Layout(dIn: sae.dIn, dSAE: sae.dSAE, kind: .relu(l1: 0))
            encode(p, relu, x: x, rows: rows, centred: w.centred, pre: w.pre, f: w.f)
            minKept = selectBatchTopK(w.f, count: rows * sae.dSAE, keep: k * rows, scratch: w.selection)
        } else {
            encode(p, sae, x: x, rows: rows, centred: w.centred, pre: w.pre, f: w.f)
        }
        let active = activeFeatures(w.f, rows: rows, features: sae.dSAE)
        let sparse = Double(active.count) <= sparseDensity * Double(rows * sae.dSAE)
        if sparse {
            decodeSparse(p, sae, f: w.f, active: active, rows: rows, out: w.reconstruction)
        } else {
            decode(p, sae, f: w.f, rows: rows, out: w.reconstruction)
        }
        var loss = Loss(squaredError: 0, l1: 0, active: active.count, minKept: minKept)
        loss.squaredError = lossBackward(reconstruction: w.reconstruction, x: x, rows: rows, width: sae.dIn, dReconstruction: w.dReconstruction)
        let l1: Float
        if case .relu(let coefficient) = sae.kind { l1 = coefficient } else { l1 = 0 }
        loss.l1 = Double(l1) * decoderBackward(p, sae, workspace: w, active: sparse ? active : nil, rows: rows, l1: l1, grad: grad)
        if let auxiliary { loss.auxiliary = auxiliaryBackward(p, sae, workspace: w, x: x, rows: rows, auxiliary: auxiliary, active: active, grad: grad) }
        encoderBackward(p, sae, workspace: w, rows: rows, grad: grad)
        return loss
    }

    /// The auxiliary loss of Gao et al. (2024) for TopK and BatchTopK SAEs ("AuxK"), as dictionary_learning's
    /// `TopKTrainer` computes it: in each row the `k` largest ReLU'd pre-activations among the dead features,
    /// through their decoder rows (no bias), reconstruct the main reconstruction's error e = x − x̂ (held fixed), and
    /// `coefficient` × mean‖e − ê‖² / mean‖e − ē‖² (ē: e's mean over the rows) is added to the loss — so features
    /// that have stopped firing get a gradient toward what the live ones miss.
    struct AuxiliaryK {
        /// The features that are dead unless they fire in this batch (those that do are left out, as in
        /// dictionary_learning, whose count of positions since a feature fired is updated before the loss).
        var candidates: [Int32]
        var k: Int
        var coefficient: Float
    }

    /// Adds the auxiliary loss's gradient to dW_dec (in `grad`) and to dpre (in the workspace, before
    /// `encoderBackward` reads it); returns the loss term (coefficient × the normalised error, a mean over rows).
    static func auxiliaryBackward(_ p: UnsafePointer<Float>, _ sae: SparseAutoencoder.Layout, workspace w: SparseAutoencoder.Workspace,
                                  x: UnsafePointer<Float>, rows: Int, auxiliary: AuxiliaryK, active: ActiveFeatures,
                                  grad: UnsafeMutablePointer<Float>) -> Double {
        let (d, n) = (sae.dIn, sae.dSAE)
        var fired = [Bool](repeating: false, count: n)
        for i in active.features { fired[Int(i)] = true }
        let dead = auxiliary.candidates.filter { !fired[Int($0)] }
        let k = min(auxiliary.k, dead.count)
        guard k > 0, auxiliary.coefficient > 0 else { return 0 }
        // The normaliser: the error's spread around its mean over the rows.
        var mean = [Double](repeating: 0, count: d)
        for r in 0..<rows { for j in 0..<d { mean[j] += Double(x[r * d + j] - w.reconstruction[r * d + j]) } }
        for j in 0..<d { mean[j] /= Double(rows) }
        var spread = 0.0
        for r in 0..<rows {
            for j in 0..<d { let e = Double(x[r * d + j] - w.reconstruction[r * d + j]) - mean[j]; spread += e * e }
        }
        spread /= Double(rows)
        guard spread > 0 else { return 0 }
        let scale = auxiliary.coefficient * 2 / (Float(rows) * Float(spread))
        // Each chunk of rows its own dW_dec (the first straight into grad) and its own Σ‖ê − e‖², added in chunk order.
        let gDec = grad + sae.decoderWeights
        let extra = w.decoderGradients
        extra.update(repeating: 0, count: min(w.decoderGradientCount, max(chunks - 1, 0) * n * d))
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: chunks)
        sums.initialize(repeating: 0, count: chunks)
        defer { sums.deallocate() }
        let chunkSums = SharedPointer(sums), params = SharedPointer(p), gradients = SharedPointer(gDec), extras = SharedPointer(extra)
        let pre = SharedPointer(w.pre), dPre = SharedPointer(w.dPre), xs = SharedPointer(x), reconstruction = SharedPointer(w.reconstruction)
        dead.withUnsafeBufferPointer { deadFeatures in
            let deadFeatures = SharedPointer(deadFeatures.baseAddress!), count = dead.count
            Parallel.forEachRowChunk(rows: rows, chunks: chunks) { c, range in
                let gBase = c == 0 ? gradients.base : extras.base + (c - 1) * n * d
                let values = UnsafeMutablePointer<Float>.allocate(capacity: 2 * count + 2 * d)
                defer { values.deallocate() }
                let scratch = values + count, diff = values + 2 * count, g = diff + d
                var sum = 0.0
                for r in range {
                    for t in 0..<count { values[t] = max(0, pre[r * n + Int(deadFeatures[t])]) }
                    _ = selectBatchTopK(values, count: count, keep: k, scratch: scratch)
                    // ê − e, with e = x − x̂.
                    for j in 0..<d { diff[j] = reconstruction[r * d + j] - xs[r * d + j] }
                    for t in 0..<count where values[t] > 0 {
                        let row = params.base + sae.decoderWeights + Int(deadFeatures[t]) * d
                        for j in 0..<d { diff[j] += values[t] * row[j] }
                    }
                    var squared: Float = 0
                    for j in 0..<d { squared += diff[j] * diff[j]; g[j] = scale * diff[j] }
                    sum += Double(squared)
                    for t in 0..<count where values[t] > 0 {
                        let i = Int(deadFeatures[t]), row = params.base + sae.decoderWeights + i * d, out = gBase + i * d
                        var dot: Float = 0
                        for j in 0..<d {
                            out[j] += values[t] * g[j]
                            dot += g[j] * row[j]
                        }
                        dPre[r * n + i] += dot
                    }
                }
                chunkSums[c] = sum
            }
        }
        for c in 1..<max(chunks, 1) { for k in 0..<(n * d) { gDec[k] += extra[(c - 1) * n * d + k] } }
        let squaredError = (0..<chunks).reduce(0.0) { $0 + sums[$1] }
        return Double(auxiliary.coefficient) * squaredError / Double(rows) / spread
    }

    /// BatchTopK in training: keeps the `keep` largest positive values of `f` (`count` of them, ReLU'd) and zeroes
    /// the rest; returns the smallest kept value (0 when no more than `keep` are positive). Quickselect on a copy.
    static func selectBatchTopK(_ f: UnsafeMutablePointer<Float>, count: Int, keep: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        var positive = 0
        for i in 0..<count where f[i] > 0 { scratch[positive] = f[i]; positive += 1 }
        guard positive > keep, keep > 0 else {
            if keep == 0 { f.update(repeating: 0, count: count) }
            var smallest = Float.infinity
            for i in 0..<positive { smallest = min(smallest, scratch[i]) }
            return positive > 0 ? smallest : 0
        }
        // The keep-th largest: Hoare-partition quickselect for index keep − 1 in descending order.
        var (lo, hi, target) = (0, positive - 1, keep - 1)
        while lo < hi {
            let pivot = scratch[(lo + hi) / 2]
            var (i, j) = (lo, hi)
            while i <= j {
                while scratch[i] > pivot { i += 1 }
                while scratch[j] < pivot { j -= 1 }
                if i <= j { (scratch[i], scratch[j]) = (scratch[j], scratch[i]); i += 1; j -= 1 }
            }
            if target <= j { hi = j } else if target >= i { lo = i } else { break }
        }
        let cut = scratch[target]
        // Keep the values above the cut, and as many equal to it as fit.
        var kept = 0
        for i in 0..<count where f[i] > cut { kept += 1 }
        var ties = keep - kept
        for i in 0..<count where f[i] > 0 && f[i] <= cut {
            if f[i] == cut && ties > 0 { ties -= 1 } else { f[i] = 0 }
        }
        return cut
    }

    /// Share of active (row, feature) entries below which the decoder's products run sparse.
    nonisolated(unsafe) static var sparseDensity = 0.12

    /// Removes from each decoder row's gradient its part along the row (the rows stay on the unit sphere to first order).
    static func projectDecoderGradient(_ p: UnsafePointer<Float>, _ sae: SparseAutoencoder.Layout, grad: UnsafeMutablePointer<Float>) {
        let d = sae.dIn
        for i in 0..<sae.dSAE {
            let row = p + sae.decoderWeights + i * d, g = grad + sae.decoderWeights + i * d
            var dot: Float = 0
            for j in 0..<d { dot += row[j] * g[j] }
            for j in 0..<d { g[j] -= dot * row[j] }
        }
    }

    /// Rescales every decoder row to unit norm.
    static func normaliseDecoder(_ p: UnsafeMutablePointer<Float>, _ sae: SparseAutoencoder.Layout) {
        let d = sae.dIn
        for i in 0..<sae.dSAE {
            let row = p + sae.decoderWeights + i * d
            var norm: Float = 0
            for j in 0..<d { norm += row[j] * row[j] }
            norm = norm.squareRoot()
            if norm > 0 { for j in 0..<d { row[j] /= norm } }
        }
    }
}
