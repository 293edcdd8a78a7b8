import Foundation
import OthelloModel
import WorkbenchSupport

/// A sparse autoencoder on one hook's activations, in SAELens' layout:
///
///     encode(x) = ReLU((x − b_dec) · W_enc + b_enc)          W_enc [d_in, d_sae], b_enc [d_sae]
///     decode(f) = f · W_dec + b_dec                          W_dec [d_sae, d_in], b_dec [d_in]
///
/// `relu` trains with an L1 penalty on the activations; `topK` keeps only the k largest pre-activations of each
/// row (then the ReLU). The decoder rows are kept at unit norm, so the L1 penalty cannot be dodged by shrinking
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

        public var name: String { if case .topK = self { return "topk" } else { return "relu" } }
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
        let centred: UnsafeMutablePointer<Float>    // x − b_dec        [rows, d_in]
        let pre: UnsafeMutablePointer<Float>        // pre-activations  [rows, d_sae]
        let f: UnsafeMutablePointer<Float>          // activations      [rows, d_sae]
        let reconstruction: UnsafeMutablePointer<Float>
        let dReconstruction: UnsafeMutablePointer<Float>
        let dPre: UnsafeMutablePointer<Float>
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

        public init(dIn: Int, dSAE: Int, rows: Int) {
            let owner = Owner()
            self.owner = owner
            self.rows = rows
            centred = owner.allocate(rows * dIn, Float.self)
            pre = owner.allocate(rows * dSAE, Float.self)
            f = owner.allocate(rows * dSAE, Float.self)
            reconstruction = owner.allocate(rows * dIn, Float.self)
            dReconstruction = owner.allocate(rows * dIn, Float.self)
            dPre = owner.allocate(rows * dSAE, Float.self)
            decoderGradientCount = max(1, (Parallel.coreCount - 1) * dSAE * dIn)
            decoderGradients = owner.allocate(decoderGradientCount, Float.self)
        }
    }
}

/// The SAE's forward and backward passes over flat buffers, one function per stage (llm.c's style).
enum SAEMath {
    /// centred = x − b_dec; pre = centred · W_enc + b_enc; f = ReLU(pre) or TopK.
    static func encode(_ p: UnsafePointer<Float>, _ sae: SparseAutoencoder.Layout, x: UnsafePointer<Float>, rows: Int,
                       centred: UnsafeMutablePointer<Float>, pre: UnsafeMutablePointer<Float>, f: UnsafeMutablePointer<Float>) {
        let (d, n) = (sae.dIn, sae.dSAE)
        let bDec = p + sae.decoderBias, bEnc = p + sae.encoderBias
        for r in 0..<rows { for j in 0..<d { centred[r * d + j] = x[r * d + j] - bDec[j] } }
        Matmul.gemm(m: rows, n: n, k: d, a: centred, lda: d, b: p + sae.encoderWeights, ldb: n, c: pre, ldc: n)
        // The bias and the activation, rows split between the cores.
        let kind = sae.kind, threads = Parallel.coreCount, chunk = (rows + threads - 1) / threads
        let preRows = SharedPointer(pre), fRows = SharedPointer(f), bias = SharedPointer(bEnc)
        Parallel.forEach(chunks: threads) { c in
            let lo = min(rows, c * chunk), hi = min(rows, (c + 1) * chunk)
            guard lo < hi else { return }
            let rowRange = lo..<hi
            for r in rowRange { for i in 0..<n { preRows.base[r * n + i] += bias.base[i] } }
            switch kind {
            case .relu:
                for i in (rowRange.lowerBound * n)..<(rowRange.upperBound * n) { fRows.base[i] = max(preRows.base[i], 0) }
            case .topK(let k):
                let values = UnsafeMutablePointer<Float>.allocate(capacity: k), indices = UnsafeMutablePointer<Int>.allocate(capacity: k)
                defer { values.deallocate(); indices.deallocate() }
                for r in rowRange {
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

    /// Sums of one batch's loss: squared error (summed over the input dimension) and the L1 term, each summed over
    /// the rows (divide by the rows for the means).
    struct Loss {
        var squaredError: Double
        var l1: Double
        var active: Int
    }

    /// The forward pass and the gradient of the mean loss — mean over rows of ‖x̂ − x‖² + λ·Σf (ReLU only) — into
    /// `grad` (all parameters, overwritten).
    static func forwardBackward(_ p: UnsafePointer<Float>, _ sae: SparseAutoencoder.Layout, x: UnsafePointer<Float>, rows: Int,
                                workspace w: SparseAutoencoder.Workspace, grad: UnsafeMutablePointer<Float>) -> Loss {
        let (d, n) = (sae.dIn, sae.dSAE)
        encode(p, sae, x: x, rows: rows, centred: w.centred, pre: w.pre, f: w.f)
        // The active features of each row; sparse enough (TopK), the decoder's three products run over them only.
        let threads = Parallel.coreCount, chunk = (rows + threads - 1) / threads
        let fs = SharedPointer(w.f)
        // Found chunk by chunk of rows between the cores, then joined.
        let lists = UnsafeMutablePointer<(features: [Int32], ends: [Int])>.allocate(capacity: threads)
        lists.initialize(repeating: ([], []), count: threads)
        defer { lists.deinitialize(count: threads); lists.deallocate() }
        let shared = SharedPointer(lists)
        Parallel.forEach(chunks: threads) { c in
            var features: [Int32] = [], ends: [Int] = []
            for r in min(rows, c * chunk)..<min(rows, (c + 1) * chunk) {
                let row = fs.base + r * n
                for i in 0..<n where row[i] > 0 { features.append(Int32(i)) }
                ends.append(features.count)
            }
            shared.base[c] = (features, ends)
        }
        var active: [Int32] = [], rowStart = [0]
        for c in 0..<threads {
            let offset = active.count
            active += lists[c].features
            rowStart += lists[c].ends.map { $0 + offset }
        }
        let sparse = Double(active.count) <= sparseDensity * Double(rows * n)
        let wDec = p + sae.decoderWeights
        let params = SharedPointer(p), features = active, starts = rowStart
        if sparse {
            let out = SharedPointer(w.reconstruction)
            Parallel.forEach(chunks: threads) { c in
                for r in min(rows, c * chunk)..<min(rows, (c + 1) * chunk) {
                    let o = out.base + r * d
                    o.update(from: params.base + sae.decoderBias, count: d)
                    for a in starts[r]..<starts[r + 1] {
                        let i = Int(features[a]), value = fs.base[r * n + i], row = params.base + sae.decoderWeights + i * d
                        for j in 0..<d { o[j] += value * row[j] }
                    }
                }
            }
        } else {
            decode(p, sae, f: w.f, rows: rows, out: w.reconstruction)
        }
        let l1: Float
        if case .relu(let coefficient) = sae.kind { l1 = coefficient } else { l1 = 0 }
        var loss = Loss(squaredError: 0, l1: 0, active: active.count)
        let scale = 2 / Float(rows)
        for r in 0..<rows {
            var sum: Float = 0
            for j in 0..<d {
                let e = w.reconstruction[r * d + j] - x[r * d + j]
                sum += e * e
                w.dReconstruction[r * d + j] = scale * e
            }
            loss.squaredError += Double(sum)
        }
        // Decoder: dW_dec = fᵀ · dx̂; db_dec = Σ dx̂ (the encoder's share is subtracted below).
        // Activations: df = dx̂ · W_decᵀ (+ λ/rows), kept where active (the ReLU / TopK mask) as dpre.
        let gDec = grad + sae.decoderWeights
        let l1Grad = l1 / Float(rows)
        var l1Sum = 0.0
        // Each chunk of rows has its own L1 sum and (sparse) its own dW_dec, summed after.
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: threads)
        defer { sums.deallocate() }
        let chunkSums = SharedPointer(sums), dPre = SharedPointer(w.dPre)
        if sparse {
            gDec.update(repeating: 0, count: n * d)
            w.dPre.update(repeating: 0, count: rows * n)
            let extra = w.decoderGradients
            extra.update(repeating: 0, count: w.decoderGradientCount)
            let gradients = SharedPointer(gDec), extras = SharedPointer(extra), dxs = SharedPointer(w.dReconstruction)
            Parallel.forEach(chunks: threads) { c in
                let gBase = c == 0 ? gradients.base : extras.base + (c - 1) * n * d
                var sum = 0.0
                for r in min(rows, c * chunk)..<min(rows, (c + 1) * chunk) {
                    let dx = dxs.base + r * d
                    for a in starts[r]..<starts[r + 1] {
                        let i = Int(features[a]), value = fs.base[r * n + i], row = params.base + sae.decoderWeights + i * d, g = gBase + i * d
                        var dot: Float = 0
                        for j in 0..<d {
                            g[j] += value * dx[j]
                            dot += dx[j] * row[j]
                        }
                        dPre.base[r * n + i] = dot + l1Grad
                        sum += Double(value)
                    }
                }
                chunkSums.base[c] = sum
            }
            for c in 1..<max(threads, 1) { for k in 0..<(n * d) { gDec[k] += extra[(c - 1) * n * d + k] } }
            for c in 0..<threads { l1Sum += sums[c] }
        } else {
            Matmul.gemm(m: n, n: d, k: rows, a: w.f, lda: n, transposeA: true, b: w.dReconstruction, ldb: d, c: gDec, ldc: d)
            Matmul.gemm(m: rows, n: n, k: d, a: w.dReconstruction, lda: d, b: wDec, ldb: d, transposeB: true, c: w.dPre, ldc: n)
            // The mask, rows split between the cores.
            Parallel.forEach(chunks: threads) { c in
                var sum = 0.0
                for i in min(rows, c * chunk) * n..<min(rows, (c + 1) * chunk) * n {
                    if fs.base[i] > 0 {
                        dPre.base[i] += l1Grad
                        sum += Double(fs.base[i])
                    } else {
                        dPre.base[i] = 0
                    }
                }
                chunkSums.base[c] = sum
            }
            for c in 0..<threads { l1Sum += sums[c] }
        }
        loss.l1 = Double(l1) * l1Sum
        let gBDec = grad + sae.decoderBias
        gBDec.update(repeating: 0, count: d)
        for r in 0..<rows { for j in 0..<d { gBDec[j] += w.dReconstruction[r * d + j] } }
        // Encoder: dW_enc = centredᵀ · dpre; db_enc = Σ dpre; the input x − b_dec gives b_dec −W_enc · db_enc.
        Matmul.gemm(m: d, n: n, k: rows, a: w.centred, lda: d, transposeA: true, b: w.dPre, ldb: n, c: grad + sae.encoderWeights, ldc: n)
        let gBEnc = grad + sae.encoderBias
        // Column sums of dpre: each chunk of rows its own, then added.
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: threads * n)
        defer { partial.deallocate() }
        partial.update(repeating: 0, count: threads * n)
        let partials = SharedPointer(partial)
        Parallel.forEach(chunks: threads) { c in
            let out = partials.base + c * n
            for r in min(rows, c * chunk)..<min(rows, (c + 1) * chunk) { for i in 0..<n { out[i] += dPre.base[r * n + i] } }
        }
        gBEnc.update(repeating: 0, count: n)
        for c in 0..<threads { for i in 0..<n { gBEnc[i] += partial[c * n + i] } }
        let wEnc = p + sae.encoderWeights
        for j in 0..<d {
            var dot: Float = 0
            for i in 0..<n { dot += wEnc[j * n + i] * gBEnc[i] }
            gBDec[j] -= dot
        }
        return loss
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
