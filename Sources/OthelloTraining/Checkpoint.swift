import Foundation
import OthelloModel
import WorkbenchSupport

/// A training checkpoint: one safetensors file with the weights (TransformerLens names), the AdamW
/// moments (`optimizer.exp_avg.<name>`, `optimizer.exp_avg_sq.<name>`, PyTorch's names) and, in
/// `__metadata__`, the run's options (config, seed, schedule, data source), the step and the elapsed
/// time. The games of every step are a function of (seed, step), so this is the whole state: a
/// resumed run continues exactly as if it had not stopped.
///
///     try checkpoint.write(to: URL(fileURLWithPath: "run.ckpt.safetensors"))
///     let back = try Checkpoint.read(from: URL(fileURLWithPath: "run.ckpt.safetensors"))
public struct Checkpoint {
    public static let format = "othello-gpt training checkpoint v1"

    public var options: TrainingOptions
    /// Steps completed.
    public var step: Int
    /// Seconds spent training so far, over every session of the run.
    public var elapsed: Double
    public var parameters: ModelParameters
    public var firstMoment: [Float]
    public var secondMoment: [Float]

    public init(options: TrainingOptions, step: Int, elapsed: Double, parameters: ModelParameters,
                firstMoment: [Float], secondMoment: [Float]) {
        self.options = options
        self.step = step
        self.elapsed = elapsed
        self.parameters = parameters
        self.firstMoment = firstMoment
        self.secondMoment = secondMoment
    }

    /// Writes the checkpoint atomically (a crash mid-write leaves the previous checkpoint in place).
    ///
    /// `compact: true` stores the weights as F16 and the moments as BF16 (F32's range: second moments are
    /// ≈ 1e-10), half the size, to hand a run to another machine; `read` takes either, and a run resumed from
    /// a compact checkpoint goes on from the rounded state (no longer bit-exact with an uninterrupted run).
    public func write(to url: URL, compact: Bool = false) throws {
        let layout = parameters.layout
        let weightType: SafetensorsFile.StoredType = compact ? .f16 : .f32
        let momentType: SafetensorsFile.StoredType = compact ? .bf16 : .f32
        var tensors = Self.weightTensors(parameters).map { ($0.name, $0.tensor, weightType) }
        for (prefix, moment) in [("optimizer.exp_avg.", firstMoment), ("optimizer.exp_avg_sq.", secondMoment)] {
            for entry in layout.entries {
                tensors.append((prefix + entry.name, Tensor(shape: entry.shape, values: Array(moment[entry.offset..<(entry.offset + entry.count)])), momentType))
            }
        }
        let optionsJSON = String(decoding: try JSONEncoder().encode(options), as: UTF8.self)
        let metadata = [
            "format": Self.format,
            "training_options": optionsJSON,
            "step": String(step),
            "games_seen": String(step * options.batchSize),
            "elapsed_seconds": String(elapsed),
        ]
        try SafetensorsFile.write(tensors, metadata: metadata, to: url)
    }

    /// Reads a checkpoint written by `write`, checking every tensor's presence and shape.
    public static func read(from url: URL) throws -> Checkpoint {
        try read(data: readFile(url, mapped: true), source: url.path)
    }

    /// Reads the bytes of a checkpoint file (see `read(from:)`); `source` names the file in errors.
    public static func read(data: Data, source: String) throws -> Checkpoint {
        let file = try SafetensorsFile(data: data, path: source)
        func fail(_ why: String) -> WorkbenchError {
            WorkbenchError("\(source): \(why); resume from a checkpoint written by `othello-gpt train`")
        }
        guard file.metadata["format"] == format else {
            throw fail("not a training checkpoint (its metadata has no \"format\": \"\(format)\")")
        }
        guard let optionsText = file.metadata["training_options"],
              let options = try? JSONDecoder().decode(TrainingOptions.self, from: Data(optionsText.utf8)) else {
            throw fail("the training options in its metadata are missing or unreadable")
        }
        guard let step = file.metadata["step"].flatMap(Int.init), step >= 0,
              let elapsed = file.metadata["elapsed_seconds"].flatMap(Double.init) else {
            throw fail("the step or elapsed time in its metadata is missing or unreadable")
        }
        do { try options.validate() } catch let error as WorkbenchError { throw fail(error.description) }
        guard step <= options.totalSteps, elapsed.isFinite, elapsed >= 0 else {
            throw fail("step \(step) or elapsed time \(elapsed) s does not fit a run of \(options.totalSteps) steps")
        }
        // Nothing is allocated for the model before the file is known to hold it: a config may claim a billion layers
        // (the layout alone would not fit; looking for them stops at the first one missing) or a huge d_model.
        let config = options.config
        for layer in 0..<config.nLayers where file.entry("blocks.\(layer).attn.W_Q") == nil {
            throw fail("tensor blocks.\(layer).attn.W_Q is missing")
        }
        let layout = ParameterLayout(config: config)
        for entry in layout.entries {
            for name in [entry.name, "optimizer.exp_avg." + entry.name, "optimizer.exp_avg_sq." + entry.name] {
                guard let header = file.entry(name) else { throw fail("tensor \(name) is missing") }
                guard header.shape == entry.shape else {
                    throw fail("tensor \(name) has shape \(header.shape), the model config says \(entry.shape)")
                }
            }
        }
        let parameters = ModelParameters(layout: layout)
        var firstMoment = [Float](repeating: 0, count: parameters.count)
        var secondMoment = firstMoment
        for entry in layout.entries {
            for (name, target) in [(entry.name, 0), ("optimizer.exp_avg." + entry.name, 1), ("optimizer.exp_avg_sq." + entry.name, 2)] {
                let tensor = try file.tensor(name)
                switch target {
                case 0: tensor.values.withUnsafeBufferPointer { (parameters.base + entry.offset).update(from: $0.baseAddress!, count: entry.count) }
                case 1: firstMoment.replaceSubrange(entry.offset..<(entry.offset + entry.count), with: tensor.values)
                default: secondMoment.replaceSubrange(entry.offset..<(entry.offset + entry.count), with: tensor.values)
                }
            }
        }
        return Checkpoint(options: options, step: step, elapsed: elapsed, parameters: parameters,
                          firstMoment: firstMoment, secondMoment: secondMoment)
    }

    /// The weights as named tensors, in buffer order.
    static func weightTensors(_ parameters: ModelParameters) -> [(name: String, tensor: Tensor)] {
        parameters.layout.entries.map { ($0.name, parameters.tensor($0.name)) }
    }
}
