import COpenBLAS
import Foundation
import OthelloModel

// The backward pass, one function per layer kind, over flat row-major Float buffers (llm.c style).
//
// Each function mirrors one forward kernel of OthelloModel. Conventions, as in llm.c's train_gpt2.c:
//   * `d<name>` is the gradient of the loss with respect to `<name>`;
//   * every gradient is ACCUMULATED (+=): the caller zeroes the gradient buffers once per step,
//     so a tensor read by several layers (the residual stream, the LNPre output read by Q, K and V)
//     collects the sum of its uses without extra copies;
//   * `rows` is batch × positions; matrices are stored the TransformerLens way (`x @ W`, W [in, out]).
// Every matrix product is one cblas_sgemm call.

/// Cross-entropy of the next move at every position, and its gradient with respect to the logits.
///
/// Rows whose target is 0 (padding after the game's end) contribute nothing; every other row's loss
/// is multiplied by `weight`. With `weight` = 1 / (counted rows of the whole batch), the sum over a
/// batch is `torch.nn.functional.cross_entropy(logits, targets, ignore_index=0)`.
/// Writes (does not accumulate) `dlogits`. Returns the weighted sum of the rows' losses.
func crossEntropyForwardBackward(
    dlogits: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
    rows: Int, vocab: Int, weight: Float
) -> Double {
    var total = 0.0
    for row in 0..<rows {
        let z = logits + row * vocab
        let dz = dlogits + row * vocab
        let target = Int(targets[row])
        guard target != 0 else {
            dz.update(repeating: 0, count: vocab)
            continue
        }
        var maxLogit = -Float.infinity
        for i in 0..<vocab { maxLogit = max(maxLogit, z[i]) }
        var sum: Float = 0
        for i in 0..<vocab {
            let e = expf(z[i] - maxLogit)
            dz[i] = e
            sum += e
        }
        let scale = weight / sum
        for i in 0..<vocab { dz[i] *= scale }
        dz[target] -= weight
        total += Double(weight) * Double(logf(sum) + maxLogit - z[target])
    }
    return total
}

/// Backward of a linear map `out[rows, outDim] = inp[rows, inDim] @ weight[inDim, outDim] + bias`.
///
/// `inpStride`, `outStride` and `weightStride` are the row strides (leading dimensions) of `inp`/`dinp`,
/// `out`/`dout` and `weight`/`dweight`, so one head's slice of a [rows, heads, d_head] tensor can be
/// passed directly. `dinp` and `dbias` may be nil when not needed.
func linearBackward(
    dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    rows: Int, inDim: Int, outDim: Int,
    inpStride: Int? = nil, outStride: Int? = nil, weightStride: Int? = nil
) {
    let ldInp = Int32(inpStride ?? inDim), ldOut = Int32(outStride ?? outDim), ldW = Int32(weightStride ?? outDim)
    // dinp += dout @ weightᵀ
    if let dinp {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(inDim), Int32(outDim),
                    1, dout, ldOut, weight, ldW, 1, dinp, ldInp)
    }
    // dweight += inpᵀ @ dout
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(inDim), Int32(outDim), Int32(rows),
                1, inp, ldInp, dout, ldOut, 1, dweight, ldW)
    // dbias += Σ_rows dout
    if let dbias {
        let stride = Int(ldOut)
        for row in 0..<rows {
            let d = dout + row * stride
            for j in 0..<outDim { dbias[j] += d[j] }
        }
    }
}

/// Backward of TransformerLens's LNPre (layer norm without weights, eps inside the square root):
/// `normalized = (x - mean x) / scale`, `scale = sqrt(mean((x - mean x)²) + eps)`.
///
/// `dinp += (dout - mean(dout) - normalized · mean(dout · normalized)) / scale`, row by row.
func layerNormPreBackward(
    dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
    normalized: UnsafePointer<Float>, scale: UnsafePointer<Float>, rows: Int, width: Int
) {
    let inverseWidth = 1 / Float(width)
    for row in 0..<rows {
        let dy = dout + row * width, y = normalized + row * width, dx = dinp + row * width
        var meanD: Float = 0, meanDY: Float = 0
        for i in 0..<width {
            meanD += dy[i]
            meanDY += dy[i] * y[i]
        }
        meanD *= inverseWidth
        meanDY *= inverseWidth
        let inverseScale = 1 / scale[row]
        for i in 0..<width { dx[i] += (dy[i] - meanD - y[i] * meanDY) * inverseScale }
    }
}

/// Backward of the exact GELU, `gelu(x) = x Φ(x)` (PyTorch `F.gelu`, TransformerLens `act_fn="gelu"`):
/// `dinp += dout · (Φ(x) + x φ(x))`. Φ uses the forward's `Kernels.erfFast`, φ `fastExp`, so the loop vectorises.
func geluBackward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
    let inverseSqrt2: Float = 0.707_106_781_186_547_5
    let inverseSqrt2Pi: Float = 0.398_942_280_401_432_7
    for i in 0..<count {
        let x = inp[i]
        let cdf = 0.5 * (1 + Kernels.erfFast(x * inverseSqrt2))
        let pdf = inverseSqrt2Pi * fastExp(-0.5 * x * x)
        dinp[i] += dout[i] * (cdf + x * pdf)
    }
}

/// `exp(x)` in single precision, branch-free so that loops over it vectorise (Cephes' `expf`: x = n ln 2 + r,
/// a polynomial for e^r, 2^n built in the exponent bits); within 3e-7 relative of `exp` for x in [-87, 88],
/// and NaN for NaN (no integer conversion that could trap).
@inline(__always)
func fastExp(_ value: Float) -> Float {
    let x = min(max(value, -87.3), 88.3)
    // Adding 1.5·2²³ rounds x·log2(e) to an integer n held in the low bits of `shifted`.
    let shifted = x * 1.442_695_040_888_963_4 + 12_582_912
    let n = shifted - 12_582_912
    let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p: Float = 1.987_569_150_0e-4
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    p = p * r * r + r + 1
    let twoToN = Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
    return p * twoToN
}

/// Backward of causal multi-head attention for one game, given the forward's `q`, `k`, `v`
/// ([positions, heads, d_head]) and `pattern` ([heads, positions, positions], softmax of the scaled,
/// causally masked scores, zero above the diagonal), and `dz` ([positions, heads, d_head]).
///
/// For each head: `dpattern = dz vᵀ`, `dv += patternᵀ dz`, `dscores = pattern ⊙ (dpattern − rowsum(pattern ⊙ dpattern)) / sqrt(d_head)`,
/// `dq += dscores k`, `dk += dscoresᵀ q`. Masked entries have pattern 0, so they get no gradient.
/// `scratch` holds positions² floats.
func attentionBackward(
    dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
    dz: UnsafePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    pattern: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
    positions: Int, heads: Int, headDim: Int
) {
    let t = Int32(positions), dh = Int32(headDim), ld = Int32(heads * headDim)
    let scale = 1 / Float(headDim).squareRoot()
    for head in 0..<heads {
        let offset = head * headDim
        let p = pattern + head * positions * positions
        let dp = scratch
        // dpattern[t, s] = dz[t] · v[s]
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t, t, dh, 1, dz + offset, ld, v + offset, ld, 0, dp, t)
        // dv[s] += Σ_t pattern[t, s] dz[t]
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, t, dh, t, 1, p, t, dz + offset, ld, 1, dv + offset, ld)
        // softmax backward, then the 1/sqrt(d_head) of the scores; only s ≤ t is non-zero
        for row in 0..<positions {
            let pr = p + row * positions, dr = dp + row * positions
            var dot: Float = 0
            for s in 0...row { dot += pr[s] * dr[s] }
            for s in 0...row { dr[s] = pr[s] * (dr[s] - dot) * scale }
            for s in (row + 1)..<positions { dr[s] = 0 }
        }
        // dq[t] += Σ_s dscores[t, s] k[s];  dk[s] += Σ_t dscores[t, s] q[t]
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t, dh, t, 1, dp, t, k + offset, ld, 1, dq + offset, ld)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, t, dh, t, 1, dp, t, q + offset, ld, 1, dk + offset, ld)
    }
}

/// Backward of the token and position embeddings, `resid_pre0[b, t] = W_E[tokens[b, t]] + W_pos[t]`.
func embeddingBackward(
    dtokenEmbedding: UnsafeMutablePointer<Float>, dpositionEmbedding: UnsafeMutablePointer<Float>,
    dout: UnsafePointer<Float>, tokens: UnsafePointer<Int32>, batch: Int, positions: Int, width: Int
) {
    for b in 0..<batch {
        for t in 0..<positions {
            let d = dout + (b * positions + t) * width
            let we = dtokenEmbedding + Int(tokens[b * positions + t]) * width
            let wp = dpositionEmbedding + t * width
            for i in 0..<width {
                we[i] += d[i]
                wp[i] += d[i]
            }
        }
    }
}
