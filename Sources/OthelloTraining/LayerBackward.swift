import COpenBLAS
import Foundation
import OthelloModel

// The backward pass, one function per layer kind, over flat row-major Float buffers (llm.c style).
//
// Each function mirrors one forward kernel of OthelloModel. Conventions:
//   * `d<name>` is the gradient of the loss with respect to `<name>`;
//   * every weight is read once per pass, so its gradient is WRITTEN (no zeroing needed), except the
//     embeddings, which are scattered into (`embeddingBackward` accumulates);
//   * the residual stream is read by every block, so its gradient is ACCUMULATED (+=) by
//     `layerNormPreBackward`; every other activation gradient is written;
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
        total += Double(weight) * Double(Softmax.crossEntropy(logits: z, gradient: dz, count: vocab, target: target, gradientScale: weight))
    }
    return total
}

/// Backward of a linear map `out[rows, outDim] = inp[rows, inDim] @ weight[inDim, outDim] + bias`:
/// writes `dinp = dout @ weightᵀ`, `dweight = inpᵀ @ dout` and `dbias = Σ_rows dout`.
func linearBackward(
    dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    rows: Int, inDim: Int, outDim: Int
) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(inDim), Int32(outDim),
                1, dout, Int32(outDim), weight, Int32(outDim), 0, dinp, Int32(inDim))
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(inDim), Int32(outDim), Int32(rows),
                1, inp, Int32(inDim), dout, Int32(outDim), 0, dweight, Int32(outDim))
    columnSums(dbias, of: dout, rows: rows, columns: outDim, stride: outDim)
}

/// `sums[j] = Σ_rows matrix[row, j]` for a `[rows, columns]` matrix with row stride `stride`.
func columnSums(_ sums: UnsafeMutablePointer<Float>, of matrix: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int) {
    sums.update(repeating: 0, count: columns)
    for row in 0..<rows {
        let d = matrix + row * stride
        for j in 0..<columns { sums[j] += d[j] }
    }
}

/// The attention projections' weights side by side, `[C, 3·H·D]`: column `p·H·D + h·D + j` of row `c` is
/// `W_p[h, c, j]` for p = Q, K, V. With it, the backward of the three per-head projections of the
/// forward (`Kernels.headLinearForward`, 3·H products with D columns) is two products with 3·H·D columns.
func packAttentionWeights(into packed: UnsafeMutablePointer<Float>, W_Q: UnsafePointer<Float>, W_K: UnsafePointer<Float>,
                          W_V: UnsafePointer<Float>, dModel C: Int, nHeads H: Int, dHead D: Int) {
    let width = 3 * H * D
    for (p, weight) in [W_Q, W_K, W_V].enumerated() {
        for h in 0..<H {
            for c in 0..<C {
                (packed + c * width + p * H * D + h * D).update(from: weight + (h * C + c) * D, count: D)
            }
        }
    }
}

/// Backward of `q, k, v = x · W_{Q,K,V}[h] + b_{Q,K,V}[h]` for every head at once, from `dqkv` `[rows, 3·H·D]`
/// (dq, dk, dv side by side) and the packed weights (`packAttentionWeights`): writes `dinp = dqkv · packedᵀ`,
/// the weight gradients in TransformerLens's `[H, C, D]` layout and the bias gradients `[H, D]`.
/// `scratch` holds C · 3·H·D floats.
func attentionProjectionsBackward(
    dinp: UnsafeMutablePointer<Float>, dW_Q: UnsafeMutablePointer<Float>, db_Q: UnsafeMutablePointer<Float>,
    dW_K: UnsafeMutablePointer<Float>, db_K: UnsafeMutablePointer<Float>, dW_V: UnsafeMutablePointer<Float>,
    db_V: UnsafeMutablePointer<Float>, dqkv: UnsafePointer<Float>, inp: UnsafePointer<Float>,
    packedWeights: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>, rows: Int, dModel C: Int, nHeads H: Int, dHead D: Int
) {
    let width = 3 * H * D
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(C), Int32(width),
                1, dqkv, Int32(width), packedWeights, Int32(width), 0, dinp, Int32(C))
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(C), Int32(width), Int32(rows),
                1, inp, Int32(C), dqkv, Int32(width), 0, scratch, Int32(width))
    for (p, (dweight, dbias)) in [(dW_Q, db_Q), (dW_K, db_K), (dW_V, db_V)].enumerated() {
        for h in 0..<H {
            for c in 0..<C {
                (dweight + (h * C + c) * D).update(from: scratch + c * width + p * H * D + h * D, count: D)
            }
        }
        columnSums(dbias, of: dqkv + p * H * D, rows: rows, columns: H * D, stride: width)
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
        let meanD = Kernels.rowSum(dy, width) * inverseWidth, meanDY = Kernels.dot(dy, y, width) * inverseWidth
        let inverseScale = 1 / scale[row]
        for i in 0..<width { dx[i] += (dy[i] - meanD - y[i] * meanDY) * inverseScale }
    }
}

/// Backward of the exact GELU, `gelu(x) = x Φ(x)` (PyTorch `F.gelu`, TransformerLens `act_fn="gelu"`):
/// `dinp = dout · (Φ(x) + x φ(x))`. `out` is the forward's output `x Φ(x)`, from which `Φ(x) = out / x` comes back
/// without a second error function (and `Φ(0) = 1/2`); φ uses `Kernels.expFast`, so the loop vectorises.
func geluBackward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>,
                  out: UnsafePointer<Float>, count: Int) {
    let inverseSqrt2Pi: Float = 0.398_942_280_401_432_7
    for i in 0..<count {
        let x = inp[i]
        let ratio = out[i] / x   // computed unconditionally (NaN at 0, then replaced) so that the loop vectorises
        let cdf = x == 0 ? 0.5 : ratio
        let pdf = inverseSqrt2Pi * Kernels.expFast(-0.5 * x * x)
        dinp[i] = dout[i] * (cdf + x * pdf)
    }
}

/// Backward of causal multi-head attention for one game, given the forward's `q`, `k`, `v`
/// ([positions, heads, d_head]) and `pattern` ([heads, positions, positions], softmax of the scaled,
/// causally masked scores, zero above the diagonal), and `dz` ([positions, heads, d_head]).
///
/// For each head, writes `dv = patternᵀ dz`, `dq = dscores k`, `dk = dscoresᵀ q`, where `dpattern = dz vᵀ`
/// and `dscores = pattern ⊙ (dpattern − rowsum(pattern ⊙ dpattern)) / sqrt(d_head)`; masked entries have
/// pattern 0, so they get no gradient. `dq`, `dk`, `dv` have row stride `gradientStride` (3·H·D when
/// they sit side by side for `attentionProjectionsBackward`). `scratch` holds positions · (positions + headDim) floats.
func attentionBackward(
    dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>, gradientStride: Int,
    dz: UnsafePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    pattern: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
    positions: Int, heads: Int, headDim: Int
) {
    let t = Int32(positions), dh = Int32(headDim), ld = Int32(heads * headDim), ldGradient = Int32(gradientStride)
    let scale = 1 / Float(headDim).squareRoot()
    for head in 0..<heads {
        let offset = head * headDim
        let p = pattern + head * positions * positions
        let dp = scratch, valuesT = scratch + positions * positions
        // dpattern[t, s] = dz[t] · v[s], from vᵀ (faster than reading v transposed: see `Kernels.attentionScoresForward`)
        Kernels.transpose(valuesT, v + offset, rows: positions, columns: headDim, stride: heads * headDim)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t, t, dh, 1, dz + offset, ld, valuesT, t, 0, dp, t)
        // dv[s] = Σ_t pattern[t, s] dz[t]
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, t, dh, t, 1, p, t, dz + offset, ld, 0, dv + offset, ldGradient)
        // softmax backward, then the 1/sqrt(d_head) of the scores; only s ≤ t is non-zero
        for row in 0..<positions {
            let pr = p + row * positions, dr = dp + row * positions
            let dot = Kernels.dot(pr, dr, row + 1)
            for s in 0..<(row + 1) { dr[s] = pr[s] * (dr[s] - dot) * scale }
            for s in (row + 1)..<positions { dr[s] = 0 }
        }
        // dq[t] = Σ_s dscores[t, s] k[s];  dk[s] = Σ_t dscores[t, s] q[t]
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t, dh, t, 1, dp, t, k + offset, ld, 0, dq + offset, ldGradient)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, t, dh, t, 1, dp, t, q + offset, ld, 0, dk + offset, ldGradient)
    }
}

/// Backward of the token and position embeddings, `resid_pre0[b, t] = W_E[tokens[b, t]] + W_pos[t]`:
/// accumulates into the embeddings' gradients (zero them first).
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
