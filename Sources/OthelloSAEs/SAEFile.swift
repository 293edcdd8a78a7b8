import Foundation
import OthelloModel
import WorkbenchSupport

/// SAE files in SAELens' tensor layout — `W_enc [d_in, d_sae]`, `b_enc [d_sae]`, `W_dec [d_sae, d_in]`,
/// `b_dec [d_in]` in a safetensors file — so that they move between the two:
/// - the workbench writes the recipe in the file's `__metadata__` (`format` = `othello-gpt-sae`, `hook`, `kind`,
///   `k`, `l1`, `d_in`, `d_sae`, and the training settings and metrics);
/// - a SAELens folder (`cfg.json` + `sae_weights.safetensors`), or such a safetensors file with its `cfg.json`
///   beside it, reads with the hook and kind from cfg.json, in SAELens ≤ 5's layout or SAELens 6's;
/// - `saveSAELens(_:to:)` writes such a folder in SAELens 6's layout, which SAELens loads (a BatchTopK SAE as the
///   JumpReLU SAE SAELens itself saves it as).
///
///     try SAEFile.save(sae, to: URL(fileURLWithPath: "L5.safetensors"))
///     let sae = try SAEFile.load(from: URL(fileURLWithPath: "L5.safetensors"))
public enum SAEFile {
    public static let format = "othello-gpt-sae"
    /// The SAELens version whose folder layout `saveSAELens` writes (and that loaded one in the fixture test).
    public static let saeLensLayoutVersion = "6.54.12"

    /// `file` with `suffix` before its extension: L5.safetensors → L5-control.safetensors, L5.ckpt.safetensors.
    public static func sibling(of file: URL, _ suffix: String) -> URL {
        let ext = file.pathExtension.isEmpty ? "safetensors" : file.pathExtension
        return file.deletingLastPathComponent().appendingPathComponent(file.deletingPathExtension().lastPathComponent + suffix + "." + ext)
    }

    /// Writes `sae` as a SAELens 6 folder: `cfg.json` (`architecture` standard or topk with `k`, `d_in`, `d_sae`,
    /// `dtype` float32, `apply_b_dec_to_input` true, no activation normalisation, `metadata.hook_name`) and
    /// `sae_weights.safetensors` (W_enc, b_enc, W_dec, b_dec), each written atomically.
    public static func saveSAELens(_ sae: SparseAutoencoder, to folder: URL) throws {
        try createOutputFolder(folder)
        // `sae_lens_version` tells SAELens the layout is its 6.x one: without it SAELens reads the file as a pre-6 config
        // and drops `metadata.hook_name` (found by loading a written folder with SAELens 6.54.12).
        struct Metadata: Encodable { var hookName: String, hookHeadIndex: Int?, modelName: String?
            enum CodingKeys: String, CodingKey {
                case hookName = "hook_name", hookHeadIndex = "hook_head_index", modelName = "model_name", version = "sae_lens_version"
            }
            func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(SAEFile.saeLensLayoutVersion, forKey: .version)
                try c.encode(hookName, forKey: .hookName)
                try c.encodeNil(forKey: .hookHeadIndex)
                try c.encodeIfPresent(modelName, forKey: .modelName)
            }
        }
        struct Config: Encodable {
            var architecture: String, dIn: Int, dSae: Int, k: Int?, dtype = "float32", device = "cpu", applyBDecToInput = true
            var normalizeActivations = "none", reshapeActivations = "none", rescaleActsByDecoderNorm = false, metadata: Metadata
        }
        var k: Int?, architecture = "standard"
        var tensors = tensors(of: sae)
        switch sae.kind {
        case .relu: break
        case .topK(let value): (k, architecture) = (value, "topk")
        case .batchTopK(_, let threshold):
            // SAELens saves a BatchTopK SAE for inference as a JumpReLU one: every feature's threshold the learned one.
            architecture = "jumprelu"
            tensors.append((name: "threshold", tensor: Tensor(shape: [sae.dSAE], values: [Float](repeating: threshold, count: sae.dSAE))))
        }
        let config = Config(architecture: architecture, dIn: sae.dIn, dSae: sae.dSAE, k: k,
                            metadata: Metadata(hookName: sae.hook, hookHeadIndex: nil, modelName: sae.metadata["model"]))
        try AtomicFile.write(try JSONOutput.encoder.encode(config), to: folder.appendingPathComponent("cfg.json"))
        try SafetensorsFile.write(tensors, to: folder.appendingPathComponent("sae_weights.safetensors"))
    }

    /// W_enc [d_in, d_sae], b_enc, W_dec [d_sae, d_in], b_dec: SAELens' tensors, for both kinds of file.
    static func tensors(of sae: SparseAutoencoder) -> [(name: String, tensor: Tensor)] {
        let p = sae.parameters, (d, n) = (sae.dIn, sae.dSAE)
        return [
            (name: "W_enc", tensor: Tensor(shape: [d, n], values: Array(p[sae.encoderWeights..<(sae.encoderWeights + d * n)]))),
            (name: "b_enc", tensor: Tensor(shape: [n], values: Array(p[sae.encoderBias..<(sae.encoderBias + n)]))),
            (name: "W_dec", tensor: Tensor(shape: [n, d], values: Array(p[sae.decoderWeights..<(sae.decoderWeights + n * d)]))),
            (name: "b_dec", tensor: Tensor(shape: [d], values: Array(p[sae.decoderBias..<(sae.decoderBias + d)]))),
        ]
    }

    /// Writes `sae` with its recipe in the metadata, as F32 (default) or F16 (the shipped SAE: half the bytes).
    public static func save(_ sae: SparseAutoencoder, to url: URL, as storage: SafetensorsFile.StoredType = .f32) throws {
        let (d, n) = (sae.dIn, sae.dSAE)
        var metadata = sae.metadata
        metadata["format"] = format
        metadata["hook"] = sae.hook
        metadata["kind"] = sae.kind.name.rawValue
        switch sae.kind {
        case .topK(let k): metadata["k"] = String(k)
        case .relu(let l1): metadata["l1"] = String(l1)
        case .batchTopK(let k, let threshold): (metadata["k"], metadata["threshold"]) = (String(k), String(threshold))
        }
        metadata["d_in"] = String(d)
        metadata["d_sae"] = String(n)
        try SafetensorsFile.write(tensors(of: sae), metadata: metadata, as: storage, to: url)
    }

    /// The file name of the SAE shipped in this module's resources (issue #29's best SAE on the shipped model).
    public static let shippedName = "shipped-sae.safetensors"

    /// The shipped SAE's file, nil when this build has none.
    public static var shippedURL: URL? {
        Bundle.module.url(forResource: "shipped-sae", withExtension: "safetensors")
            ?? Bundle.module.url(forResource: "shipped-sae", withExtension: "safetensors", subdirectory: "Resources")
    }

    /// The SAE in `path`, or the shipped SAE when `path` is nil (it reads the shipped model), with a name for reports.
    ///
    ///     let (sae, name) = try SAEFile.load(path: options.sae)     // --sae or the shipped one
    public static func load(path: String?) throws -> (sae: SparseAutoencoder, name: String) {
        if let path { return (try load(from: URL(fileURLWithPath: path)), path) }
        guard let url = shippedURL else {
            throw WorkbenchError("no shipped SAE is present in this build (Sources/OthelloSAEs/Resources/\(shippedName)); pass --sae FILE")
        }
        return (try load(from: url), "the shipped SAE")
    }

    public static func load(from url: URL) throws -> SparseAutoencoder {
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder)
        guard exists else { throw WorkbenchError("\(url.path): no such file; give an SAE written by `othello-gpt sae train` or a SAELens folder") }
        let weights = isFolder.boolValue ? url.appendingPathComponent("sae_weights.safetensors") : url
        let cfgURL = (isFolder.boolValue ? url : url.deletingLastPathComponent()).appendingPathComponent("cfg.json")
        let cfg = FileManager.default.fileExists(atPath: cfgURL.path) ? try readFile(cfgURL) : nil
        return try load(data: try readFile(weights), source: weights.path, saeLensConfig: cfg, configSource: cfgURL.path)
    }

    /// The SAE in the safetensors bytes `data` (named `source` in errors); `saeLensConfig`, the bytes of a SAELens
    /// cfg.json, gives the hook and kind when the file's metadata does not.
    public static func load(data: Data, source path: String, saeLensConfig: Data? = nil, configSource: String = "cfg.json") throws -> SparseAutoencoder {
        let file = try SafetensorsFile(data: data, path: path)
        var metadata = file.metadata
        if metadata["format"] != format, let saeLensConfig {
            metadata.merge(try Self.saeLensConfig(saeLensConfig, source: configSource)) { $1 }
        }
        func tensor(_ name: String) throws -> Tensor {
            guard file.entry(name) != nil else {
                throw WorkbenchError("\(path): no tensor \(name); an SAE file holds W_enc [d_in, d_sae], b_enc, W_dec [d_sae, d_in] and b_dec (SAELens' layout)")
            }
            return try file.tensor(name)
        }
        let wEnc = try tensor("W_enc"), bEnc = try tensor("b_enc"), wDec = try tensor("W_dec"), bDec = try tensor("b_dec")
        guard wEnc.shape.count == 2 else { throw WorkbenchError("\(path): W_enc has shape \(wEnc.shape); expected [d_in, d_sae]") }
        let (d, n) = (wEnc.shape[0], wEnc.shape[1])
        guard d >= 1, n >= 1, wDec.shape == [n, d], bEnc.shape == [n], bDec.shape == [d] else {
            throw WorkbenchError("\(path): shapes do not fit: W_enc \(wEnc.shape), b_enc \(bEnc.shape), W_dec \(wDec.shape), b_dec \(bDec.shape); expected [d_in, d_sae], [d_sae], [d_sae, d_in], [d_in]")
        }
        guard let hook = metadata["hook"], !hook.isEmpty else {
            throw WorkbenchError("\(path): the file does not say which hook the SAE reads (no `hook` in its metadata and no cfg.json with `hook_name` beside it)")
        }
        let kind: SparseAutoencoder.Kind
        switch metadata["kind"] ?? "relu" {
        case "relu": kind = .relu(l1: metadata["l1"].flatMap(Float.init) ?? 0)
        case "topk":
            guard let k = metadata["k"].flatMap(Int.init), (1...n).contains(k) else {
                throw WorkbenchError("\(path): a TopK SAE needs k from 1 to its \(n) features, the file says \(metadata["k"] ?? "nothing")")
            }
            kind = .topK(k)
        case "batchtopk":
            guard let k = metadata["k"].flatMap(Int.init), (0...n).contains(k), let threshold = metadata["threshold"].flatMap(Float.init), threshold >= 0, threshold.isFinite else {
                throw WorkbenchError("\(path): a BatchTopK SAE needs k from 0 to its \(n) features and a threshold ≥ 0, the file says k \(metadata["k"] ?? "nothing"), threshold \(metadata["threshold"] ?? "nothing")")
            }
            kind = .batchTopK(k: k, threshold: threshold)
        case "jumprelu":
            // A SAELens JumpReLU SAE reads when every feature has the same threshold (a BatchTopK SAE saved for inference).
            guard file.entry("threshold") != nil else { throw WorkbenchError("\(path): a jumprelu SAE without its threshold tensor") }
            let thresholds = try file.tensor("threshold")
            guard thresholds.shape == [n], let first = thresholds.values.first, first >= 0, first.isFinite, thresholds.values.allSatisfy({ $0 == first }) else {
                throw WorkbenchError("\(path): a JumpReLU SAE with per-feature thresholds; the workbench reads JumpReLU SAEs with one threshold for all features (BatchTopK saved for inference)")
            }
            kind = .batchTopK(k: metadata["k"].flatMap(Int.init).map { min(max($0, 0), n) } ?? 0, threshold: first)
        case let other: throw WorkbenchError("\(path): unknown SAE kind \"\(other)\"; the workbench reads relu, topk and batchtopk SAEs")
        }
        let parameters = wEnc.values + bEnc.values + wDec.values + bDec.values
        guard parameters.allSatisfy(\.isFinite) else { throw WorkbenchError("\(path): the SAE's weights hold NaN or infinite values") }
        let recipe = metadata.filter { !["format", "hook", "kind", "k", "l1", "threshold", "d_in", "d_sae"].contains($0.key) }
        return SparseAutoencoder(dIn: d, dSAE: n, kind: kind, hook: hook, parameters: parameters, metadata: recipe)
    }

    /// hook, kind and k from a SAELens cfg.json, in either layout: SAELens ≤ 5 (`hook_name` at the top, the kind as
    /// `activation_fn` with `activation_fn_kwargs.k`) or SAELens 6 (`metadata.hook_name`, `architecture` with a
    /// top-level `k`). A setting the workbench does not implement is refused, naming the key, rather than guessed.
    static func saeLensConfig(_ data: Data, source: String) throws -> [String: String] {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw WorkbenchError("\(source): not a JSON object (SAELens' cfg.json)")
        }
        var out: [String: String] = [:]
        let metadata = object["metadata"] as? [String: Any] ?? [:]
        if let hook = object["hook_name"] as? String ?? metadata["hook_name"] as? String { out["hook"] = hook }
        // The kind: `architecture` (SAELens 6; "standard" is the ReLU SAE) and/or `activation_fn` (SAELens ≤ 5).
        let byArchitecture: String?
        switch object["architecture"] as? String {
        case nil: byArchitecture = nil
        case "standard": byArchitecture = "relu"
        case "topk": byArchitecture = "topk"
        case "jumprelu": byArchitecture = "jumprelu"
        case let other?: throw WorkbenchError("\(source): architecture \(other); the workbench reads standard (ReLU), topk and jumprelu (one threshold) SAEs")
        }
        let byFunction = object["activation_fn"] as? String ?? object["activation_fn_str"] as? String
        if let fn = byFunction, !["relu", "topk", "jumprelu"].contains(fn) {
            throw WorkbenchError("\(source): activation_fn \(fn); the workbench reads relu, topk and jumprelu (one threshold) SAEs")
        }
        if let a = byArchitecture, let f = byFunction, a != f {
            throw WorkbenchError("\(source): architecture \(object["architecture"]!) but activation_fn \(f); the file contradicts itself")
        }
        if let kind = byArchitecture ?? byFunction { out["kind"] = kind }
        if let kwargs = object["activation_fn_kwargs"] as? [String: Any], let k = kwargs["k"] as? Int { out["k"] = String(k) }
        if let k = object["k"] as? Int { out["k"] = String(k) }
        if out["kind"] == "topk" && out["k"] == nil {
            throw WorkbenchError("\(source): a topk SAE without k (neither a top-level `k` nor `activation_fn_kwargs.k`)")
        }
        // Settings that change what the SAE computes, which the workbench does not implement.
        if object["apply_b_dec_to_input"] as? Bool == false {
            throw WorkbenchError("\(source): apply_b_dec_to_input is false; the workbench's encoder subtracts b_dec from the input (SAELens' default)")
        }
        for key in ["normalize_activations", "reshape_activations"] {
            if let value = object[key] as? String, value != "none" {
                throw WorkbenchError("\(source): \(key) is \(value); the workbench reads SAEs with \(key) none")
            }
        }
        if object["rescale_acts_by_decoder_norm"] as? Bool == true {
            throw WorkbenchError("\(source): rescale_acts_by_decoder_norm is true; the workbench reads SAEs without it")
        }
        if let head = object["hook_head_index"], !(head is NSNull) {
            throw WorkbenchError("\(source): hook_head_index \(head); the workbench reads SAEs of a whole hook, not of one head")
        }
        return out
    }
}

extension SparseAutoencoder {
    /// Throws a one-line error unless the SAE reads a hook of `config` of its width.
    public func check(fits config: ModelConfig, source: String) throws {
        let point: HookPoint
        do { point = try HookPoint(name: hook) } catch { throw WorkbenchError("\(source): the SAE's hook \(hook) is not a hook of the model") }
        if let layer = point.layer, layer >= config.nLayers { throw WorkbenchError("\(source): the SAE reads \(hook), but the model has layers 0…\(config.nLayers - 1)") }
        let width = try ActivationStream.width(of: point, config: config)
        guard width == dIn else {
            throw WorkbenchError("\(source): the SAE reads \(dIn)-wide activations, but \(hook) of this model is \(width) wide; use an SAE trained on this model")
        }
    }
}
