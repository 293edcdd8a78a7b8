import OthelloModel
@testable import OthelloTraining
import XCTest

/// Each backward kernel against finite differences of the model's own forward kernel.
final class LayerBackwardTests: XCTestCase {
    func testLinearBackward() {
        let (rows, inDim, outDim) = (7, 5, 3)
        let x = Buffer(gaussian(rows * inDim, seed: 1)), w = Buffer(gaussian(inDim * outDim, seed: 2))
        let b = Buffer(gaussian(outDim, seed: 3)), out = Buffer(zeros: rows * outDim)
        let r = gaussian(rows * outDim, seed: 4)
        func loss() -> Double {
            Kernels.linearForward(out: out.pointer, input: x.pointer, weight: w.pointer, bias: b.pointer, rows: rows, inDim: inDim, outDim: outDim)
            return weightedSum(out.pointer, r)
        }
        let dx = Buffer(zeros: rows * inDim), dw = Buffer(zeros: inDim * outDim), db = Buffer(zeros: outDim)
        linearBackward(dinp: dx.pointer, dweight: dw.pointer, dbias: db.pointer, dout: r, inp: x.pointer, weight: w.pointer,
                       rows: rows, inDim: inDim, outDim: outDim)
        checkGradient("x", values: x.pointer, count: x.count, analytic: dx.array, tolerance: 1e-3, loss: loss)
        checkGradient("W", values: w.pointer, count: w.count, analytic: dw.array, tolerance: 1e-3, loss: loss)
        checkGradient("b", values: b.pointer, count: b.count, analytic: db.array, tolerance: 1e-3, loss: loss)
    }

    func testAttentionProjectionsBackward() {
        // q, k, v[r, h, :] = x[r, :] · W[h] + b[h] for three weights, backward all at once from dq, dk, dv side by side.
        let (rows, C, H, D) = (6, 8, 2, 4)
        let x = Buffer(gaussian(rows * C, seed: 1))
        let w = (0..<3).map { Buffer(gaussian(H * C * D, seed: 2 + UInt64($0))) }
        let b = (0..<3).map { Buffer(gaussian(H * D, seed: 5 + UInt64($0))) }
        let out = (0..<3).map { _ in Buffer(zeros: rows * H * D) }
        let r = (0..<3).map { gaussian(rows * H * D, seed: 8 + UInt64($0)) }
        func loss() -> Double {
            (0..<3).reduce(0.0) { total, p in
                Kernels.headLinearForward(out: out[p].pointer, input: x.pointer, weight: w[p].pointer, bias: b[p].pointer,
                                          rows: rows, dModel: C, nHeads: H, dHead: D)
                return total + weightedSum(out[p].pointer, r[p])
            }
        }
        var dqkv = [Float](repeating: 0, count: rows * 3 * H * D)
        for row in 0..<rows {
            for p in 0..<3 { for i in 0..<(H * D) { dqkv[row * 3 * H * D + p * H * D + i] = r[p][row * H * D + i] } }
        }
        let packed = Buffer(zeros: C * 3 * H * D), scratch = Buffer(zeros: C * 3 * H * D)
        packAttentionWeights(into: packed.pointer, W_Q: w[0].pointer, W_K: w[1].pointer, W_V: w[2].pointer, dModel: C, nHeads: H, dHead: D)
        let dx = Buffer(gaussian(rows * C, seed: 20))   // overwritten, not accumulated into
        let dw = (0..<3).map { _ in Buffer(gaussian(H * C * D, seed: 21)) }, db = (0..<3).map { _ in Buffer(gaussian(H * D, seed: 22)) }
        attentionProjectionsBackward(dinp: dx.pointer, dW_Q: dw[0].pointer, db_Q: db[0].pointer, dW_K: dw[1].pointer, db_K: db[1].pointer,
                                     dW_V: dw[2].pointer, db_V: db[2].pointer, dqkv: dqkv, inp: x.pointer, packedWeights: packed.pointer,
                                     scratch: scratch.pointer, rows: rows, dModel: C, nHeads: H, dHead: D)
        checkGradient("x", values: x.pointer, count: x.count, analytic: dx.array, samples: 24, tolerance: 1e-3, loss: loss)
        for (p, name) in ["Q", "K", "V"].enumerated() {
            checkGradient("W_\(name)", values: w[p].pointer, count: w[p].count, analytic: dw[p].array, samples: 24, tolerance: 1e-3, loss: loss)
            checkGradient("b_\(name)", values: b[p].pointer, count: b[p].count, analytic: db[p].array, tolerance: 1e-3, loss: loss)
        }
    }

    func testLayerNormPreBackward() {
        let (rows, C) = (5, 16)
        let x = Buffer(gaussian(rows * C, seed: 1, std: 2)), scale = Buffer(zeros: rows), normalized = Buffer(zeros: rows * C)
        let r = gaussian(rows * C, seed: 2)
        func loss() -> Double {
            Kernels.layerNormScaleForward(scale: scale.pointer, input: x.pointer, rows: rows, dim: C, eps: 1e-5)
            Kernels.layerNormNormalizeForward(normalized: normalized.pointer, input: x.pointer, scale: scale.pointer,
                                              rows: rows, dim: C)
            return weightedSum(normalized.pointer, r)
        }
        _ = loss()
        let dx = Buffer(zeros: rows * C)
        layerNormPreBackward(dinp: dx.pointer, dout: r, normalized: normalized.pointer, scale: scale.pointer, rows: rows, width: C)
        checkGradient("x", values: x.pointer, count: x.count, analytic: dx.array, samples: 40, h: 1e-2, tolerance: 5e-3, loss: loss)
    }

    func testGeluBackward() {
        let count = 64
        var values = gaussian(count, seed: 1, std: 2)
        values[0] = 0   // Φ(0) = 1/2 cannot come from out / x
        let x = Buffer(values), y = Buffer(zeros: count)
        let r = gaussian(count, seed: 2)
        func loss() -> Double {
            Kernels.geluForward(out: y.pointer, input: x.pointer, count: count)
            return weightedSum(y.pointer, r)
        }
        _ = loss()
        let dx = Buffer(zeros: count)
        geluBackward(dinp: dx.pointer, dout: r, inp: x.pointer, out: y.pointer, count: count)
        checkGradient("x", values: x.pointer, count: count, analytic: dx.array, samples: count, h: 1e-2, tolerance: 2e-3, loss: loss)
    }

    func testAttentionBackward() {
        let (T, H, D) = (7, 2, 4)
        let q = Buffer(gaussian(T * H * D, seed: 1)), k = Buffer(gaussian(T * H * D, seed: 2)), v = Buffer(gaussian(T * H * D, seed: 3))
        let scores = Buffer(zeros: H * T * T), pattern = Buffer(zeros: H * T * T), z = Buffer(zeros: T * H * D)
        let r = gaussian(T * H * D, seed: 4)
        func loss() -> Double {
            Kernels.attentionScoresForward(scores: scores.pointer, q: q.pointer, k: k.pointer, batch: 1, positions: T, nHeads: H, dHead: D)
            Kernels.softmaxForward(pattern: pattern.pointer, scores: scores.pointer, rows: H * T, dim: T)
            Kernels.attentionValuesForward(z: z.pointer, pattern: pattern.pointer, v: v.pointer, batch: 1, positions: T, nHeads: H, dHead: D)
            return weightedSum(z.pointer, r)
        }
        _ = loss()
        let dq = Buffer(zeros: q.count), dk = Buffer(zeros: k.count), dv = Buffer(zeros: v.count), scratch = Buffer(zeros: T * (T + D))
        attentionBackward(dq: dq.pointer, dk: dk.pointer, dv: dv.pointer, gradientStride: H * D, dz: r, q: q.pointer, k: k.pointer, v: v.pointer,
                          pattern: pattern.pointer, scratch: scratch.pointer, positions: T, heads: H, headDim: D)
        checkGradient("q", values: q.pointer, count: q.count, analytic: dq.array, samples: 30, tolerance: 5e-3, loss: loss)
        checkGradient("k", values: k.pointer, count: k.count, analytic: dk.array, samples: 30, tolerance: 5e-3, loss: loss)
        checkGradient("v", values: v.pointer, count: v.count, analytic: dv.array, samples: 30, tolerance: 5e-3, loss: loss)
    }

    func testEmbeddingBackward() {
        let (B, T, C, V) = (2, 3, 4, 5)
        let tokens: [Int32] = [1, 4, 1, 0, 2, 4]
        let wE = Buffer(gaussian(V * C, seed: 1)), wPos = Buffer(gaussian(T * C, seed: 2))
        let embed = Buffer(zeros: B * T * C), pos = Buffer(zeros: B * T * C)
        let r = gaussian(B * T * C, seed: 3)
        func loss() -> Double {
            Kernels.embeddingForward(embed: embed.pointer, posEmbed: pos.pointer, tokens: tokens, W_E: wE.pointer, W_pos: wPos.pointer,
                                     batch: B, positions: T, dModel: C)
            return weightedSum(embed.pointer, r) + weightedSum(pos.pointer, r)
        }
        let dE = Buffer(zeros: wE.count), dPos = Buffer(zeros: wPos.count)
        embeddingBackward(dtokenEmbedding: dE.pointer, dpositionEmbedding: dPos.pointer, dout: r, tokens: tokens, batch: B, positions: T, width: C)
        checkGradient("W_E", values: wE.pointer, count: wE.count, analytic: dE.array, samples: 20, tolerance: 1e-3, loss: loss)
        checkGradient("W_pos", values: wPos.pointer, count: wPos.count, analytic: dPos.array, samples: 12, tolerance: 1e-3, loss: loss)
        // Token 3 never occurs: its row gets no gradient.
        XCTAssertEqual(Array(dE.array[(3 * C)..<(4 * C)]), [0, 0, 0, 0])
    }

    func testCrossEntropyIgnoresPaddingAndMatchesFiniteDifferences() {
        let (rows, V) = (4, 6)
        let logits = Buffer(gaussian(rows * V, seed: 1, std: 2))
        let targets: [Int32] = [3, 0, 5, 1]     // row 1 is padding
        let dlogits = Buffer(zeros: rows * V)
        func loss() -> Double {
            crossEntropyForwardBackward(dlogits: dlogits.pointer, logits: logits.pointer, targets: targets, rows: rows, vocab: V, weight: 1 / 3)
        }
        let value = loss()
        let analytic = dlogits.array
        // The mean of -log softmax over the three counted rows, computed directly.
        var expected = 0.0
        for row in [0, 2, 3] {
            let z = (0..<V).map { Double(logits.pointer[row * V + $0]) }
            expected += log(z.map { exp($0) }.reduce(0, +)) - z[Int(targets[row])]
        }
        XCTAssertEqual(value, expected / 3, accuracy: 1e-5)
        XCTAssertEqual(Array(analytic[V..<(2 * V)]), [Float](repeating: 0, count: V))
        checkGradient("logits", values: logits.pointer, count: logits.count, analytic: analytic, samples: 24, tolerance: 2e-3, loss: loss)
    }
}

final class FastExpTests: XCTestCase {
    /// A diverging run must end in a clear error, not a trap: the forward's softmax and the GELU backward
    /// take exp of whatever the weights produce, NaN included.
    func testExpFastPassesNaNThrough() {
        XCTAssertTrue(Kernels.expFast(.nan).isNaN)
        XCTAssertEqual(Kernels.expFast(-200), 0, accuracy: 1e-37)
        XCTAssertEqual(Kernels.expFast(1), Float(M_E), accuracy: 1e-6)
    }
}
