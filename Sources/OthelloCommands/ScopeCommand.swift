import ArgumentParser
import Foundation
import OthelloAtlas
import OthelloModel
import OthelloProbes
import OthelloReports
import OthelloRules
import OthelloSAEs
import WorkbenchSupport

/// `othello-gpt scope`: the atlas — a static site with a page for every neuron, head, SAE feature and probe.
struct ScopeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scope",
        abstract: "Write the atlas: a static web site with a page for every MLP neuron, attention head, SAE feature and probe.",
        discussion: """
        The folder --out opens from file:// with no server and no network (open index.html), and works the same on \
        any static host. Pages (every unit has a stable address, e.g. index.html#/neuron/L5N421, #/head/L3H2, \
        #/sae/F1234, #/probes):
        - neuron: the direct logit effect of its output weights (W_out · W_U) as a board; its input and output \
          weights' cosines with each square's probe directions (mine − theirs, empty, flipped, legal); its mean \
          activation given each square mine / theirs / empty / legal / flipped / played; frequency and histogram; \
          the top activating positions as boards; and a rule: a depth-3 regression tree over those board features \
          fitted to its activation, with its R² on held-out positions;
        - head: attention scores (previous move, mine / theirs, first position, duplicate token, induction), \
          attention by distance, and what its output writes along each square's probe directions;
        - SAE feature (each --sae): frequency, top positions, the best board property and its F1 (the `sae eval` \
          numbers), the logit effect, probe cosines, histogram, nearest features and neurons;
        - probes: accuracy by layer, per square, by move number and by player to move, and whole-board accuracy \
          beside per-square accuracy;
        - index: per-layer tables sortable and filterable by any score ("rule_r2 > 0.7 and frequency < 0.1"), a \
          unit search, and the study's findings with --study.

        Probes: those of --probe-dir (e.g. a study's probes/) that fit, the rest (linear, relative / flipped / \
        legal, at every resid_mid and resid_post) trained on fresh random games; all kept in --out/probes. \
        "Mine" = the player who moves next. Squares are A0…H7 (row letter, column 0–7), as everywhere in the \
        workbench; pages show standard notation on hover.

        Examples:
          othello-gpt scope --quick --out atlas
          othello-gpt scope --probe-dir study/probes --study study --sae sae.safetensors --out atlas
        """
    )

    @OptionGroup var model: ModelOptions
    @Option(help: ArgumentHelp("Games file (.npy, .txt, .wtb, .pgn) instead of fresh random games.", valueName: "file")) var games: String?
    @Option(help: "Random games (default 2,000; --quick 300).") var count: Int?
    @Flag(help: "A small atlas in a minute or two: 300 games, fewer sampled positions and probe games.") var quick = false
    @Option(help: "Seed of the games, the samples and the probes.") var seed: UInt64 = 1
    @Option(name: .customLong("probe-dir"), help: ArgumentHelp("Folder of probe files to reuse (e.g. a study's probes/).", valueName: "dir")) var probeDir: String?
    @Option(name: .customLong("sae"), help: ArgumentHelp("An SAE (workbench .safetensors or a SAELens folder); repeat for more. Default: the shipped SAE, for the shipped model.", valueName: "file")) var saes: [String] = []
    @Flag(name: .customLong("no-sae"), help: "No SAE pages (not even the shipped SAE's).") var noSAE = false
    @Option(help: ArgumentHelp("A study folder (othello-gpt study --out): its findings on the index and a link to its report.", valueName: "dir")) var study: String?
    @Option(help: ArgumentHelp("Base URL of the live explorer (othello-gpt serve), for links from top positions.", valueName: "url")) var explorer: String?
    @Option(help: "Top activating positions per unit.") var top: Int = 20
    @Option(help: "Output folder.") var out: String = "atlas"
    @Flag(help: "Finish an atlas a stopped run left in --out (same options).") var resume = false
    @Flag(help: "Replace the atlas in --out (only its own files are removed).") var fresh = false
    @Flag(help: "Print a JSON summary.") var json = false

    func run() throws {
        guard !(resume && fresh) else { throw WorkbenchError("give --resume or --fresh, not both") }
        guard top >= 1 else { throw WorkbenchError("--top must be at least 1") }
        guard count == nil || games == nil else { throw WorkbenchError("give --games or --count, not both") }
        let started = Date()
        let source: GameSource = games.map { .file($0) } ?? .random(count: count ?? (quick ? 300 : 2_000), seed: seed, fullLength: false)
        var plan = AtlasPlan(model: model.model ?? "shipped", games: source.description, seed: seed)
        if quick { plan.makeQuick() }
        plan.topCount = top
        plan.probeDir = probeDir
        plan.saes = saes
        plan.study = study
        plan.batchSize = model.batchSize
        // Everything the atlas reads is checked before anything is written.
        let transformer = try model.load()
        let dataset = try source.load()
        var loaded = try saes.map { path -> (name: String, sae: SparseAutoencoder) in
            let sae = try SAEFile.load(from: URL(fileURLWithPath: path))
            try sae.check(fits: transformer.config, source: path)
            return (URL(fileURLWithPath: path).lastPathComponent, sae)
        }
        // The shipped model's atlas shows the shipped SAE's features unless SAEs are given or --no-sae.
        if saes.isEmpty, !noSAE, model.model == nil, let url = SAEFile.shippedURL {
            loaded = [(SAEFile.shippedName, try SAEFile.load(from: url))]
            plan.saes = [SAEFile.shippedName]
        }
        var probeFolder: ProbeFolder?
        if let probeDir {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: probeDir, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw WorkbenchError("--probe-dir \(probeDir): no such folder (give a folder of probe files, e.g. a study's probes/)")
            }
            probeFolder = ProbeFolder(URL(fileURLWithPath: probeDir))
        }
        var findings: [AtlasIndex.Finding] = [], report: String?
        if let study {
            let url = URL(fileURLWithPath: study).appendingPathComponent("report.json")
            let record: StudyRecord
            do { record = try JSONOutput.decoder.decode(StudyRecord.self, from: Data(contentsOf: url)) } catch {
                throw WorkbenchError("--study \(study): cannot read \(url.path) (\(error.localizedDescription)); give a folder written by othello-gpt study")
            }
            findings = record.findings.map { AtlasIndex.Finding(question: $0.question, answer: $0.answer) }
            report = Self.relativePath(from: URL(fileURLWithPath: out), to: URL(fileURLWithPath: study).appendingPathComponent("report.md"))
        }
        let folder = URL(fileURLWithPath: out)
        _ = try Atlas.prepare(folder: folder, plan: plan, resume: resume, fresh: fresh)
        let atlas = Atlas(folder: folder, plan: plan, model: transformer, games: dataset)
        try atlas.build(saes: loaded, probeFolder: probeFolder, findings: findings, studyReport: report, explorer: explorer)
        let size = Self.size(of: folder)
        let config = transformer.config
        let summary = ScopeSummary(out: folder.path, index: folder.appendingPathComponent("index.html").path, neurons: config.nLayers * config.dMLP,
                                   heads: config.nLayers * config.nHeads, features: loaded.reduce(0) { $0 + $1.sae.dSAE }, games: dataset.count,
                                   bytes: size, seconds: Date().timeIntervalSince(started))
        if json {
            print(try JSONOutput.string(summary))
        } else {
            print("atlas: \(summary.index) — \(summary.neurons) neurons, \(summary.heads) heads, \(summary.features) SAE features on \(summary.games) games; \(String(format: "%.1f", Double(size) / 1e6)) MB in \(String(format: "%.0f", summary.seconds)) s")
            print("open it in a browser: file://\(summary.index)")
        }
    }

    struct ScopeSummary: Codable {
        var out: String
        var index: String
        var neurons: Int
        var heads: Int
        var features: Int
        var games: Int
        var bytes: Int
        var seconds: Double
    }

    /// The bytes of every file under `folder`.
    static func size(of folder: URL) -> Int {
        let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.fileSizeKey])
        var total = 0
        while let url = files?.nextObject() as? URL { total += (try? url.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0 }
        return total
    }

    /// The path of `target` relative to folder `base` (for links between two folders of the user's).
    static func relativePath(from base: URL, to target: URL) -> String {
        let a = base.standardizedFileURL.pathComponents, b = target.standardizedFileURL.pathComponents
        var common = 0
        while common < min(a.count, b.count) && a[common] == b[common] { common += 1 }
        return (Array(repeating: "..", count: a.count - common) + b[common...]).joined(separator: "/")
    }
}
