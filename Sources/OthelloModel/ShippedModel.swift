import Foundation
import WorkbenchSupport

extension HookedTransformer {
    /// The file name of the model shipped in this module's resources.
    public static let shippedModelName = "shipped-model.safetensors"

    /// The shipped model's file, nil when this build has none.
    public static var shippedModelURL: URL? {
        Bundle.module.url(forResource: "shipped-model", withExtension: "safetensors")
            ?? Bundle.module.url(forResource: "shipped-model", withExtension: "safetensors", subdirectory: "Resources")
    }

    /// The model in `path`, or the shipped model when `path` is nil.
    ///
    ///     let model = try HookedTransformer.load(path: options.model)     // --model or the shipped one
    public static func load(path: String?, nHeads: Int? = nil) throws -> HookedTransformer {
        if let path { return try load(from: URL(fileURLWithPath: path), nHeads: nHeads) }
        guard let url = shippedModelURL else {
            throw WorkbenchError("no shipped model is present in this build (Sources/OthelloModel/Resources/\(shippedModelName)); pass --model FILE (a .safetensors, .pth or .ckpt weight file)")
        }
        return try load(from: url, nHeads: nHeads)
    }
}
