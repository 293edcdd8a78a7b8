import Foundation
import WorkbenchSupport

/// A quick check that a downloaded published Othello-GPT (Li et al.'s synthetic model, 8 layers, d_model 512)
/// and its conversion are right: the TransformerLens demo feeds `synthetic_model.pth` one game and prints the
/// argmax of the logits at each of its 59 positions; the same model here must give the same 59 tokens.
///
///     if PublishedModelCheck.applies(to: model.config) {
///         let result = try PublishedModelCheck.run(model)
///         print(result.summary)     // "59 of 59 predictions match the published ones"
///     }
///
/// The game and the published predictions are in `Resources/published-synthetic-check.json`.
public enum PublishedModelCheck {
    /// The demo's game (model tokens 1…60) and the published model's argmax token at each position.
    public struct Reference: Codable, Equatable {
        public var source: String
        public var gameTokens: [Int]
        public var predictedTokens: [Int]

        enum CodingKeys: String, CodingKey {
            case source, gameTokens = "game_tokens", predictedTokens = "predicted_tokens"
        }
    }

    /// How a model's predictions compare with the published ones.
    public struct Result: Codable, Equatable {
        /// The model's argmax token at each position.
        public var predicted: [Int]
        /// The positions (from 0) where they differ from the published predictions.
        public var mismatches: [Int]
        public var matches: Int { predicted.count - mismatches.count }
        public var passed: Bool { mismatches.isEmpty }

        public var summary: String {
            if passed { return "\(matches) of \(predicted.count) predictions match the published model's (the download and its conversion are right)" }
            let first = mismatches.prefix(5).map { "position \($0)" }.joined(separator: ", ")
            return "\(matches) of \(predicted.count) predictions match the published model's; they differ at \(first)\(mismatches.count > 5 ? ", …" : "")"
                + ": this is not the published synthetic model, or its conversion is wrong"
        }
    }

    /// The check's game and expected predictions.
    public static func reference() throws -> Reference {
        guard let url = Bundle.module.url(forResource: "published-synthetic-check", withExtension: "json")
            ?? Bundle.module.url(forResource: "published-synthetic-check", withExtension: "json", subdirectory: "Resources") else {
            throw WorkbenchError("this build lacks Sources/OthelloModel/Resources/published-synthetic-check.json")
        }
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    /// Whether the check is meant for a model of this shape: the published architecture, 8 layers of width 512.
    public static func applies(to config: ModelConfig) -> Bool {
        config.nLayers == 8 && config.dModel == 512 && config.dVocab == 61 && config.nCtx >= 59
    }

    /// Compares `predicted` tokens with the published ones.
    public static func compare(_ predicted: [Int], with reference: Reference) -> Result {
        let mismatches = reference.predictedTokens.indices.filter { $0 >= predicted.count || predicted[$0] != reference.predictedTokens[$0] }
        return Result(predicted: predicted, mismatches: mismatches)
    }

    /// Runs `model` on the demo's game and compares its argmax tokens with the published ones.
    public static func run(_ model: HookedTransformer) throws -> Result {
        let reference = try reference()
        let T = reference.gameTokens.count, V = model.config.dVocab
        guard model.config.nCtx >= T, V == 61 else {
            throw WorkbenchError("the published-model check needs a model of 61 tokens reading \(T) positions; this one has \(V) tokens and \(model.config.nCtx) positions")
        }
        let logits = try model.logits(tokens: reference.gameTokens.map(Int32.init), games: 1, positions: T).values
        let predicted = (0..<T).map { t in
            (0..<V).max { logits[t * V + $0] < logits[t * V + $1] }!
        }
        return compare(predicted, with: reference)
    }
}
