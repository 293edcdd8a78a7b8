import Foundation
import OthelloModel

/// The trained model as a weight file: TransformerLens names, F32 (or F16), the model config in `__metadata__`
/// (what `HookedTransformer.load(from:)` reads), plus how it was trained.
enum ModelFile {
    /// Writes the weights of `parameters` (no optimiser state) with `options` and `step` in the metadata.
    static func writeWeights(_ parameters: ModelParameters, trainedBy options: TrainingOptions, step: Int,
                             as type: SafetensorsFile.StoredType = .f32, to url: URL) throws {
        let config = String(decoding: try JSONEncoder().encode(parameters.config), as: UTF8.self)
        let training = String(decoding: try JSONEncoder().encode(options), as: UTF8.self)
        try SafetensorsFile.write(Checkpoint.weightTensors(parameters), metadata: [
            "format": "pt", "config": config, "training_options": training,
            "step": String(step), "games_seen": String(step * options.batchSize),
        ], as: type, to: url)
    }
}

extension Checkpoint {
    /// Writes the checkpoint's weights only (no optimiser state) as a model file, stored as `type`.
    public func exportWeights(as type: SafetensorsFile.StoredType = .f32, to url: URL) throws {
        try ModelFile.writeWeights(parameters, trainedBy: options, step: step, as: type, to: url)
    }
}
