import Foundation
import OthelloModel
import WorkbenchSupport

/// Probe files: the workbench's own safetensors layout, Nanda's published `main_linear_probe.pth`, and the probe
/// checkpoints of Li et al.'s `othello_world`.
///
/// The workbench's layout (F32 safetensors; `M` modes, `d` input width, `C` classes, `H` hidden width):
/// - linear: `W` `[M, d, 8, 8, C]`, `b` `[M, 8, 8, C]` (Nanda's shape, with a bias);
/// - mlp: `W_hidden` `[M, d, H]`, `b_hidden` `[M, H]`, `W_out` `[M, H, 8, 8, C]`, `b_out` `[M, 8, 8, C]`;
/// - `__metadata__`: `format` = `othello-gpt-probe`, `kind`, `basis`, `hook`, `modes` and `classes` (comma
///   separated), `d_in`, `hidden`, and whatever else the probe carries (`training`, `model`, `accuracy`, …).
///
///     try ProbeFile.save(probe, to: URL(fileURLWithPath: "relative-L5.safetensors"))
///     let probe = try ProbeFile.load(from: URL(fileURLWithPath: "main_linear_probe.pth"))   // Nanda's, colour basis
public enum ProbeFile {
    public static let format = "othello-gpt-probe"

    /// Writes `probe` atomically.
    public static func save(_ probe: Probe, to url: URL) throws {
        let (m, d, h, c) = (probe.modes.count, probe.inputWidth, probe.hidden, probe.classes)
        let shapes: [String: [Int]] = probe.kind == .linear
            ? ["W": [m, d, 8, 8, c], "b": [m, 8, 8, c]]
            : ["W_hidden": [m, d, h], "b_hidden": [m, h], "W_out": [m, h, 8, 8, c], "b_out": [m, 8, 8, c]]
        let tensors = probe.layout.tensors.map { entry in
            (name: entry.name, tensor: Tensor(shape: shapes[entry.name]!, values: probe.modes.indices.flatMap { probe.tensor(entry.name, mode: $0) }))
        }
        var metadata = probe.metadata
        metadata["format"] = format
        metadata["kind"] = probe.kind.rawValue
        metadata["basis"] = probe.basis.rawValue
        metadata["hook"] = probe.hook
        metadata["modes"] = probe.modes.map(\.rawValue).joined(separator: ",")
        metadata["classes"] = probe.basis.classNames.joined(separator: ",")
        metadata["d_in"] = String(d)
        metadata["hidden"] = String(h)
        try SafetensorsFile.write(tensors, metadata: metadata, to: url)
    }

    /// Reads a probe by content: the workbench's safetensors, Nanda's one-tensor `.pth`
    /// (`[3 modes, d_model, 8, 8, 3]` or `[d_model, 8, 8, 3]`, options empty/white/black, no bias; read as a colour
    /// probe at `blocks.6.hook_resid_post`, where it was trained), or Li et al.'s state dicts (`proj.weight`,
    /// `proj.bias`: linear; `proj.0.*`, `proj.2.*`: two-layer; classes white/empty/black; no hook recorded).
    public static func load(from url: URL) throws -> Probe {
        try probe(StateDict.read(from: url), path: url.path)
    }

    /// Reads a probe from the bytes of a probe file (see `load(from:)`); `source` names the file in errors.
    public static func load(data: Data, source: String) throws -> Probe {
        try probe(StateDict.read(data: data, source: source), path: source)
    }

    private static func probe(_ dict: StateDict, path: String) throws -> Probe {
        if dict.metadata["format"] == format { return try workbench(dict, path: path) }
        if let tensor = dict.tensors[StateDict.singleTensorKey] { return try nanda(tensor, path: path) }
        if dict.tensors["proj.weight"] != nil || dict.tensors["proj.0.weight"] != nil { return try li(dict, path: path) }
        throw WorkbenchError("\(path): not a probe file: expected the workbench's probe safetensors (metadata format=\(format)), Nanda's main_linear_probe.pth (one tensor) or an othello_world probe (proj.weight / proj.0.weight); found keys \(dict.tensors.keys.sorted().prefix(6).joined(separator: ", "))")
    }

    private static func workbench(_ dict: StateDict, path: String) throws -> Probe {
        let meta = dict.metadata
        func field(_ key: String) throws -> String {
            guard let value = meta[key] else { throw WorkbenchError("\(path): probe metadata lacks \"\(key)\"; re-save the probe with othello-gpt probe train") }
            return value
        }
        let (kindName, basisName) = (try field("kind"), try field("basis"))
        let kind: Probe.Kind, basis: ProbeBasis
        do {
            (kind, basis) = (try Probe.Kind(name: kindName), try ProbeBasis(name: basisName))
        } catch let error as WorkbenchError {
            throw WorkbenchError("\(path): \(error.description)")
        }
        let modes = try field("modes").split(separator: ",").map { name -> ProbeMode in
            guard let mode = ProbeMode(rawValue: String(name)) else { throw WorkbenchError("\(path): unknown probe mode \(name)") }
            return mode
        }
        guard let d = Int(try field("d_in")), d > 0, let h = Int(try field("hidden")), h >= 0, !modes.isEmpty else {
            throw WorkbenchError("\(path): bad probe metadata (d_in, hidden, modes)")
        }
        let (m, c) = (modes.count, basis.classCount)
        let shapes: [(name: String, shape: [Int])] = kind == .linear
            ? [("W", [m, d, 8, 8, c]), ("b", [m, 8, 8, c])]
            : [("W_hidden", [m, d, h]), ("b_hidden", [m, h]), ("W_out", [m, h, 8, 8, c]), ("b_out", [m, 8, 8, c])]
        // The tensors are checked before the probe is allocated: the metadata may claim any d_in or hidden width.
        var tensors: [String: Tensor] = [:]
        for (name, shape) in shapes { tensors[name] = try dict.tensor(name, shape: shape) }
        var probe = Probe(kind: kind, basis: basis, hook: try field("hook"), modes: modes, inputWidth: d, hidden: h,
                          metadata: meta.filter { !["format", "kind", "basis", "hook", "modes", "classes", "d_in", "hidden"].contains($0.key) })
        for entry in probe.layout.tensors {
            let tensor = tensors[entry.name]!
            for mode in 0..<m {
                probe.parameters[mode].replaceSubrange(entry.offset..<(entry.offset + entry.count),
                                                       with: tensor.values[(mode * entry.count)..<((mode + 1) * entry.count)])
            }
        }
        return probe
    }

    /// Nanda's options are [empty, white, black]; the colour basis is [empty, black, white].
    private static func nanda(_ tensor: Tensor, path: String) throws -> Probe {
        var shape = tensor.shape
        if shape.count == 4 { shape.insert(1, at: 0) }
        guard shape.count == 5, shape[2] == 8, shape[3] == 8, shape[4] == 3, [1, 3].contains(shape[0]) else {
            throw WorkbenchError("\(path): one tensor of shape \(tensor.shape); Nanda's probe is [3 modes, d_model, 8, 8, 3] (or [d_model, 8, 8, 3])")
        }
        let (m, d) = (shape[0], shape[1])
        var probe = Probe(kind: .linear, basis: .colour, hook: "blocks.6.hook_resid_post", modes: m == 3 ? ProbeMode.nanda : [.all],
                          inputWidth: d, metadata: ["source": "Nanda main_linear_probe.pth (options empty/white/black, no bias)"])
        let toColour = [0, 2, 1]   // our class k takes Nanda's option toColour[k]
        for mode in 0..<m {
            for i in 0..<d {
                for square in 0..<64 {
                    for k in 0..<3 {
                        probe.parameters[mode][(i * 64 + square) * 3 + k] = tensor.values[((mode * d + i) * 64 + square) * 3 + toColour[k]]
                    }
                }
            }
        }
        return probe
    }

    /// Li et al.'s classes are [white, empty, black] (board value −1, 0, 1 plus one); nn.Linear stores [out, in].
    private static func li(_ dict: StateDict, path: String) throws -> Probe {
        let toColour = [1, 2, 0]   // our class k takes Li's class toColour[k]
        let linear = dict.tensors["proj.weight"] != nil
        let last = linear ? "proj" : "proj.2"
        let outWeight = try dict.tensor("\(last).weight")
        guard outWeight.rank == 2, outWeight.shape[0] == 64 * 3 else {
            throw WorkbenchError("\(path): \(last).weight has shape \(outWeight.shape); an othello_world probe has [192, d] (64 squares × 3 classes)")
        }
        let inner = outWeight.shape[1]
        var probe: Probe
        var d = inner
        var hiddenWeight: Tensor?
        if linear {
            probe = Probe(kind: .linear, basis: .colour, hook: "", modes: [.all], inputWidth: inner)
        } else {
            let first = try dict.tensor("proj.0.weight")
            guard first.rank == 2, first.shape[0] == inner else {
                throw WorkbenchError("\(path): proj.0.weight has shape \(first.shape); expected [\(inner), d]")
            }
            d = first.shape[1]
            hiddenWeight = first
            probe = Probe(kind: .mlp, basis: .colour, hook: "", modes: [.all], inputWidth: d, hidden: inner)
        }
        probe.metadata["source"] = "othello_world probe (classes white/empty/black)"
        let layout = probe.layout
        let outBias = try dict.tensor("\(last).bias", shape: [192])
        let (wName, bName) = linear ? ("W", "b") : ("W_out", "b_out")
        let w = layout.offset(wName), b = layout.offset(bName)
        for i in 0..<inner {
            for square in 0..<64 {
                for k in 0..<3 { probe.parameters[0][w + (i * 64 + square) * 3 + k] = outWeight.values[(square * 3 + toColour[k]) * inner + i] }
            }
        }
        for square in 0..<64 { for k in 0..<3 { probe.parameters[0][b + square * 3 + k] = outBias.values[square * 3 + toColour[k]] } }
        if let hiddenWeight {
            let hiddenBias = try dict.tensor("proj.0.bias", shape: [inner])
            let wh = layout.offset("W_hidden"), bh = layout.offset("b_hidden")
            for i in 0..<d { for j in 0..<inner { probe.parameters[0][wh + i * inner + j] = hiddenWeight.values[j * d + i] } }
            for j in 0..<inner { probe.parameters[0][bh + j] = hiddenBias.values[j] }
        }
        return probe
    }

    /// Nanda's conversion of a three-mode colour probe into one mine/theirs probe (TransformerLens' Othello
    /// tutorial): empty = mean of the two modes' empty, mine = mean of black-to-move's black and white-to-move's
    /// white, theirs = the other two. The result is in the relative basis (empty, theirs, mine), mode `all`.
    public static func relative(fromColour probe: Probe) throws -> Probe {
        guard probe.kind == .linear, probe.basis == .colour,
              let black = probe.modes.firstIndex(of: .blackToMove), let white = probe.modes.firstIndex(of: .whiteToMove) else {
            throw WorkbenchError("converting to mine/theirs needs a linear colour probe with black-to-move and white-to-move modes (Nanda's three-mode probe)")
        }
        var out = Probe(kind: .linear, basis: .relative, hook: probe.hook, modes: [.all], inputWidth: probe.inputWidth,
                        metadata: probe.metadata.merging(["converted": "mine/theirs from the black- and white-to-move colour modes (Nanda)"]) { $1 })
        let (B, W) = (probe.parameters[black], probe.parameters[white])
        // colour classes: 0 empty, 1 black, 2 white → relative classes: 0 empty, 1 theirs, 2 mine
        for group in 0..<(out.parameters[0].count / 3) {
            let i = group * 3
            out.parameters[0][i] = 0.5 * (B[i] + W[i])
            out.parameters[0][i + 1] = 0.5 * (B[i + 2] + W[i + 1])
            out.parameters[0][i + 2] = 0.5 * (B[i + 1] + W[i + 2])
        }
        return out
    }
}

extension StateDict {
    /// The tensor `name` with `shape`, or a one-line error naming the file, key and shape.
    func tensor(_ name: String, shape: [Int]? = nil) throws -> Tensor {
        guard let tensor = tensors[name] else { throw WorkbenchError("\(source): missing key \(name)") }
        if let shape, tensor.shape != shape {
            throw WorkbenchError("\(source): \(name) has shape \(tensor.shape), expected \(shape)")
        }
        return tensor
    }
}
