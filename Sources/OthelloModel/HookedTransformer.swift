import Foundation
import WorkbenchSupport

/// The Othello-GPT transformer, numerically the same as TransformerLens' `HookedTransformer` for the same
/// weights: token and position embeddings, `nLayers` pre-norm blocks (attention, then an MLP), a final
/// layer norm and the unembedding.
///
/// The weights live in one flat buffer (`parameters`, TransformerLens names and shapes). `forward` runs the
/// kernels of `Kernels` over an `ActivationArena`; caching and hooks are built on its `visit` callback.
///
///     let model = HookedTransformer.random(config: .othelloGPT, seed: 1)
///     let arena = ActivationArena(config: model.config, maxBatch: 1, mode: .inference)
///     try model.forward(tokens: tokens, batch: 1, positions: 59, into: arena)
///     let logits = Tensor(shape: [1, 59, 61], copying: arena.logits)
public struct HookedTransformer {
    public let parameters: ModelParameters
    public var config: ModelConfig { parameters.config }

    public init(parameters: ModelParameters) {
        self.parameters = parameters
    }

    /// A model with seeded random weights (`ModelParameters.randomize`), for tests and benchmarks.
    public static func random(config: ModelConfig, seed: UInt64, std: Float = 0.02) -> HookedTransformer {
        let parameters = ModelParameters(config: config)
        parameters.randomize(seed: seed, std: std)
        return HookedTransformer(parameters: parameters)
    }

    /// What a forward pass computes beyond the blocks.
    public struct ForwardOptions {
        /// Run only blocks `0..<stopAtLayer` and stop (TransformerLens `stop_at_layer`); nil runs everything.
        public var stopAtLayer: Int?
        /// Compute the per-head results (`hook_result`); off by default like TransformerLens' `use_attn_result`.
        public var computeResult: Bool
        /// Compute the final layer norm and the logits (ignored with `stopAtLayer`).
        public var computeLogits: Bool

        public init(stopAtLayer: Int? = nil, computeResult: Bool = false, computeLogits: Bool = true) {
            self.stopAtLayer = stopAtLayer
            self.computeResult = computeResult
            self.computeLogits = computeLogits
        }
    }

    /// Called at every hook point in forward order with a live view of the activation; it may read or
    /// change it. Used by run-with-cache and run-with-hooks.
    public typealias Visitor = (Activation) throws -> Void

    /// Runs the model on `tokens` (`batch × positions` token ids, row-major, each in `0..<d_vocab`),
    /// leaving every activation in `arena` (all blocks in `.training` mode, the last block in `.inference` mode).
    ///
    /// `visit`, when given, is called at each hook point right after its activation is computed and before
    /// anything reads it, exactly where TransformerLens' `HookPoint`s sit.
    public func forward(
        tokens: [Int32], batch B: Int, positions T: Int, into arena: ActivationArena,
        options: ForwardOptions = ForwardOptions(), visit: Visitor? = nil
    ) throws {
        let config = self.config
        guard arena.config == config else { throw WorkbenchError("forward: the activation arena was made for another model configuration") }
        guard B >= 1, B <= arena.maxBatch, T >= 1, T <= arena.maxPositions else {
            throw WorkbenchError("forward: batch \(B) × positions \(T) does not fit the arena (at most \(arena.maxBatch) × \(arena.maxPositions), n_ctx \(config.nCtx))")
        }
        guard tokens.count == B * T else {
            throw WorkbenchError("forward: \(tokens.count) tokens given for batch \(B) × positions \(T)")
        }
        for (i, token) in tokens.enumerated() where token < 0 || Int(token) >= config.dVocab {
            throw WorkbenchError("forward: token \(token) at game \(i / T), position \(i % T) is outside the vocabulary 0..<\(config.dVocab)")
        }
        let stop = min(options.stopAtLayer ?? config.nLayers, config.nLayers)
        guard stop >= 0 else { throw WorkbenchError("forward: stop_at_layer \(stop) must be between 0 and \(config.nLayers)") }

        arena.batch = B
        arena.positions = T
        tokens.withUnsafeBufferPointer { arena.tokens.update(from: $0.baseAddress!, count: B * T) }

        let (C, H, D, M, V) = (config.dModel, config.nHeads, config.dHead, config.dMLP, config.dVocab)
        let rows = B * T
        let eps = config.eps
        let w = parameters
        func hook(_ kind: HookPoint.Kind, _ layer: Int? = nil) throws {
            if let visit { try visit(arena.activation(HookPoint(kind, layer: layer))) }
        }

        // Embeddings: resid_pre of block 0 = W_E[token] + W_pos[position].
        Kernels.embeddingForward(embed: arena.embed, posEmbed: arena.posEmbed, tokens: arena.tokens,
                                 W_E: w.base + w.layout.W_E, W_pos: w.base + w.layout.W_pos, batch: B, positions: T, dModel: C)
        try hook(.embed)
        try hook(.posEmbed)
        var residual = UnsafePointer(arena.embed)   // the stream entering the next block
        var residualIsEmbedding = true

        for layer in 0..<stop {
            let a = arena.layer(layer)
            let p = w.block(layer)
            if residualIsEmbedding {
                Kernels.addForward(out: a.residPre, a: arena.embed, b: arena.posEmbed, count: rows * C)
                residualIsEmbedding = false
            } else if residual != UnsafePointer(a.residPre) {
                a.residPre.update(from: residual, count: rows * C)
            }
            try hook(.residPre, layer)

            // Attention: ln1 → q, k, v → causal scores → pattern → z → attn_out.
            Kernels.layerNormScaleForward(scale: a.ln1Scale, input: a.residPre, rows: rows, dim: C, eps: eps)
            try hook(.ln1Scale, layer)
            Kernels.layerNormNormalizeForward(normalized: a.ln1Normalized, input: a.residPre, scale: a.ln1Scale, rows: rows, dim: C)
            try hook(.ln1Normalized, layer)
            if let weight = p.ln1_w, let bias = p.ln1_b {
                Kernels.layerNormAffineForward(out: a.ln1Out, normalized: a.ln1Normalized, weight: weight, bias: bias, rows: rows, dim: C)
            }
            Kernels.headLinearForward(out: a.q, input: a.ln1Out, weight: p.W_Q, bias: p.b_Q, rows: rows, dModel: C, nHeads: H, dHead: D)
            try hook(.q, layer)
            Kernels.headLinearForward(out: a.k, input: a.ln1Out, weight: p.W_K, bias: p.b_K, rows: rows, dModel: C, nHeads: H, dHead: D)
            try hook(.k, layer)
            Kernels.headLinearForward(out: a.v, input: a.ln1Out, weight: p.W_V, bias: p.b_V, rows: rows, dModel: C, nHeads: H, dHead: D)
            try hook(.v, layer)
            Kernels.attentionScoresForward(scores: a.attnScores, q: a.q, k: a.k, batch: B, positions: T, nHeads: H, dHead: D)
            try hook(.attnScores, layer)
            Kernels.softmaxForward(pattern: a.pattern, scores: a.attnScores, rows: B * H * T, dim: T)
            try hook(.pattern, layer)
            Kernels.attentionValuesForward(z: a.z, pattern: a.pattern, v: a.v, batch: B, positions: T, nHeads: H, dHead: D)
            try hook(.z, layer)
            if options.computeResult {
                Kernels.attentionResultForward(result: arena.result, z: a.z, W_O: p.W_O, rows: rows, dModel: C, nHeads: H, dHead: D)
                try hook(.result, layer)
                Kernels.sumHeadsForward(out: a.attnOut, result: arena.result, bias: p.b_O, rows: rows, dModel: C, nHeads: H)
            } else {
                Kernels.linearForward(out: a.attnOut, input: a.z, weight: p.W_O, bias: p.b_O, rows: rows, inDim: H * D, outDim: C)
            }
            try hook(.attnOut, layer)
            Kernels.addForward(out: a.residMid, a: a.residPre, b: a.attnOut, count: rows * C)
            try hook(.residMid, layer)

            // MLP: ln2 → W_in → gelu → W_out.
            Kernels.layerNormScaleForward(scale: a.ln2Scale, input: a.residMid, rows: rows, dim: C, eps: eps)
            try hook(.ln2Scale, layer)
            Kernels.layerNormNormalizeForward(normalized: a.ln2Normalized, input: a.residMid, scale: a.ln2Scale, rows: rows, dim: C)
            try hook(.ln2Normalized, layer)
            if let weight = p.ln2_w, let bias = p.ln2_b {
                Kernels.layerNormAffineForward(out: a.ln2Out, normalized: a.ln2Normalized, weight: weight, bias: bias, rows: rows, dim: C)
            }
            Kernels.linearForward(out: a.mlpPre, input: a.ln2Out, weight: p.W_in, bias: p.b_in, rows: rows, inDim: C, outDim: M)
            try hook(.mlpPre, layer)
            Kernels.geluForward(out: a.mlpPost, input: a.mlpPre, count: rows * M)
            try hook(.mlpPost, layer)
            Kernels.linearForward(out: a.mlpOut, input: a.mlpPost, weight: p.W_out, bias: p.b_out, rows: rows, inDim: M, outDim: C)
            try hook(.mlpOut, layer)
            Kernels.addForward(out: a.residPost, a: a.residMid, b: a.mlpOut, count: rows * C)
            try hook(.residPost, layer)
            residual = UnsafePointer(a.residPost)
        }

        guard stop == config.nLayers, options.computeLogits else { return }
        if residualIsEmbedding {   // a model without blocks
            Kernels.addForward(out: arena.lnFinalNormalized, a: arena.embed, b: arena.posEmbed, count: rows * C)
            residual = UnsafePointer(arena.lnFinalNormalized)
        }
        Kernels.layerNormScaleForward(scale: arena.lnFinalScale, input: residual, rows: rows, dim: C, eps: eps)
        try hook(.lnFinalScale)
        Kernels.layerNormNormalizeForward(normalized: arena.lnFinalNormalized, input: residual, scale: arena.lnFinalScale, rows: rows, dim: C)
        try hook(.lnFinalNormalized)
        if let weight = w.layout.lnFinal_w, let bias = w.layout.lnFinal_b {
            Kernels.layerNormAffineForward(out: arena.lnFinalOut, normalized: arena.lnFinalNormalized,
                                           weight: w.base + weight, bias: w.base + bias, rows: rows, dim: C)
        }
        try hook(.unembedIn)
        Kernels.linearForward(out: arena.logits, input: arena.lnFinalOut, weight: w.base + w.layout.W_U,
                              bias: w.base + w.layout.b_U, rows: rows, inDim: C, outDim: V)
        try hook(.unembedOut)
    }
}
