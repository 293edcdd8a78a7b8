import ArgumentParser
import Foundation
import OthelloModel
import OthelloPlots
import OthelloReports
import OthelloProbes
import OthelloRules
import WorkbenchSupport

/// `othello-gpt probe sweep`: every layer × probe kind × basis, with the controls, as a table, JSON and figures.
struct ProbeSweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Probe every layer with linear and MLP probes in the colour and mine/theirs bases, against the controls.",
        discussion: """
        Trains, at each hook (default: the embeddings and every block's resid_post), a probe of every --kinds in \
        every --bases, plus a linear `flipped` probe (for the flipped direction), on the training games, and \
        scores each on the held-out games beside the controls: the same probe on a randomly initialised model of \
        the same shape, and the trivial baseline (most frequent class per square and position). Writes into \
        --out: sweep.md (the table), sweep.json, every probe under probes/, and the figures \
        accuracy-by-layer.png (one line per probe kind, controls dashed), per-square.png (per-square accuracy of \
        each probe kind at its best layer), directions.png (at the best linear mine/theirs layer: for each \
        square, the cosine of its mine − theirs direction with every other square's, as a board) and \
        direction-cosines.png (the 64 × 64 matrix).

        The defaults are the recipe of the calibration figures: 5,000 full-length random games, 4,000 for \
        training and 1,000 held out, 4 epochs of AdamW at lr 1e-3, batch 512.

        Example:
          othello-gpt probe sweep --count 5000 --out probe-sweep
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var data: ProbeGameOptions
    @OptionGroup var training: ProbeTrainingOptions
    @Option(help: "Comma-separated hooks (default: embed and every blocks.L.hook_resid_post).") var hooks: String?
    @Option(help: "Comma-separated probe kinds.") var kinds: String = "linear,mlp"
    @Option(help: "Comma-separated bases.") var bases: String = "colour,relative"
    @Flag(name: .customLong("no-control"), help: "Skip the random-init model control (halves the time).") var noControl = false
    @Option(help: "Output folder.") var out: String = "probe-sweep"
    @Flag(help: "Also print sweep.json to standard output.") var json = false

    func run() throws {
        let kindList = try kinds.split(separator: ",").map { try Probe.Kind(name: String($0)) }
        let basisList = try bases.split(separator: ",").map { try ProbeBasis(name: String($0)) }
        guard !kindList.isEmpty, !basisList.isEmpty else { throw WorkbenchError("--kinds and --bases need at least one entry each") }
        let settings = training.settings
        try settings.validate()
        let transformer = try model.load()
        let config = transformer.config
        let hookList = try hooks.map { try $0.split(separator: ",").map { try ProbeHook(name: String($0), config: config) } }
            ?? ProbeHook.residualStream(config: config)
        let range = try data.positionRange(config: config)
        let (games, source) = try data.load(seed: training.seed)
        let split = try GameSplit(count: games.count, testFraction: training.testFraction, seed: training.seed, source: source)
        let folder = URL(fileURLWithPath: out)
        try createOutputFolder(folder)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("probes"), withIntermediateDirectories: true)

        let started = Date()
        let sweep = try ProbeSweep.run(model: transformer, games: games, split: split, hooks: hookList, kinds: kindList, bases: basisList,
                                       extraLinearBases: [.flipped], positionRange: range, settings: settings,
                                       controls: !noControl, batchSize: model.batchSize, source: source) { line in
            if isatty(STDERR_FILENO) == 0 { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        }
        let seconds = Date().timeIntervalSince(started)
        for entry in sweep.entries {
            try ProbeFile.save(entry.probe, to: folder.appendingPathComponent("probes/" + ProbeSweepReport.fileName(entry)))
        }
        let report = ProbeSweepReport(sweep: sweep, hooks: hookList, kinds: kindList, bases: basisList, model: model.model ?? "shipped",
                                      source: source, settings: settings, seconds: seconds)
        let jsonText = try report.json()
        try AtomicFile.write(Data(jsonText.utf8), to: folder.appendingPathComponent("sweep.json"))
        try AtomicFile.write(Data(report.markdown().utf8), to: folder.appendingPathComponent("sweep.md"))
        try report.drawFigures(in: folder)
        if json { print(jsonText) } else { print(report.markdown()) }
        FileHandle.standardError.write(Data("wrote \(out)/sweep.md, sweep.json, probes/ and figures (\(Int(seconds)) s)\n".utf8))
    }
}
