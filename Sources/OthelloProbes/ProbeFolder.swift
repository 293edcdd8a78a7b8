import Foundation
import OthelloModel

/// A folder of probe files named `HOOK-KIND-BASIS.safetensors`, as `probe sweep` and `study` write them under
/// probes/ (`blocks.4.hook_resid_post-linear-relative.safetensors`, `embed-mlp-colour.safetensors`).
///
/// The residual stream entering block L (`blocks.L.hook_resid_pre`) holds exactly what the embeddings (L = 0) or
/// `blocks.(L-1).hook_resid_post` hold, so a sweep saves no resid_pre probes: the folder serves a resid_pre from the
/// file of the hook it equals, and saves one there.
///
///     let folder = ProbeFolder(URL(fileURLWithPath: "study/probes"))
///     let probe = try folder.load(hook: "blocks.5.hook_resid_pre")   // reads blocks.4.hook_resid_post-linear-relative
public struct ProbeFolder {
    public let url: URL

    public init(_ url: URL) { self.url = url }

    /// The file name of a probe of `kind` in `basis` at `hook`.
    public static func fileName(hook: String, kind: Probe.Kind, basis: ProbeBasis) -> String {
        "\(hook)-\(kind.rawValue)-\(basis.rawValue).safetensors"
    }

    /// The hook whose activations equal `hook`'s: the embeddings for resid_pre of block 0, resid_post of block L-1
    /// for resid_pre of block L; every other hook is itself.
    public static func storedHook(for hook: String) -> String {
        guard let point = try? HookPoint(name: hook), point.kind == .residPre, let layer = point.layer else { return hook }
        return layer == 0 ? "embed" : HookPoint(.residPost, layer: layer - 1).name
    }

    /// Where the probe of `kind` in `basis` serving `hook` lives in the folder.
    public func file(hook: String, kind: Probe.Kind = .linear, basis: ProbeBasis = .relative) -> URL {
        url.appendingPathComponent(Self.fileName(hook: Self.storedHook(for: hook), kind: kind, basis: basis))
    }

    /// The probe serving `hook`, relabelled to `hook`; nil when the folder has none.
    public func load(hook: String, kind: Probe.Kind = .linear, basis: ProbeBasis = .relative) throws -> Probe? {
        let file = file(hook: hook, kind: kind, basis: basis)
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        var probe = try ProbeFile.load(from: file)
        probe.hook = hook
        return probe
    }

    /// Saves `probe` under its hook (a resid_pre probe under the hook it equals, recorded as that hook) and returns
    /// the file name. With `replacing: false` an existing file is kept.
    @discardableResult
    public func save(_ probe: Probe, replacing: Bool = true) throws -> String {
        let stored = Self.storedHook(for: probe.hook)
        let name = Self.fileName(hook: stored, kind: probe.kind, basis: probe.basis)
        let file = url.appendingPathComponent(name)
        if !replacing && FileManager.default.fileExists(atPath: file.path) { return name }
        var saved = probe
        saved.hook = stored
        try ProbeFile.save(saved, to: file)
        return name
    }
}
