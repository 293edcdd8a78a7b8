import Foundation
import OthelloModel
import WorkbenchSupport

/// The working memory of one forward + backward pass over a shard of a batch: the activation arena
/// (training mode, every block kept), the shard's own gradient buffer (every weight's gradient is
/// written by the backward pass, so it needs no zeroing) and the gradient scratch buffers.
///
/// A batch is split into shards of a fixed number of games, each processed on its own (in parallel)
/// into its own gradients, which are then summed in shard order — so a step gives the same result on
/// any number of threads.
final class ShardWorkspace: @unchecked Sendable {
    let config: ModelConfig
    let positions: Int
    let arena: ActivationArena
    let gradients: ModelParameters
    /// The shard's input tokens `[games, positions]` and next-move targets (0 = not counted).
    var tokens: [Int32]
    var targets: [Int32]

    // Gradient scratch, `rows = maxGames · positions`.
    private let dlogits: UnsafeMutablePointer<Float>     // [rows, d_vocab]
    private let dresidual: UnsafeMutablePointer<Float>   // [rows, C]: d loss / d (the residual stream here)
    private let dnormalized: UnsafeMutablePointer<Float> // [rows, C]: d loss / d (a layer norm's output)
    private let dz: UnsafeMutablePointer<Float>          // [rows, H·D]
    private let dqkv: UnsafeMutablePointer<Float>        // [rows, 3·H·D]: dq, dk, dv side by side
    private let dmlpPost, dmlpPre: UnsafeMutablePointer<Float> // [rows, M]
    private let attentionScratch: UnsafeMutablePointer<Float> // [T, T] dpattern and [D, T] vᵀ (attentionBackward's scratch)
    private let dpacked: UnsafeMutablePointer<Float>     // [C, 3·H·D]: the packed projections' gradient
    private let scratch: UnsafeMutablePointer<Float>
    private let scratchCount: Int

    init(config: ModelConfig, maxGames: Int, positions: Int) {
        self.config = config
        self.positions = positions
        arena = ActivationArena(config: config, maxBatch: maxGames, maxPositions: positions, mode: .training)
        gradients = ModelParameters(config: config)
        tokens = [Int32](repeating: 0, count: maxGames * positions)
        targets = tokens
        let rows = maxGames * positions
        let (C, M, V, T) = (config.dModel, config.dMLP, config.dVocab, positions)
        scratchCount = Self.scratchCount(config: config, maxGames: maxGames, positions: positions)
        scratch = .allocate(capacity: scratchCount)
        scratch.initialize(repeating: 0, count: scratchCount)
        var next = scratch
        func take(_ count: Int) -> UnsafeMutablePointer<Float> { defer { next += count }; return next }
        dlogits = take(rows * V)
        dresidual = take(rows * C); dnormalized = take(rows * C)
        dz = take(rows * C); dqkv = take(3 * rows * C)
        dmlpPost = take(rows * M); dmlpPre = take(rows * M)
        attentionScratch = take(T * (T + config.dHead)); dpacked = take(3 * C * C)
    }

    deinit { scratch.deallocate() }

    /// Floats of gradient scratch for `maxGames` games of `positions`.
    private static func scratchCount(config: ModelConfig, maxGames: Int, positions T: Int) -> Int {
        let (C, M, V) = (config.dModel, config.dMLP, config.dVocab)
        return maxGames * T * (V + 6 * C + 2 * M) + T * (T + config.dHead) + 3 * C * C
    }

    /// The bytes a workspace for `maxGames` games of `positions` holds: activations, gradients, scratch, tokens.
    static func byteCount(config: ModelConfig, maxGames: Int, positions: Int) -> Int {
        let floats = ActivationArena.floatCount(config: config, maxBatch: maxGames, maxPositions: positions, mode: .training)
            + ParameterLayout(config: config).count + scratchCount(config: config, maxGames: maxGames, positions: positions)
        return floats * MemoryLayout<Float>.size + 2 * maxGames * positions * MemoryLayout<Int32>.size
    }

    /// Runs the model forward on the shard's `games` games and back-propagates the cross-entropy of
    /// the next move, each counted position weighted by `lossWeight` (1 / counted positions of the
    /// whole batch). Overwrites `gradients`. Returns the shard's summed (weighted) loss.
    /// `packedAttention` holds each block's `packAttentionWeights`, `[L, C, 3·H·D]`.
    func forwardBackward(model: HookedTransformer, packedAttention: UnsafePointer<Float>, games: Int, lossWeight: Float) throws -> Double {
        let T = positions
        try model.forward(tokens: Array(tokens[0..<(games * T)]), batch: games, positions: T, into: arena,
                          options: .init(threads: 1))   // this shard is one thread's work
        let loss = targets.withUnsafeBufferPointer { targets in
            crossEntropyForwardBackward(dlogits: dlogits, logits: arena.logits, targets: targets.baseAddress!,
                                        rows: games * T, vocab: config.dVocab, weight: lossWeight)
        }
        backward(weights: model.parameters, packedAttention: packedAttention, games: games)
        return loss
    }

    /// The backward pass through the whole model, from `dlogits` to the embeddings, in the reverse
    /// order of `HookedTransformer.forward` (LNPre blocks: the layer norms have no weights).
    private func backward(weights w: ModelParameters, packedAttention: UnsafePointer<Float>, games B: Int) {
        let T = positions, rows = B * T
        let (C, H, D, M, V) = (config.dModel, config.nHeads, config.dHead, config.dMLP, config.dVocab)
        let g = gradients, layout = w.layout
        let a = arena

        // Unembedding and the final layer norm; dresidual starts the residual stream's gradient.
        linearBackward(dinp: dnormalized, dweight: g.base + layout.W_U, dbias: g.base + layout.b_U, dout: dlogits,
                       inp: a.lnFinalNormalized, weight: w.base + layout.W_U, rows: rows, inDim: C, outDim: V)
        dresidual.update(repeating: 0, count: rows * C)
        layerNormPreBackward(dinp: dresidual, dout: dnormalized, normalized: a.lnFinalNormalized, scale: a.lnFinalScale,
                             rows: rows, width: C)

        for layer in stride(from: config.nLayers - 1, through: 0, by: -1) {
            let act = a.layer(layer), p = w.block(layer), dp = g.block(layer)
            // dresidual is d resid_post. MLP: resid_post = resid_mid + W_out·gelu(W_in·LN(resid_mid) + b_in) + b_out
            // (an attention-only block has none: d resid_post is d resid_mid).
            if !config.attnOnly {
                linearBackward(dinp: dmlpPost, dweight: dp.W_out, dbias: dp.b_out, dout: dresidual,
                               inp: act.mlpPost, weight: p.W_out, rows: rows, inDim: M, outDim: C)
                geluBackward(dinp: dmlpPre, dout: dmlpPost, inp: act.mlpPre, out: act.mlpPost, count: rows * M)
                linearBackward(dinp: dnormalized, dweight: dp.W_in, dbias: dp.b_in, dout: dmlpPre,
                               inp: act.ln2Normalized, weight: p.W_in, rows: rows, inDim: C, outDim: M)
                layerNormPreBackward(dinp: dresidual, dout: dnormalized, normalized: act.ln2Normalized, scale: act.ln2Scale,
                                     rows: rows, width: C)
            }

            // dresidual is d resid_mid. Attention: resid_mid = resid_pre + z·W_O + b_O (W_O as [H·D, C]).
            linearBackward(dinp: dz, dweight: dp.W_O, dbias: dp.b_O, dout: dresidual,
                           inp: act.z, weight: p.W_O, rows: rows, inDim: H * D, outDim: C)
            for game in 0..<B {
                let offset = game * T * C
                attentionBackward(dq: dqkv + 3 * offset, dk: dqkv + 3 * offset + C, dv: dqkv + 3 * offset + 2 * C, gradientStride: 3 * C,
                                  dz: dz + offset, q: act.q + offset, k: act.k + offset, v: act.v + offset,
                                  pattern: act.pattern + game * H * T * T, scratch: attentionScratch,
                                  positions: T, heads: H, headDim: D)
            }
            // q, k, v = LN(resid_pre) · W[h] + b[h] for every head.
            attentionProjectionsBackward(dinp: dnormalized, dW_Q: dp.W_Q, db_Q: dp.b_Q, dW_K: dp.W_K, db_K: dp.b_K,
                                         dW_V: dp.W_V, db_V: dp.b_V, dqkv: dqkv, inp: act.ln1Normalized,
                                         packedWeights: packedAttention + layer * 3 * C * C, scratch: dpacked,
                                         rows: rows, dModel: C, nHeads: H, dHead: D)
            layerNormPreBackward(dinp: dresidual, dout: dnormalized, normalized: act.ln1Normalized, scale: act.ln1Scale,
                                 rows: rows, width: C)
            // dresidual is d resid_pre.
        }

        // resid_pre of block 0 = W_E[token] + W_pos[position].
        (g.base + layout.W_E).update(repeating: 0, count: V * C)
        (g.base + layout.W_pos).update(repeating: 0, count: config.nCtx * C)
        embeddingBackward(dtokenEmbedding: g.base + layout.W_E, dpositionEmbedding: g.base + layout.W_pos,
                          dout: dresidual, tokens: a.tokens, batch: B, positions: T, width: C)
    }
}
