import Foundation
import WorkbenchSupport

/// Pointers to the activations of one transformer block for a batch, each in its TransformerLens layout.
/// `B·T = rows`, `C = d_model`, `H·D = C`, `M = d_mlp`.
///
/// They point into an `ActivationArena`, except where a forward pass was told to write an activation
/// elsewhere (`ForwardOptions.outputs`, how a run with cache fills its tensors without copying).
public struct LayerActivations {
    /// `[B, T, C]` the block's input (`blocks.L.hook_resid_pre`).
    public internal(set) var residPre: UnsafeMutablePointer<Float>
    /// `[B, T, 1]` and `[B, T, C]`: `blocks.L.ln1.hook_scale`, `blocks.L.ln1.hook_normalized`.
    public internal(set) var ln1Scale, ln1Normalized: UnsafeMutablePointer<Float>
    /// `[B, T, H, D]` each: `blocks.L.attn.hook_q/k/v`.
    public internal(set) var q, k, v: UnsafeMutablePointer<Float>
    /// `[B, H, T, T]` each: `blocks.L.attn.hook_attn_scores` (-inf above the diagonal), `hook_pattern`.
    public internal(set) var attnScores, pattern: UnsafeMutablePointer<Float>
    /// `[B, T, H, D]`: `blocks.L.attn.hook_z`.
    public internal(set) var z: UnsafeMutablePointer<Float>
    /// `[B, T, C]` each: `blocks.L.hook_attn_out`, `blocks.L.hook_resid_mid`.
    public internal(set) var attnOut, residMid: UnsafeMutablePointer<Float>
    /// `[B, T, 1]` and `[B, T, C]`: `blocks.L.ln2.hook_scale`, `blocks.L.ln2.hook_normalized`.
    public internal(set) var ln2Scale, ln2Normalized: UnsafeMutablePointer<Float>
    /// `[B, T, M]` each: `blocks.L.mlp.hook_pre`, `blocks.L.mlp.hook_post`.
    public internal(set) var mlpPre, mlpPost: UnsafeMutablePointer<Float>
    /// `[B, T, C]` each: `blocks.L.hook_mlp_out`, `blocks.L.hook_resid_post`.
    public internal(set) var mlpOut, residPost: UnsafeMutablePointer<Float>
    /// `[B, T, C]` each: the layer norms' outputs `normalized · w + b`, which attention and the MLP read.
    /// The same memory as `ln1Normalized` / `ln2Normalized` for `LNPre` (no learned weights); not a hook point.
    public internal(set) var ln1Out, ln2Out: UnsafeMutablePointer<Float>

    /// Floats per block for `rows` token positions of `batch` games of `positions` tokens.
    static func floatCount(config: ModelConfig, batch B: Int, positions T: Int) -> Int {
        let rows = B * T
        let (C, H, M) = (config.dModel, config.nHeads, config.dMLP)
        let affine = config.hasLayerNormWeights ? 2 * rows * C : 0
        return rows * (C * 11 + 2 + M * 2) + 2 * B * H * T * T + affine
    }

    /// Carves the block's buffers out of `base` (which holds `floatCount` floats).
    init(base: UnsafeMutablePointer<Float>, config: ModelConfig, batch B: Int, positions T: Int) {
        let rows = B * T
        let (C, H, M) = (config.dModel, config.nHeads, config.dMLP)
        var next = base
        func take(_ count: Int) -> UnsafeMutablePointer<Float> { defer { next += count }; return next }
        residPre = take(rows * C)
        ln1Scale = take(rows); ln1Normalized = take(rows * C)
        q = take(rows * C); k = take(rows * C); v = take(rows * C)
        attnScores = take(B * H * T * T); pattern = take(B * H * T * T)
        z = take(rows * C)
        attnOut = take(rows * C); residMid = take(rows * C)
        ln2Scale = take(rows); ln2Normalized = take(rows * C)
        mlpPre = take(rows * M); mlpPost = take(rows * M)
        mlpOut = take(rows * C); residPost = take(rows * C)
        ln1Out = config.hasLayerNormWeights ? take(rows * C) : ln1Normalized
        ln2Out = config.hasLayerNormWeights ? take(rows * C) : ln2Normalized
        assert(next - base == Self.floatCount(config: config, batch: B, positions: T))
    }

    /// The buffer of a per-layer hook kind (`.result` lives in the arena, not here).
    func pointer(for kind: HookPoint.Kind) -> UnsafeMutablePointer<Float> {
        switch kind {
        case .residPre: return residPre
        case .ln1Scale: return ln1Scale
        case .ln1Normalized: return ln1Normalized
        case .q: return q
        case .k: return k
        case .v: return v
        case .attnScores: return attnScores
        case .pattern: return pattern
        case .z: return z
        case .attnOut: return attnOut
        case .residMid: return residMid
        case .ln2Scale: return ln2Scale
        case .ln2Normalized: return ln2Normalized
        case .mlpPre: return mlpPre
        case .mlpPost: return mlpPost
        case .mlpOut: return mlpOut
        case .residPost: return residPost
        default: preconditionFailure("LayerActivations: \(kind) is not an activation of a block's buffers")
        }
    }

    /// The same buffers, except that block `layer`'s hook points found in `outputs` are written there.
    /// For `LNPre` the layer norms' outputs stay the normalized streams, wherever those are.
    func redirected(layer: Int, to outputs: [HookPoint: UnsafeMutablePointer<Float>], hasLayerNormWeights: Bool) -> LayerActivations {
        guard !outputs.isEmpty else { return self }
        var a = self
        func place(_ kind: HookPoint.Kind, _ buffer: inout UnsafeMutablePointer<Float>) {
            if let pointer = outputs[HookPoint(kind, layer: layer)] { buffer = pointer }
        }
        place(.residPre, &a.residPre)
        place(.ln1Scale, &a.ln1Scale); place(.ln1Normalized, &a.ln1Normalized)
        place(.q, &a.q); place(.k, &a.k); place(.v, &a.v)
        place(.attnScores, &a.attnScores); place(.pattern, &a.pattern); place(.z, &a.z)
        place(.attnOut, &a.attnOut); place(.residMid, &a.residMid)
        place(.ln2Scale, &a.ln2Scale); place(.ln2Normalized, &a.ln2Normalized)
        place(.mlpPre, &a.mlpPre); place(.mlpPost, &a.mlpPost)
        place(.mlpOut, &a.mlpOut); place(.residPost, &a.residPost)
        if !hasLayerNormWeights {
            a.ln1Out = a.ln1Normalized
            a.ln2Out = a.ln2Normalized
        }
        return a
    }
}

/// The memory for every activation of a forward pass over a batch, allocated once and reused.
///
/// - `.training` keeps every block's activations (what a backward pass needs): `layer(L)` is block `L`'s.
/// - `.inference` keeps one block's worth, reused by every block; a run with cache copies what it was
///   asked for as the pass goes, so memory does not grow with depth.
///
/// Buffers are sized for `maxBatch × maxPositions`; a pass over `batch × positions` (no larger) packs its
/// activations densely at the start of each buffer, so `[batch, positions, …]` views are contiguous.
///
///     let arena = ActivationArena(config: .othelloGPT, maxBatch: 64, maxPositions: 59, mode: .training)
///     try model.forward(tokens: tokens, batch: 64, positions: 59, into: arena)
///     arena.layer(7).residPost      // [64, 59, 512]
///     arena.logits                  // [64, 59, 61]
public final class ActivationArena {
    /// `.training` keeps every block's activations, `.inference` one block's (see the type's description).
    public enum Mode { case training, inference }

    public let config: ModelConfig
    public let mode: Mode
    public let maxBatch: Int
    public let maxPositions: Int
    /// The shape of the last forward pass.
    public internal(set) var batch = 0, positions = 0

    /// `[B, T, C]`: `hook_embed`, `hook_pos_embed`.
    public let embed, posEmbed: UnsafeMutablePointer<Float>
    /// `[B, T, 1]`, `[B, T, C]`: `ln_final.hook_scale`, `ln_final.hook_normalized`.
    public let lnFinalScale, lnFinalNormalized: UnsafeMutablePointer<Float>
    /// `[B, T, C]`: `ln_final`'s output `normalized · w + b` (`unembed.hook_in`); `lnFinalNormalized` for `LNPre`.
    public let lnFinalOut: UnsafeMutablePointer<Float>
    /// `[B, T, d_vocab]`: the logits (`unembed.hook_out`).
    public let logits: UnsafeMutablePointer<Float>
    /// The input tokens `[B, T]` of the last pass.
    public let tokens: UnsafeMutablePointer<Int32>
    /// One per block in training mode, one shared in inference mode.
    public let layers: [LayerActivations]

    private let storage: UnsafeMutablePointer<Float>
    private let storageCount: Int
    /// `[B, T, H, C]` per-head results (`hook_result`), allocated on first use.
    private var resultStorage: UnsafeMutablePointer<Float>?

    /// An arena for passes of up to `maxBatch` games (at least 1) of up to `maxPositions` positions (default and
    /// at most `n_ctx`).
    public init(config: ModelConfig, maxBatch: Int, maxPositions: Int? = nil, mode: Mode) {
        let (B, T) = Self.size(config: config, maxBatch: maxBatch, maxPositions: maxPositions)
        self.config = config
        self.mode = mode
        self.maxBatch = B
        self.maxPositions = T
        let rows = B * T
        let (C, V) = (config.dModel, config.dVocab)
        let perLayer = LayerActivations.floatCount(config: config, batch: B, positions: T)
        let layerCount = mode == .training ? config.nLayers : 1
        storageCount = Self.floatCount(config: config, maxBatch: B, maxPositions: T, mode: mode)
        // Left uninitialised: a forward pass writes every activation before reading it, and untouched pages
        // of a large arena never cost anything.
        storage = .allocate(capacity: storageCount)
        tokens = .allocate(capacity: rows)
        tokens.initialize(repeating: 0, count: rows)
        var next = storage
        func take(_ count: Int) -> UnsafeMutablePointer<Float> { defer { next += count }; return next }
        embed = take(rows * C); posEmbed = take(rows * C)
        lnFinalScale = take(rows); lnFinalNormalized = take(rows * C)
        lnFinalOut = config.hasLayerNormWeights ? take(rows * C) : lnFinalNormalized
        logits = take(rows * V)
        packedHeads = take(C * C)
        layers = (0..<layerCount).map { _ in LayerActivations(base: take(perLayer), config: config, batch: B, positions: T) }
    }

    deinit {
        storage.deallocate()
        tokens.deallocate()
        resultStorage?.deallocate()
    }

    /// Block `layer`'s activations (in inference mode, the shared buffers holding the current block).
    public func layer(_ layer: Int) -> LayerActivations {
        layers[mode == .training ? layer : 0]
    }

    /// The per-head result buffer `[B, T, H, C]`.
    var result: UnsafeMutablePointer<Float> {
        if let resultStorage { return resultStorage }
        let count = maxBatch * maxPositions * config.nHeads * config.dModel
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        buffer.initialize(repeating: 0, count: count)
        resultStorage = buffer
        return buffer
    }

    /// `[C, H·D]`: a per-head weight repacked as one matrix (`Kernels.packHeads`), for large batches.
    let packedHeads: UnsafeMutablePointer<Float>

    /// Bytes held (without the optional `hook_result` buffer).
    public var byteCount: Int { storageCount * MemoryLayout<Float>.size }

    /// The floats an arena for `maxBatch` games of `maxPositions` holds (without the optional `hook_result`
    /// buffer), to check memory before making one.
    public static func floatCount(config: ModelConfig, maxBatch: Int, maxPositions: Int? = nil, mode: Mode) -> Int {
        let (B, T) = size(config: config, maxBatch: maxBatch, maxPositions: maxPositions)
        let rows = B * T
        let (C, V) = (config.dModel, config.dVocab)
        let perLayer = LayerActivations.floatCount(config: config, batch: B, positions: T)
        let layerCount = mode == .training ? config.nLayers : 1
        let affine = config.hasLayerNormWeights ? rows * C : 0
        return rows * (C * 3 + 1 + V) + affine + perLayer * layerCount + C * C
    }

    /// The batch and positions an arena is made for: at least one game, at most `n_ctx` positions.
    private static func size(config: ModelConfig, maxBatch: Int, maxPositions: Int?) -> (batch: Int, positions: Int) {
        (max(1, maxBatch), min(maxPositions ?? config.nCtx, config.nCtx))
    }

    /// The buffer of `point` in the current pass (for inference, valid only while that block is current).
    public func pointer(for point: HookPoint) -> UnsafeMutablePointer<Float> {
        switch point.kind {
        case .embed: return embed
        case .posEmbed: return posEmbed
        case .result: return result
        case .lnFinalScale: return lnFinalScale
        case .lnFinalNormalized: return lnFinalNormalized
        case .unembedIn: return lnFinalOut
        case .unembedOut: return logits
        default: return layer(point.layer!).pointer(for: point.kind)
        }
    }

    /// A view of `point`'s activation in the current pass.
    public func activation(_ point: HookPoint) -> Activation {
        Activation(point: point, shape: point.shape(batch: batch, positions: positions, config: config), pointer: pointer(for: point))
    }
}
