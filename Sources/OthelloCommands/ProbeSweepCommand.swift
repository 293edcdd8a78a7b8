import ArgumentParser
import Foundation
import OthelloModel
import OthelloPlots
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
            try ProbeFile.save(entry.probe, to: folder.appendingPathComponent("probes/\(Self.fileName(entry)).safetensors"))
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

    static func fileName(_ entry: ProbeSweep.Entry) -> String { "\(entry.hook.name)-\(entry.kind.rawValue)-\(entry.basis.rawValue)" }
}

/// A sweep's results as a table, JSON and figures.
struct ProbeSweepReport {
    let sweep: ProbeSweep
    let hooks: [ProbeHook]
    let kinds: [Probe.Kind]
    let bases: [ProbeBasis]
    let model: String
    let source: String
    let settings: ProbeTrainingSettings
    let seconds: Double

    /// The columns of the table: the kind × basis grid, then the extra linear probes.
    var columns: [(Probe.Kind, ProbeBasis)] {
        var seen = Set<String>()
        return sweep.entries.compactMap { entry in seen.insert("\(entry.kind)-\(entry.basis)").inserted ? (entry.kind, entry.basis) : nil }
    }

    func label(_ kind: Probe.Kind, _ basis: ProbeBasis) -> String { "\(kind == .mlp ? "MLP" : "linear") \(basis.rawValue)" }

    func markdown() -> String {
        let hasControl = sweep.entries.contains { $0.control != nil }
        var header = ["hook"] + columns.map { label($0.0, $0.1) }
        if hasControl { header += columns.map { "random-init \(label($0.0, $0.1))" } }
        var lines = ["| " + header.joined(separator: " | ") + " |", "|" + String(repeating: "---|", count: header.count)]
        for hook in hooks {
            var cells = [hook.name]
            for (kind, basis) in columns { cells.append(sweep.entry(hook: hook, kind: kind, basis: basis).map { percent($0.score.accuracy) } ?? "") }
            if hasControl {
                for (kind, basis) in columns { cells.append(sweep.entry(hook: hook, kind: kind, basis: basis)?.control.map { percent($0.accuracy) } ?? "") }
            }
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        lines.append("")
        lines.append("Trivial baseline (most frequent class per square and position): " +
                     sweep.baselines.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \(percent($0.value.accuracy))" }.joined(separator: ", ") + ".")
        lines.append("Per-square accuracy on \(sweep.split.test.count) held-out games (\(sweep.split.train.count) for training) of \(source); model \(model); " +
                     "\(settings.epochs) epochs of AdamW, lr \(settings.learningRate), batch \(settings.batchSize); \(Int(seconds)) s.")
        if let directions = directionSummary() {
            lines.append(String(format: "Directions at %@ (linear mine/theirs): mean |cos| between different squares' mine − theirs directions %.3f; mean cos(mine − theirs, empty) per square %.3f%@.",
                                directions.hook, directions.meanAbsCrossSquare, directions.meanMineEmpty,
                                directions.meanMineFlipped.map { String(format: "; mean |cos(mine − theirs, flipped)| %.3f", $0) } ?? ""))
        }
        return lines.joined(separator: "\n")
    }

    struct DirectionSummary {
        let hook: String
        let directions: ProbeDirections
        let cosines: [[Double]]
        let meanAbsCrossSquare: Double
        let meanMineEmpty: Double
        let mineEmpty: [Double]
        let mineFlipped: [Double]?
        var meanMineFlipped: Double? { mineFlipped.map { $0.map(abs).reduce(0, +) / 64 } }
    }

    func directionSummary() -> DirectionSummary? {
        guard let best = sweep.best(kind: .linear, basis: .relative), let directions = try? ProbeDirections(probe: best.probe) else { return nil }
        let cosines = ProbeDirections.cosineMatrix(directions.mineMinusTheirs, directions.mineMinusTheirs)
        var sum = 0.0
        for i in 0..<64 { for j in 0..<64 where i != j { sum += abs(cosines[i][j]) } }
        let mineEmpty = ProbeDirections.cosinePerSquare(directions.mineMinusTheirs, directions.empty)
        let flipped = sweep.entry(hook: best.hook, kind: .linear, basis: .flipped).flatMap { try? ProbeDirections(probe: $0.probe) }
        return DirectionSummary(hook: best.hook.name, directions: directions, cosines: cosines, meanAbsCrossSquare: sum / (64 * 63),
                                meanMineEmpty: mineEmpty.reduce(0, +) / 64, mineEmpty: mineEmpty,
                                mineFlipped: flipped.map { ProbeDirections.cosinePerSquare(directions.mineMinusTheirs, $0.yesMinusNo) })
    }

    func json() throws -> String {
        var results: [[String: Any]] = []
        for entry in sweep.entries {
            var object: [String: Any] = ["hook": entry.hook.name, "kind": entry.kind.rawValue, "basis": entry.basis.rawValue,
                                         "accuracy": entry.score.accuracy, "per_square": entry.score.perSquare,
                                         "file": "probes/\(ProbeSweepCommand.fileName(entry)).safetensors"]
            if let control = entry.control { object["control_random_model_accuracy"] = control.accuracy }
            results.append(object)
        }
        var object: [String: Any] = [
            "model": model, "games": source, "train_games": sweep.split.train.count, "test_games": sweep.split.test.count,
            "settings": try JSONSerialization.jsonObject(with: Data(settings.json.utf8)), "seconds": seconds, "results": results,
            "trivial_baseline": Dictionary(uniqueKeysWithValues: sweep.baselines.map { ($0.key.rawValue, $0.value.accuracy) }),
        ]
        var best: [String: Any] = [:]
        for (kind, basis) in columns {
            if let entry = sweep.best(kind: kind, basis: basis) {
                best["\(kind.rawValue)_\(basis.rawValue)"] = ["hook": entry.hook.name, "accuracy": entry.score.accuracy]
            }
        }
        object["best"] = best
        if let d = directionSummary() {
            var directions: [String: Any] = ["hook": d.hook, "mean_abs_cos_between_squares": d.meanAbsCrossSquare,
                                             "cos_mine_theirs_empty_per_square": d.mineEmpty]
            if let flipped = d.mineFlipped { directions["cos_mine_theirs_flipped_per_square"] = flipped }
            object["directions"] = directions
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
        return String(decoding: data, as: UTF8.self)
    }

    func drawFigures(in folder: URL) throws {
        // Accuracy by layer: x = position of the hook in the list (0 = embeddings for the default hooks).
        let x = hooks.indices.map(Double.init)
        let palette: [RGB] = [.init(31, 119, 180), .init(214, 39, 40), .init(44, 160, 44), .init(148, 103, 189), .init(255, 127, 14), .init(140, 86, 75)]
        var series: [LineSeries] = []
        // The kinds × bases grid only: the extra linear probes (flipped, near its 96% baseline) would squash the axis.
        for (i, (kind, basis)) in columns.filter({ kinds.contains($0.0) && bases.contains($0.1) }).enumerated() {
            let entries = hooks.map { sweep.entry(hook: $0, kind: kind, basis: basis) }
            let color = palette[i % palette.count]
            series.append(LineSeries(label(kind, basis), x: x, y: entries.map { 100 * ($0?.score.accuracy ?? .nan) }, color: color, markers: true))
            if entries.contains(where: { $0?.control != nil }) {
                series.append(LineSeries("\(label(kind, basis)), random-init", x: x, y: entries.map { 100 * ($0?.control?.accuracy ?? .nan) },
                                         color: color, dashed: true))
            }
        }
        let isResidualStream = hooks.first?.name == "embed"
            && hooks.dropFirst().enumerated().allSatisfy { $1.name == "blocks.\($0).hook_resid_post" }
        let xLabel = isResidualStream ? "layer (0 = embeddings, L = blocks.L-1 resid_post)" : "hook (in the order given)"
        try LinePlot(series: series, title: "Probe accuracy by layer (held-out games)", xLabel: xLabel, yLabel: "per-square accuracy (%)")
            .write(to: folder.appendingPathComponent("accuracy-by-layer.png"))

        let bests = columns.compactMap { sweep.best(kind: $0.0, basis: $0.1) }
        try BoardGrid(boards: bests.map { entry in
            BoardHeatmap(values: entry.score.perSquare.map { 100 * $0 }, cellText: .values(decimals: 0),
                         title: "\(label(entry.kind, entry.basis)), \(entry.hook.shortName)")
        }, columns: min(3, bests.count), title: "Per-square accuracy (%) at each probe's best layer",
           scale: .sequential(limits: 50...100, label: "accuracy (%)"), cellSize: 30)
            .write(to: folder.appendingPathComponent("per-square.png"))

        if let d = directionSummary() {
            try BoardGrid(boards: (0..<64).map { square in
                BoardHeatmap(values: d.cosines[square], marks: [BoardMark(square, .edited)], title: SquareNotation.othelloGPT.label(square))
            }, columns: 8, title: "cos(mine − theirs direction of the marked square, every square's), \(d.hook)",
               scale: .diverging(limit: 1, label: "cosine"), cellSize: 12, markLabels: [.edited: "the square"])
                .write(to: folder.appendingPathComponent("directions.png"))
            let labels = (0..<64).map { SquareNotation.othelloGPT.label($0) }
            try MatrixHeatmap(values: d.cosines.map { $0.map { Optional($0) } }, rowLabels: labels, columnLabels: labels,
                              title: "Cosine similarity of the mine − theirs directions, \(d.hook)", scale: .diverging(limit: 1, label: "cosine"))
                .write(to: folder.appendingPathComponent("direction-cosines.png"))
        }
    }
}
