import Foundation
import OthelloModel

/// The trained model as a weight file: TransformerLens names, F32, the model config in `__metadata__`
/// (what `HookedTransformer.load(from:)` reads), plus how it was trained.
enum ModelFile {
    /// Writes the weights of `parameters` (no optimiser state) with `options` and `step` in the metadata.
    static func writeWeights(_ parameters: ModelParameters, trainedBy options: TrainingOptions, step: Int, to url: URL) throws {
        let config = String(decoding: try JSONEncoder().encode(parameters.config), as: UTF8.self)
        let training = String(decoding: try JSONEncoder().encode(options), as: UTF8.self)
        try SafetensorsFile.write(Checkpoint.weightTensors(parameters), metadata: [
            "format": "pt", "config": config, "training_options": training,
            "step": String(step), "games_seen": String(step * options.batchSize),
        ], to: url)
    }
}

extension Checkpoint {
    /// Writes the checkpoint's weights only (no optimiser state) as a model file.
    public func exportWeights(to url: URL) throws {
        try ModelFile.writeWeights(parameters, trainedBy: options, step: step, to: url)
    }
}
