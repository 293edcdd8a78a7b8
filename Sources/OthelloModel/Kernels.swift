import Foundation
import WorkbenchSupport

/// The forward kernels of the transformer, one function per layer kind, over flat row-major buffers —
/// written in the style of Karpathy's llm.c (`train_gpt2.c`) so that a backward pass can mirror them
/// kernel by kernel.
///
/// Shapes use `B` games, `T` positions, `C = d_model`, `H` heads of `D = d_head`; `rows = B·T`.
/// Activations are laid out exactly as TransformerLens caches them: the residual stream `[B, T, C]`,
/// `q/k/v/z` `[B, T, H, D]`, attention scores and pattern `[B, H, T, T]`, layer-norm scale `[B, T, 1]`.
/// Matrix products go through OpenBLAS (`Matmul.gemm`); element-wise loops are written so the
/// compiler vectorises them.
///
///     Kernels.linearForward(out: pre, input: normalized, weight: W_in, bias: b_in, rows: B * T, inDim: C, outDim: M)
///     Kernels.geluForward(out: post, input: pre, count: B * T * M)
public enum Kernels {
    /// Runs `body(first, count)` over `0..<rows` split into contiguous chunks on up to `threads` threads —
    /// how the forward pass spreads the element-wise kernels (the matrix products are threaded by OpenBLAS).
    ///
    ///     Kernels.forEachRowChunk(rows: B * T, threads: 2) { first, count in
    ///         Kernels.geluForward(out: post + first * M, input: pre + first * M, count: count * M)
    ///     }
    static func forEachRowChunk(rows: Int, threads: Int, _ body: @escaping (Int, Int) -> Void) {
        let chunks = threads <= 1 ? 1 : min(rows, threads * 4)
        guard chunks > 1 else { body(0, rows); return }
        Parallel.forEachRowChunk(rows: rows, chunks: chunks, threads: threads) { _, range in body(range.lowerBound, range.count) }
    }

    // MARK: Embedding

    /// `embed[b,t,:] = W_E[tokens[b,t], :]` and `posEmbed[b,t,:] = W_pos[t, :]`
    /// (TransformerLens `hook_embed`, `hook_pos_embed`). Tokens must be in `0..<d_vocab` (checked by the caller).
    public static func embeddingForward(
        embed: UnsafeMutablePointer<Float>, posEmbed: UnsafeMutablePointer<Float>,
        tokens: UnsafePointer<Int32>, W_E: UnsafePointer<Float>, W_pos: UnsafePointer<Float>,
        batch B: Int, positions T: Int, dModel C: Int
    ) {
        for b in 0..<B {
            for t in 0..<T {
                let row = (b * T + t) * C
                (embed + row).update(from: W_E + Int(tokens[b * T + t]) * C, count: C)
                (posEmbed + row).update(from: W_pos + t * C, count: C)
            }
        }
    }

    // MARK: Residual stream

    /// `out = a + b` element-wise over `count` floats (`out` may alias `a` or `b`).
    static func addForward(out: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { out[i] = a[i] + b[i] }
    }

    // MARK: Layer norm

    /// The first half of a layer norm: for every row of `input` `[rows, C]`, `scale = sqrt(mean((x - mean(x))²) + eps)`
    /// (TransformerLens `ln*.hook_scale`, shape `[B, T, 1]`).
    public static func layerNormScaleForward(
        scale: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, rows: Int, dim C: Int, eps: Float
    ) {
        let n = Float(C)
        for r in 0..<rows {
            let x = input + r * C
            let mean = rowSum(x, C) / n
            scale[r] = (rowSquaredDeviations(x, C, from: mean) / n + eps).squareRoot()
        }
    }

    /// `Σ term(i)` for `i` in `0..<count`, eight terms at a time (`lanes(i)` gives terms `i…i+7`) with eight running
    /// sums, so that the loop vectorises — a float sum in one accumulator cannot be reordered, so the compiler
    /// leaves it scalar. The one loop behind `rowSum`, `dot` and `rowSquaredDeviations`.
    @inlinable @inline(__always)
    static func vectorSum(_ count: Int, lanes: (Int) -> SIMD8<Float>, term: (Int) -> Float) -> Float {
        var partial = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= count {
            partial += lanes(i)
            i += 8
        }
        var total = partial.sum()
        while i < count { total += term(i); i += 1 }
        return total
    }

    /// `Σ x[i]` over `count` floats (vectorised: `vectorSum`).
    @inlinable @inline(__always)
    public static func rowSum(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
        let raw = UnsafeRawPointer(x)
        return vectorSum(count, lanes: { raw.loadUnaligned(fromByteOffset: $0 * 4, as: SIMD8<Float>.self) }, term: { x[$0] })
    }

    /// `Σ x[i] · y[i]` over `count` floats (vectorised: `vectorSum`).
    @inlinable @inline(__always)
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ count: Int) -> Float {
        let (rawX, rawY) = (UnsafeRawPointer(x), UnsafeRawPointer(y))
        return vectorSum(count, lanes: {
            rawX.loadUnaligned(fromByteOffset: $0 * 4, as: SIMD8<Float>.self) * rawY.loadUnaligned(fromByteOffset: $0 * 4, as: SIMD8<Float>.self)
        }, term: { x[$0] * y[$0] })
    }

    /// `max x[i]` over `count` floats (`-inf` for none), with four running maxima to shorten the dependency chain.
    @inlinable @inline(__always)
    public static func rowMax(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
        var (m0, m1, m2, m3) = (-Float.infinity, -Float.infinity, -Float.infinity, -Float.infinity)
        var i = 0
        while i + 4 <= count {
            m0 = max(m0, x[i]); m1 = max(m1, x[i + 1]); m2 = max(m2, x[i + 2]); m3 = max(m3, x[i + 3])
            i += 4
        }
        while i < count { m0 = max(m0, x[i]); i += 1 }
        return max(max(m0, m1), max(m2, m3))
    }

    /// `Σ (x[i] - mean)²` over `count` floats (vectorised: `vectorSum`).
    @inline(__always)
    static func rowSquaredDeviations(_ x: UnsafePointer<Float>, _ count: Int, from mean: Float) -> Float {
        let raw = UnsafeRawPointer(x)
        return vectorSum(count, lanes: {
            let centred = raw.loadUnaligned(fromByteOffset: $0 * 4, as: SIMD8<Float>.self) - mean
            return centred * centred
        }, term: { (x[$0] - mean) * (x[$0] - mean) })
    }

    /// The second half of a layer norm: `normalized = (x - mean(x)) / scale` (TransformerLens `ln*.hook_normalized`,
    /// which both `LNPre` and `LN` hook before any learned weights).
    public static func layerNormNormalizeForward(
        normalized: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, scale: UnsafePointer<Float>, rows: Int, dim C: Int
    ) {
        let n = Float(C)
        for r in 0..<rows {
            let x = input + r * C
            let out = normalized + r * C
            let mean = rowSum(x, C) / n
            let s = scale[r]
            for i in 0..<C { out[i] = (x[i] - mean) / s }
        }
    }

    /// The learned part of an `LN` layer norm: `out = normalized · w + b` per row.
    static func layerNormAffineForward(
        out: UnsafeMutablePointer<Float>, normalized: UnsafePointer<Float>,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, rows: Int, dim C: Int
    ) {
        for r in 0..<rows {
            let x = normalized + r * C
            let o = out + r * C
            for i in 0..<C { o[i] = x[i] * weight[i] + bias[i] }
        }
    }

    // MARK: Linear layers

    /// `out[rows, outDim] = input[rows, inDim] · weight[inDim, outDim] + bias[outDim]` (one sgemm).
    /// Used for `W_O` (as `[H·D, C]`), `W_in`, `W_out` and `W_U`, all stored `[in, out]` by TransformerLens.
    public static func linearForward(
        out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        rows: Int, inDim: Int, outDim: Int
    ) {
        let beta = fillWithBias(out, bias: bias, rows: rows, dim: outDim)
        Matmul.gemm(m: rows, n: outDim, k: inDim, a: input, lda: inDim, b: weight, ldb: outDim, c: out, ldc: outDim, beta: beta)
    }

    /// The per-head projections of attention: `out[r, h, :] = input[r, :] · W[h] + b[h]` for `W` `[H, C, D]`
    /// and `b` `[H, D]`, writing `out` as `[rows, H, D]` (TransformerLens `hook_q`, `hook_k`, `hook_v`).
    /// One sgemm per head with the output row stride `H·D`.
    public static func headLinearForward(
        out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        rows: Int, dModel C: Int, nHeads H: Int, dHead D: Int
    ) {
        let beta = fillWithBias(out, bias: bias, rows: rows, dim: H * D)
        for h in 0..<H {
            Matmul.gemm(m: rows, n: D, k: C, a: input, lda: C, b: weight + h * C * D, ldb: D, c: out + h * D, ldc: H * D, beta: beta)
        }
    }

    /// From this many rows on, the forward pass computes q, k and v with the heads packed into one product
    /// (`packHeads` + `linearForward`); below it, one product per head (`headLinearForward`).
    public static let packedHeadsFromRows = 256

    /// Copies a per-head weight `[H, C, D]` into one `[C, H·D]` matrix (`packed[c, h·D + j] = weight[h, c, j]`), so
    /// that `headLinearForward` over many rows becomes a single `linearForward` (one large sgemm instead of `H`).
    static func packHeads(_ packed: UnsafeMutablePointer<Float>, weight: UnsafePointer<Float>, dModel C: Int, nHeads H: Int, dHead D: Int) {
        for h in 0..<H {
            for c in 0..<C {
                (packed + c * H * D + h * D).update(from: weight + (h * C + c) * D, count: D)
            }
        }
    }

    /// Copies `bias` into every row of `out` (`rows` rows of `dim` floats) and returns 1, the `beta`
    /// with which the product is then added to it; with no bias, writes nothing and returns 0. Starting the
    /// product from the bias spares OpenBLAS's zeroing of the output and a second pass adding the bias.
    @inline(__always)
    static func fillWithBias(_ out: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, rows: Int, dim: Int) -> Float {
        guard let bias else { return 0 }
        for r in 0..<rows { (out + r * dim).update(from: bias, count: dim) }
        return 1
    }

    // MARK: Attention

    /// `scores[b,h,i,j] = q[b,i,h,:] · k[b,j,h,:] / sqrt(D)` for `j ≤ i`, and `-inf` above the diagonal
    /// (TransformerLens `hook_attn_scores`, whose causal mask writes `IGNORE = -inf`). One sgemm per (game, head),
    /// on a transposed copy of the head's keys: OpenBLAS multiplies `q · kᵀ` about twice as fast from a `[D, T]`
    /// matrix as from `k` read transposed, at these small sizes.
    public static func attentionScoresForward(
        scores: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
        batch B: Int, positions T: Int, nHeads H: Int, dHead D: Int
    ) {
        let scale = 1 / Float(D).squareRoot()
        let rowStride = H * D
        withUnsafeTemporaryAllocation(of: Float.self, capacity: D * T) { buffer in
            let keysT = buffer.baseAddress!
            for b in 0..<B {
                for h in 0..<H {
                    let qh = q + b * T * rowStride + h * D
                    transpose(keysT, k + b * T * rowStride + h * D, rows: T, columns: D, stride: rowStride)
                    let s = scores + (b * H + h) * T * T
                    Matmul.gemm(m: T, n: T, k: D, a: qh, lda: rowStride, b: keysT, ldb: T, c: s, ldc: T, alpha: scale)
                    for i in 0..<T {
                        (s + i * T + i + 1).update(repeating: -.infinity, count: T - i - 1)
                    }
                }
            }
        }
    }

    /// `out[j, i] = x[i, j]` for a `[rows, columns]` matrix `x` with row stride `stride`; `out` is `[columns, rows]`.
    @inline(__always)
    public static func transpose(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int) {
        for i in 0..<rows {
            let row = x + i * stride
            for j in 0..<columns { out[j * rows + i] = row[j] }
        }
    }

    /// `pattern = softmax(scores)` over the last axis of `[rows, T]`; a row of only `-inf` gives zeros
    /// (TransformerLens replaces the NaN of such rows by 0). `hook_pattern`.
    public static func softmaxForward(pattern: UnsafeMutablePointer<Float>, scores: UnsafePointer<Float>, rows: Int, dim T: Int) {
        for r in 0..<rows {
            let s = scores + r * T
            let p = pattern + r * T
            let maximum = rowMax(s, T)
            guard maximum > -.infinity else {
                p.update(repeating: 0, count: T)
                continue
            }
            for j in 0..<T { p[j] = s[j] == -.infinity ? 0 : expFast(s[j] - maximum) }   // vectorises
            let inverse = 1 / rowSum(p, T)
            for j in 0..<T { p[j] *= inverse }
        }
    }

    /// `softmaxForward` of causally masked scores `[heads, T, T]` (row `i` of each head is `-inf` after column `i`,
    /// as `attentionScoresForward` writes it): the same pattern, bit for bit, with the exponentials of the lower
    /// triangle only.
    public static func causalSoftmaxForward(pattern: UnsafeMutablePointer<Float>, scores: UnsafePointer<Float>, heads: Int, positions T: Int) {
        for r in 0..<(heads * T) {
            let s = scores + r * T, p = pattern + r * T
            let n = r % T + 1   // the row's unmasked scores
            let maximum = rowMax(s, n)
            for j in 0..<n { p[j] = expFast(s[j] - maximum) }   // vectorises
            (p + n).update(repeating: 0, count: T - n)
            let inverse = 1 / rowSum(p, T)   // over the zeros too: the same additions as `softmaxForward`
            for j in 0..<n { p[j] *= inverse }
        }
    }

    /// `z[b,i,h,:] = Σ_j pattern[b,h,i,j] · v[b,j,h,:]` (TransformerLens `hook_z`, `[B, T, H, D]`).
    /// One sgemm per (game, head).
    public static func attentionValuesForward(
        z: UnsafeMutablePointer<Float>, pattern: UnsafePointer<Float>, v: UnsafePointer<Float>,
        batch B: Int, positions T: Int, nHeads H: Int, dHead D: Int
    ) {
        let rowStride = H * D
        for b in 0..<B {
            for h in 0..<H {
                Matmul.gemm(m: T, n: D, k: T, a: pattern + (b * H + h) * T * T, lda: T,
                            b: v + b * T * rowStride + h * D, ldb: rowStride,
                            c: z + b * T * rowStride + h * D, ldc: rowStride)
            }
        }
    }

    /// Each head's write into the residual stream, `result[r,h,:] = z[r,h,:] · W_O[h]` (`[rows, H, C]`,
    /// TransformerLens `hook_result`). Only computed when asked for: `attn_out` is one sgemm without it.
    static func attentionResultForward(
        result: UnsafeMutablePointer<Float>, z: UnsafePointer<Float>, W_O: UnsafePointer<Float>,
        rows: Int, dModel C: Int, nHeads H: Int, dHead D: Int
    ) {
        for h in 0..<H {
            Matmul.gemm(m: rows, n: C, k: D, a: z + h * D, lda: H * D, b: W_O + h * D * C, ldb: C,
                        c: result + h * C, ldc: H * C)
        }
    }

    /// `out[r,:] = Σ_h result[r,h,:] + b_O` — `attn_out` from the per-head results.
    static func sumHeadsForward(
        out: UnsafeMutablePointer<Float>, result: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        rows: Int, dModel C: Int, nHeads H: Int
    ) {
        for r in 0..<rows {
            let o = out + r * C
            o.update(from: bias, count: C)
            for h in 0..<H {
                let x = result + (r * H + h) * C
                for i in 0..<C { o[i] += x[i] }
            }
        }
    }

    // MARK: MLP activation

    /// `out = gelu(input) = input · Φ(input)` with the exact error function (PyTorch `F.gelu`,
    /// TransformerLens `"gelu"`). `hook_post`. Uses `erfFast`, within 4e-7 of `erf`.
    public static func geluForward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, count: Int) {
        let invSqrt2: Float = 0.707_106_781_186_547_5
        for i in 0..<count {
            let x = input[i]
            out[i] = 0.5 * x * (1 + erfFast(x * invSqrt2))
        }
    }

    /// `exp(x)` in single precision (Cephes' `expf`: range reduction to `2ⁿ · e^r`, |r| ≤ ln 2 / 2, and a degree-6
    /// polynomial), branch-free so loops over it vectorise; relative error below 3e-7 for x in [-87, 88].
    @inlinable @inline(__always)
    public static func expFast(_ value: Float) -> Float {
        let x = min(max(value, -87.3), 88.7)
        // n = round(x / ln 2) by the 1.5·2²³ trick: the sum's low mantissa bits hold n (no trapping conversion).
        let shifted = x * 1.442_695_04 + 12_582_912
        let n = shifted - 12_582_912
        let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p: Float = 1.987_569_15e-4
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        let e = p * r * r + r + 1
        let twoToN = Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
        return e * twoToN
    }

    /// The error function in single precision as a branch-free rational approximation on [-4, 4]
    /// (the one of Eigen/XLA; outside, erf is ±1 in float). Vectorises, unlike `erff`.
    @inlinable @inline(__always)
    public static func erfFast(_ value: Float) -> Float {
        let x = min(max(value, -4), 4)
        let x2 = x * x
        var p: Float = -2.726_142_258_013_06e-10
        p = p * x2 + 2.770_681_424_959_02e-08
        p = p * x2 - 2.101_024_020_825_08e-06
        p = p * x2 - 5.692_506_394_623_46e-05
        p = p * x2 - 7.349_906_303_268_55e-04
        p = p * x2 - 2.954_599_808_540_25e-03
        p = p * x2 - 1.609_603_332_624_15e-02
        var q: Float = -1.456_607_184_649_96e-05
        q = q * x2 - 2.133_740_552_789_05e-04
        q = q * x2 - 1.682_826_974_382_03e-03
        q = q * x2 - 7.373_329_167_204_68e-03
        q = q * x2 - 1.426_473_905_141_89e-02
        return x * p / q
    }
}
