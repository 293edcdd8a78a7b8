import Foundation
import WorkbenchSupport

/// The Othello-GPT transformer, numerically the same as TransformerLens' `HookedTransformer` for the same
/// weights: token and position embeddings, `nLayers` pre-norm blocks (attention, then an MLP unless the model is
/// attention-only), a final layer norm and the unembedding.
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

    /// A model running on `parameters` (shared, not copied: changing them changes the model).
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
        /// Threads for the element-wise kernels and the attention products (OpenBLAS threads the large products).
        public var threads: Int
        /// Hook points whose activations are written to the given memory instead of the arena (each pointer must
        /// hold the activation's `[batch, …]` floats). A run with cache passes its tensors' storage, so nothing is
        /// copied. The arena's buffers of these points are not written.
        public var outputs: [HookPoint: UnsafeMutablePointer<Float>]
        /// The hook points at which `visit` is called; nil calls it at every one. Naming only the points that
        /// need it lets the pass fuse kernels between the others (attention scores, softmax and values run
        /// game by game while the data is in cache).
        public var visitedPoints: Set<HookPoint>?

        public init(stopAtLayer: Int? = nil, computeResult: Bool = false, computeLogits: Bool = true,
                    threads: Int = Matmul.threads, outputs: [HookPoint: UnsafeMutablePointer<Float>] = [:],
                    visitedPoints: Set<HookPoint>? = nil) {
            self.stopAtLayer = stopAtLayer
            self.computeResult = computeResult
            self.computeLogits = computeLogits
            self.threads = threads
            self.outputs = outputs
            self.visitedPoints = visitedPoints
        }
    }

    /// Called at every hook point in forward order with a live view of the activation; it may read or
    /// change it. Used by run-with-cache and run-with-hooks.
    public typealias Visitor = (Activation) throws -> Void

    /// Runs the model on `tokens` (`batch × positions` token ids, row-major, each in `0..<d_vocab`),
    /// leaving every activation in `arena` (all blocks in `.training` mode, the last block in `.inference` mode),
    /// except those `options.outputs` places elsewhere.
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
        let threads = options.threads
        /// Runs `body(first, count)` over chunks of `count` rows in parallel.
        func parallel(_ count: Int, _ body: @escaping (Int, Int) -> Void) {
            Kernels.forEachRowChunk(rows: count, threads: threads, body)
        }
        /// A layer norm's scale, its hook, the normalized stream, its hook.
        func layerNorm(scale: UnsafeMutablePointer<Float>, normalized: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                       hooks: (scale: HookPoint.Kind, normalized: HookPoint.Kind), _ layer: Int?) throws {
            parallel(rows) { r, n in Kernels.layerNormScaleForward(scale: scale + r, input: input + r * C, rows: n, dim: C, eps: eps) }
            try hook(hooks.scale, layer, scale)
            parallel(rows) { r, n in
                Kernels.layerNormNormalizeForward(normalized: normalized + r * C, input: input + r * C, scale: scale + r, rows: n, dim: C)
            }
            try hook(hooks.normalized, layer, normalized)
        }
        func affine(out: UnsafeMutablePointer<Float>, normalized: UnsafePointer<Float>, weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?) {
            guard let weight, let bias else { return }
            parallel(rows) { r, n in
                Kernels.layerNormAffineForward(out: out + r * C, normalized: normalized + r * C, weight: weight, bias: bias, rows: n, dim: C)
            }
        }
        func add(out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) {
            parallel(rows) { r, n in Kernels.addForward(out: out + r * C, a: x + r * C, b: y + r * C, count: n * C) }
        }
        /// q, k or v: one sgemm per head for small batches; for large ones the weight is first packed into
        /// one [C, H·D] matrix (a copy of C·C floats, cheap beside the product) and multiplied at once.
        func headLinear(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>) {
            if rows >= Kernels.packedHeadsFromRows {
                Kernels.packHeads(arena.packedHeads, weight: weight, dModel: C, nHeads: H, dHead: D)
                Kernels.linearForward(out: out, input: input, weight: arena.packedHeads, bias: bias, rows: rows, inDim: C, outDim: H * D)
            } else {
                Kernels.headLinearForward(out: out, input: input, weight: weight, bias: bias, rows: rows, dModel: C, nHeads: H, dHead: D)
            }
        }
        let outputs = options.outputs
        /// Where the activation at a global (not per-block) hook point goes.
        func global(_ kind: HookPoint.Kind) -> UnsafeMutablePointer<Float> {
            outputs[HookPoint(kind)] ?? arena.pointer(for: HookPoint(kind))
        }
        let embed = global(.embed), posEmbed = global(.posEmbed)
        let lnFinalScale = global(.lnFinalScale), lnFinalNormalized = global(.lnFinalNormalized)
        // `unembed.hook_in`: for `LNPre` the normalized stream itself, unless it is to be written elsewhere.
        let lnFinalOut = outputs[HookPoint(.unembedIn)] ?? (config.hasLayerNormWeights ? arena.lnFinalOut : lnFinalNormalized)
        let logits = global(.unembedOut)
        func visits(_ kind: HookPoint.Kind, _ layer: Int?) -> Bool {
            visit != nil && (options.visitedPoints?.contains(HookPoint(kind, layer: layer)) ?? true)
        }
        func hook(_ kind: HookPoint.Kind, _ layer: Int? = nil, _ pointer: UnsafeMutablePointer<Float>) throws {
            guard let visit, visits(kind, layer) else { return }
            let point = HookPoint(kind, layer: layer)
            try visit(Activation(point: point, shape: point.shape(batch: B, positions: T, config: config), pointer: pointer))
        }
        func hook(_ kind: HookPoint.Kind, _ layer: Int, in a: LayerActivations) throws {
            try hook(kind, layer, a.pointer(for: kind))
        }

        // Embeddings: resid_pre of block 0 = W_E[token] + W_pos[position].
        Kernels.embeddingForward(embed: embed, posEmbed: posEmbed, tokens: arena.tokens,
                                 W_E: w.base + w.layout.W_E, W_pos: w.base + w.layout.W_pos, batch: B, positions: T, dModel: C)
        try hook(.embed, nil, embed)
        try hook(.posEmbed, nil, posEmbed)

        var previous: LayerActivations? = nil
        for layer in 0..<stop {
            let a = arena.layer(layer).redirected(layer: layer, to: outputs, hasLayerNormWeights: config.hasLayerNormWeights)
            let p = w.block(layer)
            // The block's input: the embeddings, or the previous block's output.
            if let previous {
                a.residPre.update(from: previous.residPost, count: rows * C)
            } else {
                add(out: a.residPre, embed, posEmbed)
            }
            previous = a
            try hook(.residPre, layer, in: a)

            // Attention: ln1 → q, k, v → causal scores → pattern → z → attn_out.
            try layerNorm(scale: a.ln1Scale, normalized: a.ln1Normalized, input: a.residPre, hooks: (.ln1Scale, .ln1Normalized), layer)
            affine(out: a.ln1Out, normalized: a.ln1Normalized, weight: p.ln1_w, bias: p.ln1_b)
            headLinear(out: a.q, input: a.ln1Out, weight: p.W_Q, bias: p.b_Q)
            try hook(.q, layer, in: a)
            headLinear(out: a.k, input: a.ln1Out, weight: p.W_K, bias: p.b_K)
            try hook(.k, layer, in: a)
            headLinear(out: a.v, input: a.ln1Out, weight: p.W_V, bias: p.b_V)
            try hook(.v, layer, in: a)
            let game = T * H * D, heads = H * T * T   // floats per game of q/k/v/z and of scores/pattern
            /// Scores, pattern and z of `n` games from game `b`.
            func scores(_ b: Int, _ n: Int) {
                Kernels.attentionScoresForward(scores: a.attnScores + b * heads, q: a.q + b * game, k: a.k + b * game,
                                               batch: n, positions: T, nHeads: H, dHead: D)
            }
            func pattern(_ b: Int, _ n: Int) {
                Kernels.softmaxForward(pattern: a.pattern + b * heads, scores: a.attnScores + b * heads, rows: n * H * T, dim: T)
            }
            func values(_ b: Int, _ n: Int) {
                Kernels.attentionValuesForward(z: a.z + b * game, pattern: a.pattern + b * heads, v: a.v + b * game,
                                               batch: n, positions: T, nHeads: H, dHead: D)
            }
            if visits(.attnScores, layer) || visits(.pattern, layer) {
                // Each step over the whole batch, so that the hooks see (and may change) complete activations.
                parallel(B, scores)
                try hook(.attnScores, layer, in: a)
                parallel(B, pattern)
                try hook(.pattern, layer, in: a)
                parallel(B, values)
            } else {
                // Game by game: one game's scores and pattern (H·T·T floats) stay in cache from one step to the next.
                parallel(B) { b, n in
                    for g in b..<(b + n) {
                        scores(g, 1)
                        Kernels.causalSoftmaxForward(pattern: a.pattern + g * heads, scores: a.attnScores + g * heads, heads: H, positions: T)
                        values(g, 1)
                    }
                }
            }
            try hook(.z, layer, in: a)
            if options.computeResult {
                let result = outputs[HookPoint(.result, layer: layer)] ?? arena.result
                Kernels.attentionResultForward(result: result, z: a.z, W_O: p.W_O, rows: rows, dModel: C, nHeads: H, dHead: D)
                try hook(.result, layer, result)
                parallel(rows) { r, n in
                    Kernels.sumHeadsForward(out: a.attnOut + r * C, result: result + r * H * C, bias: p.b_O, rows: n, dModel: C, nHeads: H)
                }
            } else {
                Kernels.linearForward(out: a.attnOut, input: a.z, weight: p.W_O, bias: p.b_O, rows: rows, inDim: H * D, outDim: C)
            }
            try hook(.attnOut, layer, in: a)
            if config.attnOnly {
                // An attention-only block: resid_post = resid_pre + attn_out, no resid_mid and no MLP.
                add(out: a.residPost, a.residPre, a.attnOut)
                try hook(.residPost, layer, in: a)
                continue
            }
            add(out: a.residMid, a.residPre, a.attnOut)
            try hook(.residMid, layer, in: a)

            // MLP: ln2 → W_in → gelu → W_out.
            try layerNorm(scale: a.ln2Scale, normalized: a.ln2Normalized, input: a.residMid, hooks: (.ln2Scale, .ln2Normalized), layer)
            affine(out: a.ln2Out, normalized: a.ln2Normalized, weight: p.ln2_w, bias: p.ln2_b)
            Kernels.linearForward(out: a.mlpPre, input: a.ln2Out, weight: p.W_in, bias: p.b_in, rows: rows, inDim: C, outDim: M)
            try hook(.mlpPre, layer, in: a)
            parallel(rows) { r, n in Kernels.geluForward(out: a.mlpPost + r * M, input: a.mlpPre + r * M, count: n * M) }
            try hook(.mlpPost, layer, in: a)
            Kernels.linearForward(out: a.mlpOut, input: a.mlpPost, weight: p.W_out, bias: p.b_out, rows: rows, inDim: M, outDim: C)
            try hook(.mlpOut, layer, in: a)
            add(out: a.residPost, a.residMid, a.mlpOut)
            try hook(.residPost, layer, in: a)
        }

        // Every configuration has at least one block (`ModelConfig.validate`), so `previous` is the last one.
        guard stop == config.nLayers, options.computeLogits, let residual = previous?.residPost else { return }
        try layerNorm(scale: lnFinalScale, normalized: lnFinalNormalized, input: residual,
                      hooks: (.lnFinalScale, .lnFinalNormalized), nil)
        if config.hasLayerNormWeights {
            affine(out: lnFinalOut, normalized: lnFinalNormalized,
                   weight: w.layout.lnFinal_w.map { UnsafePointer(w.base + $0) }, bias: w.layout.lnFinal_b.map { UnsafePointer(w.base + $0) })
        } else if lnFinalOut != lnFinalNormalized {
            lnFinalOut.update(from: lnFinalNormalized, count: rows * C)
        }
        try hook(.unembedIn, nil, lnFinalOut)
        Kernels.linearForward(out: logits, input: lnFinalOut, weight: w.base + w.layout.W_U,
                              bias: w.base + w.layout.b_U, rows: rows, inDim: C, outDim: V)
        try hook(.unembedOut, nil, logits)
    }
}
