import Foundation
import WorkbenchSupport

/// Where each weight of a model lives in one flat `Float` buffer, under its TransformerLens name.
///
/// The parameters, their gradients and the AdamW moments all use the same layout, so an optimiser
/// can run over the flat buffer and a file reader or writer can go name by name.
///
///     let layout = ParameterLayout(config: .othelloGPT)
///     let wq = layout["blocks.3.attn.W_Q"]!          // offset and shape [8, 512, 64]
///     let q = layout.blocks[3].W_Q                     // the same offset, typed
public struct ParameterLayout: Equatable {
    /// One named weight: its offset in the flat buffer, its shape, and its element count.
    public struct Entry: Equatable {
        public let name: String
        public let offset: Int
        public let shape: [Int]
        public var count: Int { shape.reduce(1, *) }
    }

    /// The offsets of one transformer block's weights. `ln1_w` … are nil without learned layer norms; an
    /// attention-only model has no `ln2` and MLP weights (their offsets stay 0 and must not be used).
    public struct BlockOffsets: Equatable {
        public var ln1_w: Int?, ln1_b: Int?
        public var W_Q = 0, b_Q = 0, W_K = 0, b_K = 0, W_V = 0, b_V = 0, W_O = 0, b_O = 0
        public var ln2_w: Int?, ln2_b: Int?
        public var W_in = 0, b_in = 0, W_out = 0, b_out = 0
    }

    public let config: ModelConfig
    /// Every weight in buffer order: embed, pos_embed, each block, ln_final, unembed.
    public let entries: [Entry]
    /// The total number of floats.
    public let count: Int
    public let W_E: Int
    public let W_pos: Int
    public let blocks: [BlockOffsets]
    public let lnFinal_w: Int?, lnFinal_b: Int?
    public let W_U: Int
    public let b_U: Int
    private let index: [String: Int]

    public init(config: ModelConfig) {
        let (d, h, dh, m) = (config.dModel, config.nHeads, config.dHead, config.dMLP)
        var entries: [Entry] = []
        var next = 0
        func add(_ name: String, _ shape: [Int]) -> Int {
            let entry = Entry(name: name, offset: next, shape: shape)
            entries.append(entry)
            next += entry.count
            return entry.offset
        }
        let ln = config.hasLayerNormWeights
        W_E = add("embed.W_E", [config.dVocab, d])
        W_pos = add("pos_embed.W_pos", [config.nCtx, d])
        var blocks: [BlockOffsets] = []
        for layer in 0..<config.nLayers {
            let p = "blocks.\(layer)."
            var b = BlockOffsets()
            if ln { b.ln1_w = add(p + "ln1.w", [d]); b.ln1_b = add(p + "ln1.b", [d]) }
            b.W_Q = add(p + "attn.W_Q", [h, d, dh]); b.b_Q = add(p + "attn.b_Q", [h, dh])
            b.W_K = add(p + "attn.W_K", [h, d, dh]); b.b_K = add(p + "attn.b_K", [h, dh])
            b.W_V = add(p + "attn.W_V", [h, d, dh]); b.b_V = add(p + "attn.b_V", [h, dh])
            b.W_O = add(p + "attn.W_O", [h, dh, d]); b.b_O = add(p + "attn.b_O", [d])
            if !config.attnOnly {
                if ln { b.ln2_w = add(p + "ln2.w", [d]); b.ln2_b = add(p + "ln2.b", [d]) }
                b.W_in = add(p + "mlp.W_in", [d, m]); b.b_in = add(p + "mlp.b_in", [m])
                b.W_out = add(p + "mlp.W_out", [m, d]); b.b_out = add(p + "mlp.b_out", [d])
            }
            blocks.append(b)
        }
        self.blocks = blocks
        if ln {
            lnFinal_w = add("ln_final.w", [d])
            lnFinal_b = add("ln_final.b", [d])
        } else {
            (lnFinal_w, lnFinal_b) = (nil, nil)
        }
        W_U = add("unembed.W_U", [d, config.dVocab])
        b_U = add("unembed.b_U", [config.dVocab])
        self.config = config
        self.entries = entries
        self.count = next
        self.index = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.name, $0) })
    }

    /// The entry named `name` (a TransformerLens state-dict key), nil if the model has none.
    public subscript(_ name: String) -> Entry? {
        index[name].map { entries[$0] }
    }

    public static func == (a: ParameterLayout, b: ParameterLayout) -> Bool { a.config == b.config }
}

/// A flat `Float` buffer laid out by a `ParameterLayout`: the weights of a model, or (for a trainer)
/// their gradients or optimiser moments. Owns its memory; copies are explicit (`copy()`).
///
///     let weights = ModelParameters(layout: ParameterLayout(config: .othelloGPT))   // zeros
///     weights.tensor("unembed.b_U")                  // a Tensor copy of one weight
///     weights.pointer("blocks.0.mlp.W_in")           // mutable view into the buffer
public final class ModelParameters {
    public let layout: ParameterLayout
    /// The start of the flat buffer of `layout.count` floats.
    public let base: UnsafeMutablePointer<Float>
    public var count: Int { layout.count }
    public var config: ModelConfig { layout.config }

    /// A zero-filled buffer.
    public init(layout: ParameterLayout) {
        self.layout = layout
        base = .allocate(capacity: max(layout.count, 1))
        base.initialize(repeating: 0, count: max(layout.count, 1))
    }

    public convenience init(config: ModelConfig) {
        self.init(layout: ParameterLayout(config: config))
    }

    deinit { base.deallocate() }

    /// A deep copy.
    public func copy() -> ModelParameters {
        let other = ModelParameters(layout: layout)
        other.base.update(from: base, count: count)
        return other
    }

    /// The whole buffer as a mutable buffer pointer (for optimisers and file writers).
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: base, count: count) }

    /// A pointer to the weight `name`; traps on an unknown name (use `layout[name]` to check first).
    public func pointer(_ name: String) -> UnsafeMutablePointer<Float> {
        guard let entry = layout[name] else { preconditionFailure("ModelParameters: no weight named \(name)") }
        return base + entry.offset
    }

    /// A copy of the weight `name` as a `Tensor`.
    public func tensor(_ name: String) -> Tensor {
        guard let entry = layout[name] else { preconditionFailure("ModelParameters: no weight named \(name)") }
        return Tensor(shape: entry.shape, copying: base + entry.offset)
    }

    /// Overwrites the weight `name` with `tensor` (shapes must match).
    public func set(_ name: String, _ tensor: Tensor) throws {
        guard let entry = layout[name] else { throw WorkbenchError("no weight named \(name) in this model") }
        guard entry.shape == tensor.shape else {
            throw WorkbenchError("\(name): expected shape \(entry.shape), got \(tensor.shape)")
        }
        tensor.values.withUnsafeBufferPointer { (base + entry.offset).update(from: $0.baseAddress!, count: entry.count) }
    }

    /// Fills every weight with seeded Gaussian noise of standard deviation `std` (biases too),
    /// and layer-norm weights with `1 + noise`: a non-trivial random model for tests and benchmarks.
    public func randomize(seed: UInt64, std: Float = 0.02) {
        for (i, entry) in layout.entries.enumerated() {
            var rng = SeededRandom(seed: seed, stream: UInt64(i))
            let isNormWeight = entry.name.hasSuffix("ln1.w") || entry.name.hasSuffix("ln2.w") || entry.name == "ln_final.w"
            let p = base + entry.offset
            for j in 0..<entry.count { p[j] = (isNormWeight ? 1 : 0) + std * rng.nextGaussian() }
        }
    }

    /// Pointers to one block's weights (or gradients) inside this buffer.
    public func block(_ layer: Int) -> BlockPointers {
        BlockPointers(base: base, offsets: layout.blocks[layer])
    }
}

/// Pointers to the weights of one transformer block in a flat buffer (see `ParameterLayout.BlockOffsets`).
/// The trainer builds the same struct over its gradient buffer.
public struct BlockPointers {
    public let ln1_w: UnsafeMutablePointer<Float>?, ln1_b: UnsafeMutablePointer<Float>?
    public let W_Q, b_Q, W_K, b_K, W_V, b_V, W_O, b_O: UnsafeMutablePointer<Float>
    public let ln2_w: UnsafeMutablePointer<Float>?, ln2_b: UnsafeMutablePointer<Float>?
    public let W_in, b_in, W_out, b_out: UnsafeMutablePointer<Float>

    public init(base: UnsafeMutablePointer<Float>, offsets o: ParameterLayout.BlockOffsets) {
        ln1_w = o.ln1_w.map { base + $0 }; ln1_b = o.ln1_b.map { base + $0 }
        W_Q = base + o.W_Q; b_Q = base + o.b_Q; W_K = base + o.W_K; b_K = base + o.b_K
        W_V = base + o.W_V; b_V = base + o.b_V; W_O = base + o.W_O; b_O = base + o.b_O
        ln2_w = o.ln2_w.map { base + $0 }; ln2_b = o.ln2_b.map { base + $0 }
        W_in = base + o.W_in; b_in = base + o.b_in; W_out = base + o.W_out; b_out = base + o.b_out
    }
}
