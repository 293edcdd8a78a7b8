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
        let points = LogitAttribution.cachedPoints + (0..<L).flatMap { [HookPoint(.result, layer: $0), HookPoint(.mlpPost, layer: $0)] }
        let cache = try model.runWithCache(tokens: Vocabulary.tokens(forMoves: moves), games: 1, positions: T, points: points)
        let logits = try cache.logitValues()
        let token = token ?? (1..<V).max { logits[p * V + $0] < logits[p * V + $1] }!
        let dla = try LogitAttribution(model: model, cache: cache)
        let heads = try dla.logitAttributions(cache.stackHeadResults(game: 0, position: p, config: config).stack, game: 0, position: p)
        var ranked: [Neuron] = []
        let w = model.parameters
        for l in 0..<L {
            // Neuron n writes post[n] · W_out[n, :]: one d_model row of the stack per neuron.
            let post = try cache.values(HookPoint(.mlpPost, layer: l))
            let W_out = w.base + w.layout.blocks[l].W_out
            var written = [Float](repeating: 0, count: M * C)
            for n in 0..<M {
                let a = post[p * M + n]
                for i in 0..<C { written[n * C + i] = a * W_out[n * C + i] }
            }
            for (n, logits) in dla.logitAttributions(written, game: 0, position: p).enumerated() {
                ranked.append(Neuron(layer: l, neuron: n, attribution: logits[token], logits: logits))
            }
            ranked.sort { abs($0.attribution) > abs($1.attribution) }
            ranked = Array(ranked.prefix(count))
        }
        return Result(heads: (0..<L).map { l in Array(heads[(l * H)..<((l + 1) * H)]) }, neurons: ranked, token: token)
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
                                           points: [HookPoint(.pattern, layer: layer)], options: .init(stopAtLayer: layer + 1, computeLogits: false))
        let values = try cache.values(HookPoint(.pattern, layer: layer))
        return (0..<T).map { q in (0..<T).map { k in k <= q ? Double(values[(head * T + q) * T + k]) : nil } }
    }
}
