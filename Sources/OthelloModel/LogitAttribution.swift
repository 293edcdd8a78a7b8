import WorkbenchSupport

/// Direct logit attribution on the activation cache, as TransformerLens' `ActivationCache` has it: what a
/// component of the residual stream writes onto the logits, read through the final layer norm with the scale the
/// run cached (`ln_final.hook_scale`) and the unembedding — written once, used by `attribution`, the edit effects
/// and the circuit.
///
/// A component `x` (a `d_model` vector at one game and position) writes `apply_ln(x) · W_U[:, token]` onto the
/// logit of `token`, where `apply_ln(x) = (x − mean(x)) / scale · ln_final.w` (models without layer-norm weights,
/// such as the published LNPre ones: no `· ln_final.w`). Over a decomposition of the final residual stream
/// (`decomposeResidual`) these attributions sum to the logits minus `b_U` (and minus the layer norm's `b`).
///
///     let cache = try model.runWithCache(tokens: tokens, games: 1, positions: T,
///                                        names: LogitAttribution.cacheNames(config: model.config) + heads)
///     let dla = try LogitAttribution(model: model, cache: cache)
///     let (labels, stack) = try cache.stackHeadResults(game: 0, position: T - 1)
///     let attrs = dla.logitAttributions(stack, game: 0, position: T - 1, tokens: [token])   // [head][1]
public struct LogitAttribution {
    private let model: HookedTransformer
    private let scale: [Float]
    private let positions: Int
    private let W_U: UnsafePointer<Float>
    private let lnWeight: UnsafePointer<Float>?

    /// The hook points a run must cache for the attribution itself: `ln_final.hook_scale`.
    public static let cachedPoints = [HookPoint(.lnFinalScale)]

    /// The attribution of `model` on the run that made `cache` (which must hold `ln_final.hook_scale`).
    public init(model: HookedTransformer, cache: ActivationCache) throws {
        self.model = model
        scale = try cache.values(HookPoint(.lnFinalScale))
        positions = cache.positions
        let w = model.parameters
        W_U = UnsafePointer(w.base + w.layout.W_U)
        lnWeight = w.layout.lnFinal_w.map { UnsafePointer(w.base + $0) }
    }

    private var dModel: Int { model.config.dModel }
    private var dVocab: Int { model.config.dVocab }

    /// TransformerLens' `apply_ln_to_stack` at one position: each `d_model` row of `stack` centred, divided by the
    /// cached final scale at (`game`, `position`), times `ln_final.w` in models with layer-norm weights.
    public func applyFinalLayerNorm(_ stack: [Float], game: Int, position: Int) -> [Float] {
        let C = dModel
        var out = stack
        let s = scale[game * positions + position]
        for start in stride(from: 0, to: stack.count, by: C) {
            let mean = stack[start..<(start + C)].reduce(0, +) / Float(C)
            for i in 0..<C { out[start + i] = (stack[start + i] - mean) / s * (lnWeight?[i] ?? 1) }
        }
        return out
    }

    /// TransformerLens' `logit_attrs` at one position: each `d_model` row of `stack`'s attribution to the logit of
    /// each of `tokens` (`[row][token]`; all tokens by default).
    public func logitAttributions(_ stack: [Float], game: Int, position: Int, tokens: [Int]? = nil) -> [[Double]] {
        let C = dModel, V = dVocab
        let tokens = tokens ?? Array(0..<V)
        let normalized = applyFinalLayerNorm(stack, game: game, position: position)
        return stride(from: 0, to: stack.count, by: C).map { start in
            tokens.map { token in
                var total: Float = 0
                for i in 0..<C { total += normalized[start + i] * W_U[i * V + token] }
                return Double(total)
            }
        }
    }

    /// The attribution of one component `vector` to the mean logit of `tokens` (0 for no tokens): the circuit's and
    /// the edit effects' "towards these moves" score.
    public func meanLogitAttribution(_ vector: [Float], game: Int, position: Int, tokens: [Int]) -> Double {
        guard !tokens.isEmpty else { return 0 }
        return logitAttributions(vector, game: game, position: position, tokens: tokens)[0].reduce(0, +) / Double(tokens.count)
    }
}

extension ActivationCache {
    /// One `d_model` row of a cached `[games, positions, …, d_model]` activation.
    private func row(_ point: HookPoint, game: Int, position: Int, slot: Int = 0, slots: Int = 1, width: Int) throws -> ArraySlice<Float> {
        let values = try tensor(point).values
        let start = ((game * positions + position) * slots + slot) * width
        return values[start..<(start + width)]
    }

    /// TransformerLens' `decompose_resid` at one position: the embeddings, then `attn_out` and `mlp_out` of blocks
    /// 0 … `layer − 1` (all blocks by default), as a stack of `d_model` rows with TransformerLens' labels
    /// (`embed`, `pos_embed`, `0_attn_out`, `0_mlp_out`, …). They sum to `resid_pre` of block `layer`.
    public func decomposeResidual(layer: Int? = nil, game: Int, position: Int, config: ModelConfig) throws -> (labels: [String], stack: [Float]) {
        let C = config.dModel
        var labels = ["embed", "pos_embed"]
        var stack = Array(try row(HookPoint(.embed), game: game, position: position, width: C))
        stack += try row(HookPoint(.posEmbed), game: game, position: position, width: C)
        for l in 0..<(layer ?? config.nLayers) {
            labels += ["\(l)_attn_out", "\(l)_mlp_out"]
            stack += try row(HookPoint(.attnOut, layer: l), game: game, position: position, width: C)
            stack += try row(HookPoint(.mlpOut, layer: l), game: game, position: position, width: C)
        }
        return (labels, stack)
    }

    /// TransformerLens' `accumulated_resid` at one position: `resid_pre` of every block up to `layer` (all by
    /// default), then the final `resid_post` when all blocks are asked for (labels `0_pre`, …, `final_post`).
    public func accumulatedResidual(layer: Int? = nil, game: Int, position: Int, config: ModelConfig) throws -> (labels: [String], stack: [Float]) {
        let C = config.dModel, last = layer ?? config.nLayers
        var labels: [String] = [], stack: [Float] = []
        for l in 0..<min(last + 1, config.nLayers) {
            labels.append("\(l)_pre")
            stack += try row(HookPoint(.residPre, layer: l), game: game, position: position, width: C)
        }
        if last >= config.nLayers {
            labels.append("final_post")
            stack += try row(HookPoint(.residPost, layer: config.nLayers - 1), game: game, position: position, width: C)
        }
        return (labels, stack)
    }

    /// TransformerLens' `stack_head_results` at one position: every head's `attn.hook_result` of blocks 0 …
    /// `layer − 1` (all by default) as `d_model` rows, labelled `L0H0`, `L0H1`, ….
    public func stackHeadResults(layer: Int? = nil, game: Int, position: Int, config: ModelConfig) throws -> (labels: [String], stack: [Float]) {
        let (C, H) = (config.dModel, config.nHeads)
        var labels: [String] = [], stack: [Float] = []
        for l in 0..<(layer ?? config.nLayers) {
            for h in 0..<H {
                labels.append("L\(l)H\(h)")
                stack += try row(HookPoint(.result, layer: l), game: game, position: position, slot: h, slots: H, width: C)
            }
        }
        return (labels, stack)
    }
}
