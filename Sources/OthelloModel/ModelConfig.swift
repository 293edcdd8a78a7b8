import Foundation
import WorkbenchSupport

/// The shape and choices of a transformer, named as TransformerLens' `HookedTransformerConfig`.
///
///     let config = ModelConfig.othelloGPT                 // 8 layers, d_model 512, 8 heads
///     let tiny = try ModelConfig(nLayers: 2, dModel: 64, nHeads: 4, dMLP: 256)
public struct ModelConfig: Equatable, Codable {
    /// The activation function of the MLP.
    public enum ActivationFunction: String, Codable, CaseIterable {
        /// GELU with the exact error function (PyTorch `F.gelu`, TransformerLens `"gelu"`).
        case gelu
    }

    /// How the residual stream is normalised before attention, the MLP and the unembedding.
    public enum NormalizationType: String, Codable, CaseIterable {
        /// Centre and scale, no learned weights (TransformerLens `"LNPre"`, used after folding).
        case LNPre
        /// Centre, scale, then `· w + b` (TransformerLens `"LN"`).
        case LN
    }

    /// `n_layers`: transformer blocks.
    public var nLayers: Int
    /// `d_model`: the width of the residual stream.
    public var dModel: Int
    /// `n_heads`: attention heads per block.
    public var nHeads: Int
    /// `d_head`: the width of each head (`d_model / n_heads` here).
    public var dHead: Int
    /// `d_mlp`: the MLP's hidden width.
    public var dMLP: Int
    /// `d_vocab`: tokens (61 for Othello: padding/pass and 60 squares).
    public var dVocab: Int
    /// `n_ctx`: positions the model reads (59 for Othello-GPT).
    public var nCtx: Int
    /// `act_fn`: the MLP's activation.
    public var actFn: ActivationFunction
    /// `normalization_type`: layer norms with or without learned weights.
    public var normalizationType: NormalizationType
    /// The epsilon inside the layer norm's square root (TransformerLens default 1e-5).
    public var eps: Float
    /// `attn_only`: blocks without an MLP (and `d_mlp` 0), as TransformerLens' attention-only toy models.
    public var attnOnly: Bool

    /// A validated configuration; `dHead` defaults to `dModel / nHeads`.
    public init(nLayers: Int, dModel: Int, nHeads: Int, dHead: Int? = nil, dMLP: Int, dVocab: Int = 61, nCtx: Int = 59,
                actFn: ActivationFunction = .gelu, normalizationType: NormalizationType = .LNPre, eps: Float = 1e-5,
                attnOnly: Bool = false) throws {
        self.nLayers = nLayers
        self.dModel = dModel
        self.nHeads = nHeads
        self.dHead = dHead ?? (nHeads > 0 ? dModel / nHeads : 0)
        self.dMLP = dMLP
        self.dVocab = dVocab
        self.nCtx = nCtx
        self.actFn = actFn
        self.normalizationType = normalizationType
        self.eps = eps
        self.attnOnly = attnOnly
        try validate()
    }

    /// Reads the JSON `Codable` writes; files written before `attnOnly` existed have full blocks.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nLayers = try c.decode(Int.self, forKey: .nLayers)
        dModel = try c.decode(Int.self, forKey: .dModel)
        nHeads = try c.decode(Int.self, forKey: .nHeads)
        dHead = try c.decode(Int.self, forKey: .dHead)
        dMLP = try c.decode(Int.self, forKey: .dMLP)
        dVocab = try c.decode(Int.self, forKey: .dVocab)
        nCtx = try c.decode(Int.self, forKey: .nCtx)
        actFn = try c.decode(ActivationFunction.self, forKey: .actFn)
        normalizationType = try c.decode(NormalizationType.self, forKey: .normalizationType)
        eps = try c.decode(Float.self, forKey: .eps)
        attnOnly = try c.decodeIfPresent(Bool.self, forKey: .attnOnly) ?? false
    }

    /// The Othello-GPT of Li et al. (2023) as TransformerLens loads it: 8 layers, d_model 512, 8 heads of 64,
    /// d_mlp 2048, 61 tokens (pass + 60 squares), 59 positions, exact GELU, layer norms folded (`LNPre`).
    public static let othelloGPT = ModelConfig(
        uncheckedLayers: 8, dModel: 512, nHeads: 8, dHead: 64, dMLP: 2048, dVocab: 61, nCtx: 59,
        actFn: .gelu, normalizationType: .LNPre, eps: 1e-5)

    /// The shape of the workbench's shipped model (`shipped-model.safetensors`, see its model card): 8 layers,
    /// d_model 256, 8 heads of 32, d_mlp 1024 (half the published width). The default of `othello-gpt train` and
    /// of the benchmarks.
    public static let shipped = ModelConfig(
        uncheckedLayers: 8, dModel: 256, nHeads: 8, dHead: 32, dMLP: 1024, dVocab: 61, nCtx: 59,
        actFn: .gelu, normalizationType: .LNPre, eps: 1e-5)

    /// "8 layers, d_model 256, 8 heads, d_mlp 1024": the shape in words, as help texts and reports give it.
    public var shapeDescription: String {
        "\(nLayers) layers, d_model \(dModel), \(nHeads) heads, " + (attnOnly ? "attention only" : "d_mlp \(dMLP)")
    }

    private init(uncheckedLayers: Int, dModel: Int, nHeads: Int, dHead: Int, dMLP: Int, dVocab: Int, nCtx: Int,
                 actFn: ActivationFunction, normalizationType: NormalizationType, eps: Float) {
        (self.nLayers, self.dModel, self.nHeads, self.dHead, self.dMLP) = (uncheckedLayers, dModel, nHeads, dHead, dMLP)
        (self.dVocab, self.nCtx, self.actFn, self.normalizationType, self.eps) = (dVocab, nCtx, actFn, normalizationType, eps)
        attnOnly = false
    }

    /// Throws a `WorkbenchError` naming the first inconsistent field.
    public func validate() throws {
        func fail(_ why: String) -> WorkbenchError { WorkbenchError("model config: \(why)") }
        for (name, value) in [("n_layers", nLayers), ("d_model", dModel), ("n_heads", nHeads), ("d_head", dHead),
                              ("d_vocab", dVocab), ("n_ctx", nCtx)] + (attnOnly ? [] : [("d_mlp", dMLP)]) where value <= 0 {
            throw fail("\(name) must be positive, got \(value)")
        }
        guard !attnOnly || dMLP == 0 else { throw fail("an attention-only model has no MLP; give d_mlp 0, got \(dMLP)") }
        guard dModel % nHeads == 0 else {
            throw fail("d_model \(dModel) is not divisible by n_heads \(nHeads); choose n_heads dividing d_model")
        }
        guard dHead == dModel / nHeads else {
            throw fail("n_heads \(nHeads) × d_head \(dHead) differs from d_model \(dModel)")
        }
        guard eps > 0, eps.isFinite else { throw fail("eps must be a small positive number, got \(eps)") }
        // Counted in floating point: the sizes may come from a file and overflow `Int`.
        let (d, m) = (Double(dModel), Double(dMLP))
        guard Double(nLayers) * (4 * d * d + 2 * d * m) + (Double(dVocab) + Double(nCtx)) * d < 0x1p34 else {
            throw fail("the model is too large for this workbench (more than 2^34 weights)")
        }
    }

    /// Whether the layer norms have learned weights (`ln*.w`, `ln*.b`).
    public var hasLayerNormWeights: Bool { normalizationType == .LN }

    /// Multiply-adds ×2 of one token's forward pass through the matrices (QKV, O, MLP, unembed)
    /// and the attention products at `positions` context, averaged over positions (full square, as sgemm computes it).
    public func forwardFLOPsPerToken(positions: Int) -> Double {
        let d = Double(dModel), m = Double(dMLP), v = Double(dVocab), p = Double(positions)
        let perLayer = 2 * (4 * d * d + 2 * d * (attnOnly ? 0 : m)) + 2 * 2 * p * d
        return Double(nLayers) * perLayer + 2 * d * v
    }
}
