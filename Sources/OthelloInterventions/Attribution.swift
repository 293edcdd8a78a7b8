import Foundation
import OthelloModel
import OthelloRules
import WorkbenchSupport

/// Direct logit attribution of the components at one position (TransformerLens' `logit_attrs` with the cached
/// final layer-norm scale): what each head's output (`hook_result`) and each neuron (`mlp.hook_post` times its
/// `W_out` row) writes onto every move's logit, read through the unembedding.
public enum DirectLogitAttribution {
    public struct Result: Codable, Sendable {
        /// `[layer][head][token]`.
        public var heads: [[[Double]]]
        /// The neurons with the largest |attribution| to `token`: layer, neuron, that attribution, and their whole row.
        public var neurons: [Neuron]
        public var token: Int
    }

    public struct Neuron: Codable, Sendable {
        public var layer: Int, neuron: Int
        public var attribution: Double
        public var logits: [Double]
    }

    /// Attribution at the last position of `moves`; neurons ranked by their attribution to `token` (default: the
    /// model's top move there).
    public static func run(model: HookedTransformer, moves: [Int], token: Int? = nil, neurons count: Int = 8) throws -> Result {
        let config = model.config
        let (L, H, C, M, V) = (config.nLayers, config.nHeads, config.dModel, config.dMLP, config.dVocab)
        guard !moves.isEmpty, moves.count <= config.nCtx else { throw WorkbenchError("attribution: give 1…\(config.nCtx) moves") }
        _ = try GameReplay(moves: moves, source: "attribution prefix")
        let T = moves.count, p = T - 1
        let names = ["ln_final.hook_scale"] + (0..<L).flatMap { [HookPoint(.result, layer: $0).name, HookPoint(.mlpPost, layer: $0).name] }
        let cache = try model.runWithCache(tokens: Vocabulary.tokens(forMoves: moves), games: 1, positions: T, names: names)
        let token = token ?? (1..<V).max { cache.logits!.values[p * V + $0] < cache.logits!.values[p * V + $1] }!
        let scale = try cache.values(HookPoint(.lnFinalScale))[p]
        let w = model.parameters
        let W_U = w.base + w.layout.W_U
        /// The logits a residual-stream vector writes (centred, divided by the scale, times W_U).
        let lnWeight = w.layout.lnFinal_w.map { w.base + $0 }   // LN models: ln_final.w (LNPre: none)
        func read(_ v: [Float]) -> [Double] {
            let mean = v.reduce(0, +) / Float(C)
            let centred = v.indices.map { (v[$0] - mean) / scale * (lnWeight?[$0] ?? 1) }
            return (0..<V).map { t in Double((0..<C).reduce(Float(0)) { $0 + centred[$1] * W_U[$1 * V + t] }) }
        }
        var heads: [[[Double]]] = []
        var ranked: [Neuron] = []
        for l in 0..<L {
            let result = try cache.values(HookPoint(.result, layer: l))
            heads.append((0..<H).map { h in read(Array(result[((p * H + h) * C)..<((p * H + h + 1) * C)])) })
            // Neuron n writes post[n] · W_out[n, :]; its attribution to `token` is that through W_U.
            let post = try cache.values(HookPoint(.mlpPost, layer: l))
            let W_out = w.base + w.layout.blocks[l].W_out
            var direct = [Float](repeating: 0, count: C)
            for n in 0..<M {
                let a = post[p * M + n]
                for i in 0..<C { direct[i] = a * W_out[n * C + i] }
                let logits = read(direct)
                ranked.append(Neuron(layer: l, neuron: n, attribution: logits[token], logits: logits))
            }
            ranked.sort { abs($0.attribution) > abs($1.attribution) }
            ranked = Array(ranked.prefix(count))
        }
        return Result(heads: heads, neurons: ranked, token: token)
    }

    /// The attention pattern of `head` in `layer` on `moves` (`[query][key]`, nil above the diagonal).
    public static func pattern(model: HookedTransformer, moves: [Int], layer: Int, head: Int) throws -> [[Double?]] {
        let config = model.config
        guard (0..<config.nLayers).contains(layer), (0..<config.nHeads).contains(head) else {
            throw WorkbenchError("the model has layers 0…\(config.nLayers - 1) and heads 0…\(config.nHeads - 1)")
        }
        guard !moves.isEmpty, moves.count <= config.nCtx else { throw WorkbenchError("give 1…\(config.nCtx) moves") }
        _ = try GameReplay(moves: moves, source: "pattern prefix")
        let T = moves.count
        let cache = try model.runWithCache(tokens: Vocabulary.tokens(forMoves: moves), games: 1, positions: T,
                                           names: [HookPoint(.pattern, layer: layer).name], options: .init(stopAtLayer: layer + 1, computeLogits: false))
        let values = try cache.values(HookPoint(.pattern, layer: layer))
        return (0..<T).map { q in (0..<T).map { k in k <= q ? Double(values[(head * T + q) * T + k]) : nil } }
    }
}
