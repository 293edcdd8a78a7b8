import Foundation
import OthelloModel
import OthelloPlots
import OthelloProbes
import OthelloRules
import WorkbenchSupport

/// A sweep's results as a table, JSON and figures.
public struct ProbeSweepReport {
    public let sweep: ProbeSweep
    public let hooks: [ProbeHook]
    public let kinds: [Probe.Kind]
    public let bases: [ProbeBasis]
    public let model: String
    public let source: String
    public let settings: ProbeTrainingSettings
    public let seconds: Double

    public init(sweep: ProbeSweep, hooks: [ProbeHook], kinds: [Probe.Kind], bases: [ProbeBasis], model: String, source: String,
                settings: ProbeTrainingSettings, seconds: Double) {
        self.sweep = sweep
        self.hooks = hooks
        self.kinds = kinds
        self.bases = bases
        self.model = model
        self.source = source
        self.settings = settings
        self.seconds = seconds
    }

    /// The file name of an entry's probe in the sweep's probes/ folder.
    public static func fileName(_ entry: ProbeSweep.Entry) -> String {
        ProbeFolder.fileName(hook: entry.hook.name, kind: entry.kind, basis: entry.basis)
    }

    /// The columns of the table: the kind × basis grid, then the extra linear probes.
    public var columns: [(Probe.Kind, ProbeBasis)] {
        var seen = Set<String>()
        return sweep.entries.compactMap { entry in seen.insert("\(entry.kind)-\(entry.basis)").inserted ? (entry.kind, entry.basis) : nil }
    }

    public func label(_ kind: Probe.Kind, _ basis: ProbeBasis) -> String { "\(kind == .mlp ? "MLP" : "linear") \(basis.rawValue)" }

    public func markdown() -> String {
        let hasControl = sweep.entries.contains { $0.control != nil }
        var header = ["hook"] + columns.map { label($0.0, $0.1) }
        if hasControl { header += columns.map { "random-init \(label($0.0, $0.1))" } }
        var lines = ["| " + header.joined(separator: " | ") + " |", "|" + String(repeating: "---|", count: header.count)]
        for hook in hooks {
            var cells = [hook.name]
            for (kind, basis) in columns { cells.append(sweep.entry(hook: hook, kind: kind, basis: basis).map { Self.cell($0.score, basis: basis) } ?? "") }
            if hasControl {
                for (kind, basis) in columns { cells.append(sweep.entry(hook: hook, kind: kind, basis: basis)?.control.map { percent($0.accuracy) } ?? "") }
            }
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        lines.append("")
        lines.append("Trivial baseline (most frequent class per square and position): " +
                     sweep.baselines.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \(Self.cell($0.value, basis: $0.key))" }.joined(separator: ", ") + ".")
        if columns.contains(where: { $0.1.classCount == 2 }) {
            lines.append("Two-class targets (\(columns.filter { $0.1.classCount == 2 }.map(\.1.rawValue).joined(separator: ", "))): accuracy, then the balanced accuracy " +
                         "(the mean recall of the two classes: 50% for a probe that always gives the frequent answer) and the F1 of \"yes\".")
        }
        lines.append("Per-square accuracy on \(sweep.split.test.count) held-out games (\(sweep.split.train.count) for training) of \(source); model \(model); " +
                     "\(settings.epochs) epochs of AdamW, lr \(settings.learningRate), batch \(settings.batchSize); \(Int(seconds)) s.")
        if let directions = directionSummary() {
            lines.append(String(format: "Directions at %@ (linear mine/theirs): mean |cos| between different squares' mine − theirs directions %.3f; mean cos(mine − theirs, empty) per square %.3f%@.",
                                directions.hook, directions.meanAbsCrossSquare, directions.meanMineEmpty,
                                directions.meanMineFlipped.map { String(format: "; mean |cos(mine − theirs, flipped)| %.3f", $0) } ?? ""))
        }
        return lines.joined(separator: "\n")
    }

    /// A score as a table cell: the accuracy, and for two-class targets the balanced accuracy and F1.
    static func cell(_ score: ProbeScore, basis: ProbeBasis) -> String {
        guard basis.classCount == 2 else { return percent(score.accuracy) }
        return String(format: "%@ (bal. %@, F1 %.2f)", percent(score.accuracy), percent(score.balancedAccuracy), score.f1())
    }

    public struct DirectionSummary {
        public let hook: String
        public let directions: ProbeDirections
        public let cosines: [[Double]]
        public let meanAbsCrossSquare: Double
        public let meanMineEmpty: Double
        public let mineEmpty: [Double]
        public let mineFlipped: [Double]?
        public var meanMineFlipped: Double? { mineFlipped.map { $0.map(abs).reduce(0, +) / 64 } }
    }

    public func directionSummary() -> DirectionSummary? {
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

    /// sweep.json: the settings, every probe's score (and its control's), the baselines, the best layer of each
    /// probe kind and the direction geometry.
    public struct JSONRecord: Codable {
        public struct Result: Codable {
            public var hook, kind, basis: String
            public var accuracy: Double
            public var perSquare: [Double]
            public var file: String
            public var controlRandomModelAccuracy: Double?
            /// Two-class targets only.
            public var balancedAccuracy, f1, controlRandomModelBalancedAccuracy: Double?
        }
        public struct Best: Codable {
            public var hook: String
            public var accuracy: Double
        }
        public struct Directions: Codable {
            public var hook: String
            public var meanAbsCosBetweenSquares: Double
            public var cosMineTheirsEmptyPerSquare: [Double]
            public var cosMineTheirsFlippedPerSquare: [Double]?
        }
        public var model, games: String
        public var trainGames, testGames: Int
        public var settings: ProbeTrainingSettings
        public var seconds: Double
        public var results: [Result]
        public var trivialBaseline: [String: Double]
        /// The two-class bases' baseline balanced accuracy and F1.
        public var trivialBaselineBalancedAccuracy, trivialBaselineF1: [String: Double]
        /// Keyed `KIND_BASIS`, e.g. `linear_relative`.
        public var best: [String: Best]
        public var directions: Directions?
    }

    public var record: JSONRecord {
        let results = sweep.entries.map { entry in
            let twoClass = entry.basis.classCount == 2
            return JSONRecord.Result(hook: entry.hook.name, kind: entry.kind.rawValue, basis: entry.basis.rawValue, accuracy: entry.score.accuracy,
                                     perSquare: entry.score.perSquare, file: "probes/" + Self.fileName(entry), controlRandomModelAccuracy: entry.control?.accuracy,
                                     balancedAccuracy: twoClass ? entry.score.balancedAccuracy : nil, f1: twoClass ? entry.score.f1() : nil,
                                     controlRandomModelBalancedAccuracy: twoClass ? entry.control?.balancedAccuracy : nil)
        }
        let twoClassBaselines = sweep.baselines.filter { $0.key.classCount == 2 }
        var best: [String: JSONRecord.Best] = [:]
        for (kind, basis) in columns {
            if let entry = sweep.best(kind: kind, basis: basis) { best["\(kind.rawValue)_\(basis.rawValue)"] = .init(hook: entry.hook.name, accuracy: entry.score.accuracy) }
        }
        let directions = directionSummary().map {
            JSONRecord.Directions(hook: $0.hook, meanAbsCosBetweenSquares: $0.meanAbsCrossSquare, cosMineTheirsEmptyPerSquare: $0.mineEmpty,
                                  cosMineTheirsFlippedPerSquare: $0.mineFlipped)
        }
        return JSONRecord(model: model, games: source, trainGames: sweep.split.train.count, testGames: sweep.split.test.count, settings: settings,
                          seconds: seconds, results: results,
                          trivialBaseline: Dictionary(uniqueKeysWithValues: sweep.baselines.map { ($0.key.rawValue, $0.value.accuracy) }),
                          trivialBaselineBalancedAccuracy: Dictionary(uniqueKeysWithValues: twoClassBaselines.map { ($0.key.rawValue, $0.value.balancedAccuracy) }),
                          trivialBaselineF1: Dictionary(uniqueKeysWithValues: twoClassBaselines.map { ($0.key.rawValue, $0.value.f1()) }),
                          best: best, directions: directions)
    }

    public func json() throws -> String { try JSONOutput.string(record) }

    public func drawFigures(in folder: URL) throws {
        // Accuracy by layer: x = position of the hook in the list (0 = embeddings for the default hooks).
        let x = hooks.indices.map(Double.init)
        let palette: [RGB] = [.init(31, 119, 180), .init(214, 39, 40), .init(44, 160, 44), .init(148, 103, 189), .init(255, 127, 14), .init(140, 86, 75)]
        /// One line per probe column by layer, and its random-init control dashed, of `value` (a share) in percent.
        func lines(_ probes: [(Probe.Kind, ProbeBasis)], _ value: (ProbeScore) -> Double) -> [LineSeries] {
            probes.enumerated().flatMap { i, column -> [LineSeries] in
                let (kind, basis) = column
                let entries = hooks.map { sweep.entry(hook: $0, kind: kind, basis: basis) }
                let color = palette[i % palette.count]
                var out = [LineSeries(label(kind, basis), x: x, y: entries.map { $0.map { 100 * value($0.score) } ?? .nan }, color: color, markers: true)]
                if entries.contains(where: { $0?.control != nil }) {
                    out.append(LineSeries("\(label(kind, basis)), random-init", x: x, y: entries.map { $0?.control.map { 100 * value($0) } ?? .nan },
                                          color: color, dashed: true))
                }
                return out
            }
        }
        // The kinds × bases grid only: the extra linear probes (flipped, near its 96% baseline) would squash the axis.
        let series = lines(columns.filter { kinds.contains($0.0) && bases.contains($0.1) }, \.accuracy)
        let isResidualStream = hooks.first?.name == "embed"
            && hooks.dropFirst().enumerated().allSatisfy { $1.name == HookPoint(.residPost, layer: $0).name }
        let xLabel = isResidualStream ? "layer (0 = embeddings, L = blocks.L-1 resid_post)" : "hook (in the order given)"
        try LinePlot(series: series, title: "Probe accuracy by layer (held-out games)", xLabel: xLabel, yLabel: "per-square accuracy (%)")
            .write(to: folder.appendingPathComponent("accuracy-by-layer.png"))

        // The two-class probes (flipped, …) by balanced accuracy, where their signal shows (the baseline's is near 50%).
        let twoClass = columns.filter { $0.1.classCount == 2 }
        if !twoClass.isEmpty {
            var series = lines(twoClass, \.balancedAccuracy)
            for basis in Set(twoClass.map(\.1)).sorted(by: { $0.rawValue < $1.rawValue }) {
                if let baseline = sweep.baselines[basis] {
                    let y = 100 * baseline.balancedAccuracy
                    series.append(LineSeries("trivial baseline, \(basis.rawValue)", x: [x.first ?? 0, x.last ?? 0], y: [y, y], color: .init(0, 0, 0), dashed: true))
                }
            }
            try LinePlot(series: series, title: "Two-class probes: balanced accuracy by layer (held-out games)", xLabel: xLabel,
                         yLabel: "balanced accuracy (%)")
                .write(to: folder.appendingPathComponent("balanced-accuracy-by-layer.png"))
        }

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
