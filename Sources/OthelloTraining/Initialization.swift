import Foundation
import OthelloModel
import WorkbenchSupport

extension ModelParameters {
    /// TransformerLens's initialisation (`HookedTransformer.init_weights`, `init_mode="gpt2"`): every
    /// weight matrix (`W_E`, `W_pos`, `W_Q`, `W_K`, `W_V`, `W_O`, `W_in`, `W_out`, `W_U`) drawn from
    /// N(0, `initializerRange`²), `initializerRange` = 0.8 / sqrt(d_model) by default; biases zero.
    /// Each weight has its own random stream of `seed`, so the result depends only on the seed and the config.
    ///
    ///     let weights = ModelParameters(config: config)
    ///     weights.initializeForTraining(seed: 1)
    public func initializeForTraining(seed: UInt64, initializerRange: Float? = nil) {
        let std = initializerRange ?? 0.8 / Float(config.dModel).squareRoot()
        for (index, entry) in layout.entries.enumerated() {
            let p = base + entry.offset
            guard entry.isMatrix else {
                p.update(repeating: entry.name.hasSuffix(".w") ? 1 : 0, count: entry.count)
                continue
            }
            var rng = SeededRandom(seed: seed, stream: UInt64(index))
            for i in 0..<entry.count { p[i] = std * rng.nextGaussian() }
        }
    }
}

extension ParameterLayout.Entry {
    /// Whether this is a weight matrix (a TransformerLens name `W_…`), not a bias or layer-norm weight.
    var isMatrix: Bool { name.split(separator: ".").last?.hasPrefix("W_") ?? false }

    /// Whether AdamW decays this weight: the matrices of the linear maps (`W_Q`, `W_K`, `W_V`, `W_O`,
    /// `W_in`, `W_out`, `W_U`), not the biases and not the embeddings `W_E`, `W_pos` — minGPT's rule,
    /// with which Li et al. trained Othello-GPT.
    var isWeightDecayed: Bool { isMatrix && !name.hasSuffix("W_E") && !name.hasSuffix("W_pos") }
}

extension ParameterLayout {
    /// The ranges of the flat buffer that AdamW decays (see `Entry.isWeightDecayed`).
    var weightDecayedRanges: [Range<Int>] {
        entries.filter(\.isWeightDecayed).map { $0.offset..<($0.offset + $0.count) }
    }
}

extension HookedTransformer {
    /// A model of `model`'s configuration with TransformerLens' initialisation (`initializeForTraining(seed:)`): the
    /// random-init control of probes, SAEs and circuits.
    public static func randomlyInitialised(like model: HookedTransformer, seed: UInt64) -> HookedTransformer {
        let parameters = ModelParameters(config: model.config)
        parameters.initializeForTraining(seed: seed)
        return HookedTransformer(parameters: parameters)
    }
}
