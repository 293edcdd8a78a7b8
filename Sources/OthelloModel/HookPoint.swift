import Foundation
import WorkbenchSupport

/// A place in the forward pass where an activation can be read or replaced, named as in TransformerLens.
///
/// `HookPoint(name:)` parses the full names TransformerLens caches (`blocks.6.hook_resid_post`);
/// `HookPoint.actName(_:_:_:)` is TransformerLens' `utils.get_act_name` (`("resid_post", 6)`, `("pattern", 3)`,
/// `("scale", 2, "ln1")`).
///
///     let point = try HookPoint.actName("resid_post", 6)
///     point.name                                       // "blocks.6.hook_resid_post"
///     point.shape(batch: 3, positions: 59, config: .othelloGPT)   // [3, 59, 512]
public struct HookPoint: Hashable, Comparable, CustomStringConvertible, Sendable {
    /// The kinds of hook point, in the order the forward pass reaches them.
    public enum Kind: Int, CaseIterable, Comparable, Sendable {
        case embed, posEmbed
        case residPre, ln1Scale, ln1Normalized, q, k, v, attnScores, pattern, z, result, attnOut, residMid
        case ln2Scale, ln2Normalized, mlpPre, mlpPost, mlpOut, residPost
        case lnFinalScale, lnFinalNormalized, unembedIn, unembedOut

        public static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }

        /// Whether the kind belongs to a block (and so has a layer).
        public var isPerLayer: Bool { self >= .residPre && self <= .residPost }

        /// The name after `blocks.L.` (per layer) or the whole name.
        var suffix: String {
            switch self {
            case .embed: return "hook_embed"
            case .posEmbed: return "hook_pos_embed"
            case .residPre: return "hook_resid_pre"
            case .ln1Scale: return "ln1.hook_scale"
            case .ln1Normalized: return "ln1.hook_normalized"
            case .q: return "attn.hook_q"
            case .k: return "attn.hook_k"
            case .v: return "attn.hook_v"
            case .attnScores: return "attn.hook_attn_scores"
            case .pattern: return "attn.hook_pattern"
            case .z: return "attn.hook_z"
            case .result: return "attn.hook_result"
            case .attnOut: return "hook_attn_out"
            case .residMid: return "hook_resid_mid"
            case .ln2Scale: return "ln2.hook_scale"
            case .ln2Normalized: return "ln2.hook_normalized"
            case .mlpPre: return "mlp.hook_pre"
            case .mlpPost: return "mlp.hook_post"
            case .mlpOut: return "hook_mlp_out"
            case .residPost: return "hook_resid_post"
            case .lnFinalScale: return "ln_final.hook_scale"
            case .lnFinalNormalized: return "ln_final.hook_normalized"
            case .unembedIn: return "unembed.hook_in"
            case .unembedOut: return "unembed.hook_out"
            }
        }
    }

    public let kind: Kind
    /// The block index for per-layer kinds, nil otherwise.
    public let layer: Int?

    public init(_ kind: Kind, layer: Int? = nil) {
        precondition(kind.isPerLayer == (layer != nil), "HookPoint: \(kind) \(kind.isPerLayer ? "needs" : "takes no") layer")
        self.kind = kind
        self.layer = layer
    }

    /// The full TransformerLens name, e.g. `blocks.3.attn.hook_pattern`.
    public var name: String {
        if let layer { return "blocks.\(layer).\(kind.suffix)" }
        return kind.suffix
    }

    public var description: String { name }

    public static func < (a: HookPoint, b: HookPoint) -> Bool {
        // Forward order: by layer (globals before or after blocks), then by kind.
        func key(_ p: HookPoint) -> (Int, Int) {
            if let layer = p.layer { return (layer + 1, p.kind.rawValue) }
            return (p.kind < .residPre ? 0 : Int.max, p.kind.rawValue)
        }
        return key(a) < key(b)
    }

    /// Parses a full TransformerLens hook name (`hook_embed`, `blocks.0.attn.hook_q`, `ln_final.hook_scale`, …).
    public init(name: String) throws {
        if name.hasPrefix("blocks.") {
            let rest = name.dropFirst("blocks.".count)
            if let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]), layer >= 0,
               let kind = Kind.allCases.first(where: { $0.isPerLayer && $0.suffix == rest[rest.index(after: dot)...] }) {
                self.init(kind, layer: layer)
                return
            }
        } else if let kind = Kind.allCases.first(where: { !$0.isPerLayer && $0.suffix == name }) {
            self.init(kind)
            return
        }
        throw WorkbenchError("unknown hook point \"\(name)\"; hook names look like blocks.6.hook_resid_post, blocks.3.attn.hook_pattern, ln_final.hook_scale (see `othello-gpt cache --help`)")
    }

    /// TransformerLens' `utils.get_act_name`: a short name, an optional layer and layer type, to a hook point.
    /// Accepts the aliases of TransformerLens (`attn` → `pattern`, `attn_logits` → `attn_scores`, `key`/`query`/`value`,
    /// `mlp_pre`/`mlp_post`) and the compact form `pattern3` / `scale2ln1`; full names pass through.
    public static func actName(_ name: String, _ layer: Int? = nil, _ layerType: String? = nil) throws -> HookPoint {
        if (name.contains(".") || name.hasPrefix("hook_")) && layer == nil && layerType == nil {
            return try HookPoint(name: name)
        }
        var short = name, layer = layer, layerType = layerType
        // The compact form "<letters><digits><rest>", e.g. "pattern3", "scale2ln1", "resid_post" does not match.
        if let letters = short.firstIndex(where: { !$0.isLowercase }), letters != short.startIndex, short[letters].isNumber {
            let digits = short[letters...].prefix(while: \.isNumber)
            let rest = short[digits.endIndex...]
            if let value = Int(digits) {
                layer = value
                layerType = rest.isEmpty ? nil : String(rest)
                short = String(short[..<letters])
            }
        }
        let aliases = ["attn": "pattern", "attn_logits": "attn_scores", "key": "k", "query": "q", "value": "v",
                       "mlp_pre": "pre", "mlp_post": "post"]
        short = aliases[short] ?? short
        let typeAliases = ["a": "attn", "m": "mlp", "b": "", "block": "", "blocks": "", "attention": "attn"]
        var type = layerType
        if ["k", "v", "q", "z", "result", "pattern", "attn_scores"].contains(short) {
            type = "attn"
        } else if ["pre", "post"].contains(short) {
            type = "mlp"
        } else if let t = type, let alias = typeAliases[t] {
            type = alias
        }
        var full = layer.map { "blocks.\($0)." } ?? ""
        if let type, !type.isEmpty { full += "\(type)." }
        full += "hook_\(short)"
        if ["scale", "normalized"].contains(short) && layer == nil { full = "ln_final.\(full)" }
        return try HookPoint(name: full)
    }

    /// Every hook point of a model with `config`, in forward order; `hook_result` only if `includeResult`. An
    /// attention-only block has no `hook_resid_mid`, `ln2` or MLP hooks (TransformerLens' `attn_only`).
    public static func all(config: ModelConfig, includeResult: Bool = false) -> [HookPoint] {
        var points = [HookPoint(.embed), HookPoint(.posEmbed)]
        let mlpKinds: Set<Kind> = [.residMid, .ln2Scale, .ln2Normalized, .mlpPre, .mlpPost, .mlpOut]
        for layer in 0..<config.nLayers {
            for kind in Kind.allCases where kind.isPerLayer && (includeResult || kind != .result) && !(config.attnOnly && mlpKinds.contains(kind)) {
                points.append(HookPoint(kind, layer: layer))
            }
        }
        points += [HookPoint(.lnFinalScale), HookPoint(.lnFinalNormalized), HookPoint(.unembedIn), HookPoint(.unembedOut)]
        return points
    }

    /// The number of values the activation holds per position: the product of its shape after `[batch, position]`
    /// (`d_model` for the residual stream, `d_mlp` for `mlp.hook_post`, `n_heads × d_head` for `attn.hook_z`). The
    /// one width rule of probes, SAEs and caches.
    ///
    ///     HookPoint(.z, layer: 3).positionWidth(config: .othelloGPT)   // 8 × 64 = 512
    public func positionWidth(config: ModelConfig) -> Int {
        shape(batch: 1, positions: 1, config: config).dropFirst(2).reduce(1, *)
    }

    /// The activation's TransformerLens shape for `batch` games of `positions` tokens.
    public func shape(batch B: Int, positions T: Int, config: ModelConfig) -> [Int] {
        let (C, H, D) = (config.dModel, config.nHeads, config.dHead)
        switch kind {
        case .ln1Scale, .ln2Scale, .lnFinalScale: return [B, T, 1]
        case .q, .k, .v, .z: return [B, T, H, D]
        case .attnScores, .pattern: return [B, H, T, T]
        case .result: return [B, T, H, C]
        case .mlpPre, .mlpPost: return [B, T, config.dMLP]
        case .unembedOut: return [B, T, config.dVocab]
        default: return [B, T, C]
        }
    }
}
