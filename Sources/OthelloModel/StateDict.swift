import Foundation
import WorkbenchSupport

/// Named tensors read from a weight file, before they become a model: a TransformerLens state dict
/// (`embed.W_E`, `blocks.0.attn.W_Q`, …) or a minGPT one (`tok_emb.weight`, …; see `MinGPT`).
///
///     let dict = try StateDict.read(from: url)         // .safetensors, .pth/.pt/.ckpt (torch zip)
///     let model = try HookedTransformer(stateDict: dict)
public struct StateDict {
    /// The file the tensors came from (for error messages).
    public var source: String
    public var tensors: [String: Tensor]
    /// Safetensors `__metadata__` (empty for torch files).
    public var metadata: [String: String]

    /// The key under which a torch file holding one bare tensor (`torch.save(tensor)`) keeps it.
    public static let singleTensorKey = "<tensor>"

    public init(source: String, tensors: [String: Tensor], metadata: [String: String] = [:]) {
        self.source = source
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Reads a weight file by its content: safetensors, or a torch zip archive (`torch.save` of a state dict).
    public static func read(from url: URL) throws -> StateDict {
        let data = try readFile(url, mapped: true)
        if !isZip(data), ["pth", "pt", "ckpt"].contains(url.pathExtension) {
            throw WorkbenchError("\(url.path): not a zip archive; only the zip format of torch.save (PyTorch ≥ 1.6) is read — re-save with torch.save(model.state_dict(), path)")
        }
        return try read(data: data, source: url.path)
    }

    /// Reads the bytes of a weight file by their content (see `read(from:)`); `source` names the file in errors.
    public static func read(data: Data, source: String) throws -> StateDict {
        if isZip(data) { return try TorchCheckpoint.read(data: data, source: source) }
        let file = try SafetensorsFile(data: data, path: source)
        var tensors: [String: Tensor] = [:]
        for name in file.names { tensors[name] = try file.tensor(name) }
        return StateDict(source: source, tensors: tensors, metadata: file.metadata)
    }

    /// Whether `data` starts as a zip archive ("PK"), i.e. torch.save's format.
    private static func isZip(_ data: Data) -> Bool { data.starts(with: [0x50, 0x4B]) }

    /// Whether the keys are minGPT's (Li et al.'s Othello-GPT checkpoints) rather than TransformerLens'.
    public var isMinGPT: Bool { tensors["tok_emb.weight"] != nil }

    /// The tensor `name` with the expected shape, or an error naming the file, key and shape.
    func require(_ name: String, shape: [Int]? = nil) throws -> Tensor {
        guard let tensor = tensors[name] else {
            let expected = shape.map { " (expected shape \($0))" } ?? ""
            throw WorkbenchError("\(source): missing key \(name)\(expected); is this an Othello-GPT state dict?")
        }
        if let shape, tensor.shape != shape {
            throw WorkbenchError("\(source): key \(name) has shape \(tensor.shape), expected \(shape)")
        }
        return tensor
    }

    /// The configuration of a TransformerLens-layout state dict, from its tensor shapes (and `__metadata__`
    /// key `config`, a JSON `ModelConfig`, when present). `nHeads` overrides the head count.
    public func inferConfig(nHeads: Int? = nil) throws -> ModelConfig {
        if let json = metadata["config"], nHeads == nil {
            let config: ModelConfig
            do { config = try JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8)) } catch {
                throw WorkbenchError("\(source): the config in the file's metadata is not valid (\(error))")
            }
            do { try config.validate() } catch let error as WorkbenchError {
                throw WorkbenchError("\(source): the config in the file's metadata is not valid (\(error.description))")
            }
            // Before a layout is built for it: a config may claim a billion layers (this stops at the first one missing).
            _ = try require("embed.W_E", shape: [config.dVocab, config.dModel])
            for layer in 0..<config.nLayers { _ = try require("blocks.\(layer).attn.W_Q", shape: [config.nHeads, config.dModel, config.dHead]) }
            return config
        }
        let embed = try require("embed.W_E")
        let pos = try require("pos_embed.W_pos")
        guard embed.rank == 2, pos.rank == 2, embed.shape[1] == pos.shape[1] else {
            throw WorkbenchError("\(source): embed.W_E \(embed.shape) and pos_embed.W_pos \(pos.shape) must be [d_vocab, d_model] and [n_ctx, d_model]")
        }
        let dModel = embed.shape[1]
        var nLayers = 0
        while tensors["blocks.\(nLayers).attn.W_Q"] != nil { nLayers += 1 }
        guard nLayers > 0 else { throw WorkbenchError("\(source): missing key blocks.0.attn.W_Q (expected shape [n_heads, \(dModel), d_head])") }
        let wq = try require("blocks.0.attn.W_Q")
        guard wq.rank == 3, wq.shape[1] == dModel else {
            throw WorkbenchError("\(source): key blocks.0.attn.W_Q has shape \(wq.shape), expected [n_heads, \(dModel), d_head]")
        }
        // No MLP and no ln2 weights at all: an attention-only model (TransformerLens' `attn_only`). A file with ln2 but
        // no MLP is a damaged full model, and fails below on the missing mlp.W_in.
        let attnOnly = !tensors.keys.contains { $0.contains(".mlp.") || $0.contains(".ln2.") }
        var dMLP = 0
        if !attnOnly {
            let win = try require("blocks.0.mlp.W_in")
            guard win.rank == 2, win.shape[0] == dModel else {
                throw WorkbenchError("\(source): key blocks.0.mlp.W_in has shape \(win.shape), expected [\(dModel), d_mlp]")
            }
            dMLP = win.shape[1]
        }
        let heads = nHeads ?? wq.shape[0]
        do {
            return try ModelConfig(nLayers: nLayers, dModel: dModel, nHeads: heads, dHead: dModel / max(heads, 1), dMLP: dMLP,
                                   dVocab: embed.shape[0], nCtx: pos.shape[0], actFn: .gelu,
                                   normalizationType: tensors["blocks.0.ln1.w"] != nil ? .LN : .LNPre, attnOnly: attnOnly)
        } catch let error as WorkbenchError {
            throw WorkbenchError("\(source): the tensor shapes give no valid model (\(error.description))")
        }
    }
}

extension ModelParameters {
    /// Weights from a TransformerLens-layout state dict: every weight of `layout` must be present with its shape;
    /// TransformerLens' buffers (`attn.mask`, `attn.IGNORE`) are ignored; any other key is an error.
    public convenience init(layout: ParameterLayout, stateDict: StateDict) throws {
        // Every key is checked before the buffer is allocated, so a config that claims a huge model fails here.
        let tensors = try layout.entries.map { try stateDict.require($0.name, shape: $0.shape) }
        for name in stateDict.tensors.keys.sorted() where layout[name] == nil {
            if name.hasSuffix(".attn.mask") || name.hasSuffix(".attn.IGNORE") { continue }
            throw WorkbenchError("\(stateDict.source): unexpected key \(name) for a \(layout.config.normalizationType.rawValue) model with \(layout.config.nLayers) layers")
        }
        self.init(layout: layout)
        for (entry, tensor) in zip(layout.entries, tensors) {
            tensor.values.withUnsafeBufferPointer { (base + entry.offset).update(from: $0.baseAddress!, count: entry.count) }
        }
    }
}

extension HookedTransformer {
    /// A model from a state dict: TransformerLens layout as is, minGPT layout converted and processed like
    /// TransformerLens loads Othello-GPT (`MinGPT.convert`). `nHeads` overrides the inferred head count.
    public init(stateDict: StateDict, nHeads: Int? = nil, process: Bool = true) throws {
        let dict = stateDict.isMinGPT ? try MinGPT.convert(stateDict, nHeads: nHeads, process: process) : stateDict
        let config = try dict.inferConfig(nHeads: nHeads)
        self.init(parameters: try ModelParameters(layout: ParameterLayout(config: config), stateDict: dict))
    }

    /// Reads a weight file (safetensors, or a torch `.pth`/`.ckpt` zip) into a model.
    public static func load(from url: URL, nHeads: Int? = nil) throws -> HookedTransformer {
        try HookedTransformer(stateDict: try StateDict.read(from: url), nHeads: nHeads)
    }

    /// Writes the weights as F32 safetensors with TransformerLens names and the configuration in `__metadata__`.
    public func save(to url: URL) throws {
        let configJSON = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        let tensors = parameters.layout.entries.map { (name: $0.name, tensor: parameters.tensor($0.name)) }
        try SafetensorsFile.write(tensors, metadata: ["format": "pt", "config": configJSON], to: url)
    }
}
