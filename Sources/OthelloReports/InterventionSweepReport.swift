import Foundation
import OthelloInterventions
import OthelloModel
import OthelloPlots
import WorkbenchSupport

/// The sweep's results as a table, JSON and a figure.
public struct InterventionSweepReport {
    public let results: [InterventionResult]
    public let layers: Int
    public let seconds: Double

    public init(results: [InterventionResult], layers: Int, seconds: Double) {
        self.results = results
        self.layers = layers
        self.seconds = seconds
    }

    public var null: Double { results.first?.nullError ?? 0 }
    public var best: InterventionResult? { results.min { $0.error < $1.error } }
    public var bestSingle: InterventionResult? { results.filter { $0.hooks.count == 1 }.min { $0.error < $1.error } }
    /// Each edit at its strength chosen on the validation half, scored on the test half (when the results have a split).
    public var choices: [StrengthChoice] { StrengthChoice.choose(results) }

    public func markdown() -> String {
        var lines = ["| edit | error | vs null | exact |", "|---|---|---|---|"]
        for r in results {
            lines.append(String(format: "| %@ | %.3f | %+.0f%% | %.1f%% |", r.label, r.error, 100 * (r.error / max(r.nullError, 1e-9) - 1), 100 * r.exact))
        }
        lines.append("")
        lines.append(String(format: "Null edit: error %.3f, exact %.1f%%, on %d cases (%.0f s).", null, 100 * (results.first?.nullExact ?? 0), results.first?.cases ?? 0, seconds))
        if let b = bestSingle { lines.append(String(format: "Best single-hook edit: %@, error %.3f (%.0f%% of the null edit's).", b.label, b.error, 100 * b.error / max(null, 1e-9))) }
        if let b = best { lines.append(String(format: "Best edit: %@, error %.3f (%.0f%% of the null edit's).", b.label, b.error, 100 * b.error / max(null, 1e-9))) }
        let choices = self.choices
        if !choices.isEmpty {
            lines += ["", "Strength chosen on the validation half of the cases, error on the test half:", "",
                      "| edit | strengths tried | chosen | validation error | test error | vs null (test) | top-1 legal |", "|---|---|---|---|---|---|---|"]
            for c in choices {
                lines.append(String(format: "| %@ | %@ | %@ | %.3f | %.3f | %.0f%% | %@ |", c.edit, c.strengths.map { $0.formatted() }.joined(separator: ", "),
                                    c.chosen.formatted(), c.validationError, c.testError, 100 * c.testShare, c.top1Legal.map { String(format: "%.1f%%", 100 * $0) } ?? ""))
            }
            if let b = StrengthChoice.bestSingleHook(choices) {
                lines += ["", String(format: "Best single-hook edit, chosen on the validation half: %@ at %@, test error %.3f (%.0f%% of the null edit's %.3f).",
                                     b.edit, b.chosen.formatted(), b.testError, 100 * b.testShare, b.nullTestError)]
            }
        }
        return lines.joined(separator: "\n")
    }

    /// intervene-sweep.json: every result, the null edit's error, the best single-hook and the best edit.
    public struct JSONRecord: Codable {
        public var results: [InterventionResult]
        public var nullError: Double
        public var seconds: Double
        public var bestSingleHook: InterventionResult?
        public var best: InterventionResult?
        /// Each edit at its strength chosen on the validation half, scored on the test half; the best single-hook one.
        public var tuned: [StrengthChoice]?
        public var bestTunedSingleHook: StrengthChoice?
    }

    public var record: JSONRecord {
        let choices = self.choices
        return JSONRecord(results: results, nullError: null, seconds: seconds, bestSingleHook: bestSingle, best: best,
                          tuned: choices.isEmpty ? nil : choices, bestTunedSingleHook: StrengthChoice.bestSingleHook(choices))
    }

    /// Validation error against strength, per single resid_post edit: direction scales (log2) and gradient step
    /// sizes (log10, × RMS) side by side, the null edit dashed.
    public func strengthFigure() throws -> Bitmap? {
        let single = choices.filter { $0.hooks.count == 1 && $0.strengths.count > 1 && $0.hooks[0].hasSuffix("hook_resid_post") }
        guard !single.isEmpty else { return nil }
        let null = single[0].nullTestError
        func panel(_ method: String, _ x: (Float) -> Double, _ xLabel: String, _ title: String) -> LinePlot? {
            let chosen = single.filter { $0.method == method && ($0.method == "direction" || $0.edit.contains("RMS")) }
            guard !chosen.isEmpty else { return nil }
            var series = chosen.enumerated().map { i, c -> LineSeries in
                let layer = (try? HookPoint(name: c.hooks[0]).layer).flatMap { $0 } ?? 0
                let name = "L\(layer)" + (c.positions == EditPositions.fromEdit.rawValue ? ", from the edited move" : "")
                return LineSeries(name, x: c.strengths.map(x), y: c.validationErrors, color: Self.palette[i % Self.palette.count],
                                  dashed: c.positions == EditPositions.fromEdit.rawValue, markers: true)
            }
            let xs = chosen.flatMap { $0.strengths.map(x) }
            series.append(LineSeries("null edit", x: [xs.min()!, xs.max()!], y: [null, null], color: .init(0, 0, 0), dashed: true))
            // Tall enough for a legend line per edit.
            return LinePlot(series: series, title: title, xLabel: xLabel, yLabel: "validation error (FP + FN)", plotHeight: max(340, 22 * series.count + 40))
        }
        let panels = [panel("direction", { Double(log2($0)) }, "log2 scale", "Direction edits at resid_post: error by scale"),
                      panel("gradient", { Double(log10($0)) }, "log10 step (× the activation's RMS)", "Gradient edits at resid_post: error by step size")]
        return try Bitmap.tiled([try panels.compactMap { $0 }.map { try $0.render() }])
    }

    static let palette: [RGB] = [.init(31, 119, 180), .init(214, 39, 40), .init(44, 160, 44), .init(148, 103, 189), .init(255, 127, 14),
                                 .init(140, 86, 75), .init(227, 119, 194), .init(127, 127, 127), .init(188, 189, 34), .init(23, 190, 207),
                                 .init(0, 0, 128), .init(128, 0, 0), .init(0, 100, 0), .init(75, 0, 130)]

    public func json() throws -> String { try JSONOutput.string(record) }

    /// Error against the layer: one line per (method, kind of hook, scale), the null edit dashed. With a
    /// validation/test split, each edit at its chosen strength only, by its test error (one line per method and kind).
    public func figure() -> LinePlot {
        var groups: [(String, [(Double, Double)])] = []
        func add(_ name: String, _ x: Double, _ y: Double) {
            if let i = groups.firstIndex(where: { $0.0 == name }) { groups[i].1.append((x, y)) } else { groups.append((name, [(x, y)])) }
        }
        let choices = self.choices
        let tuned = !choices.isEmpty
        let chosen = Dictionary(choices.map { ($0.edit, $0.chosen) }, uniquingKeysWith: { a, _ in a })
        for r in results {
            if tuned, chosen[StrengthChoice.family(r)] != StrengthChoice.strength(r) { continue }
            guard let point = try? HookPoint(name: r.hooks[0]), let layer = point.layer else { continue }
            let kind = point.name.split(separator: "_").last.map(String.init) ?? ""
            // resid_pre L holds what resid_post L-1 holds: the table has it, the figure would draw it twice.
            if kind == "pre" && r.hooks.count == 1 && layer > 0 { continue }
            let offset = kind == "pre" ? -0.33 : kind == "mid" ? 0.0 : 0.33   // resid_pre L sits before resid_mid L and resid_post L
            let how = tuned ? (r.scale != nil ? "direction, tuned scale" : r.relativeStep == true ? "gradient, tuned step" : "gradient (Li et al.)")
                : r.scale.map { "×\($0.formatted())" } ?? (r.relativeStep == true ? "gradient \((r.learningRate ?? 0).formatted()) × RMS" : "gradient (Li et al.)")
            let name: String
            if r.hooks.count > 1 {
                name = "\(how), every resid_post from the layer on"
            } else if r.positions == EditPositions.fromEdit.rawValue {
                name = "\(how), resid_post, from the edited move"
            } else {
                name = kind == "pre" ? "\(how), resid_pre of block 0 (later ones equal the resid_post before)" : "\(how), resid_\(kind)"
            }
            add(name, Double(layer) + (r.hooks.count > 1 || kind == "post" ? 0.33 : offset), tuned ? r.testError ?? r.error : r.error)
        }
        let palette = Self.palette
        var series = groups.enumerated().map { i, group in
            let points = group.1.sorted { $0.0 < $1.0 }   // by layer: the plans come strength by strength
            return LineSeries(group.0, x: points.map(\.0), y: points.map(\.1), color: palette[i % palette.count], markers: true)
        }
        series.append(LineSeries("null edit", x: [-0.5, Double(layers) - 0.5], y: [null, null], color: .init(0, 0, 0), dashed: true))
        return LinePlot(series: series, title: tuned ? "Intervention error by edited layer, strength chosen on the validation half (test half)" : "Intervention error by edited layer (Li et al.'s top-N metric)",
                        xLabel: "layer (resid_pre, resid_mid, resid_post of each block)", yLabel: "mean error (FP + FN)")
    }
}
