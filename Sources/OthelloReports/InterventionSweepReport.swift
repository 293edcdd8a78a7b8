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

    public func markdown() -> String {
        var lines = ["| edit | error | vs null | exact |", "|---|---|---|---|"]
        for r in results {
            lines.append(String(format: "| %@ | %.3f | %+.0f%% | %.1f%% |", r.label, r.error, 100 * (r.error / max(r.nullError, 1e-9) - 1), 100 * r.exact))
        }
        lines.append("")
        lines.append(String(format: "Null edit: error %.3f, exact %.1f%%, on %d cases (%.0f s).", null, 100 * (results.first?.nullExact ?? 0), results.first?.cases ?? 0, seconds))
        if let b = bestSingle { lines.append(String(format: "Best single-hook edit: %@, error %.3f (%.0f%% of the null edit's).", b.label, b.error, 100 * b.error / max(null, 1e-9))) }
        if let b = best { lines.append(String(format: "Best edit: %@, error %.3f (%.0f%% of the null edit's).", b.label, b.error, 100 * b.error / max(null, 1e-9))) }
        return lines.joined(separator: "\n")
    }

    /// intervene-sweep.json: every result, the null edit's error, the best single-hook and the best edit.
    public struct JSONRecord: Codable {
        public var results: [InterventionResult]
        public var nullError: Double
        public var seconds: Double
        public var bestSingleHook: InterventionResult?
        public var best: InterventionResult?
    }

    public var record: JSONRecord { JSONRecord(results: results, nullError: null, seconds: seconds, bestSingleHook: bestSingle, best: best) }

    public func json() throws -> String { try JSONOutput.string(record) }

    /// Error against the layer: one line per (method, kind of hook, scale), the null edit dashed.
    public func figure() -> LinePlot {
        var groups: [(String, [(Double, Double)])] = []
        func add(_ name: String, _ x: Double, _ y: Double) {
            if let i = groups.firstIndex(where: { $0.0 == name }) { groups[i].1.append((x, y)) } else { groups.append((name, [(x, y)])) }
        }
        for r in results {
            guard let point = try? HookPoint(name: r.hooks[0]), let layer = point.layer else { continue }
            let kind = point.name.split(separator: "_").last.map(String.init) ?? ""
            // resid_pre L holds what resid_post L-1 holds: the table has it, the figure would draw it twice.
            if kind == "pre" && r.hooks.count == 1 && layer > 0 { continue }
            let offset = kind == "pre" ? -0.33 : kind == "mid" ? 0.0 : 0.33   // resid_pre L sits before resid_mid L and resid_post L
            let how = r.scale.map { "×\($0.formatted())" } ?? "gradient"
            let name: String
            if r.hooks.count > 1 {
                name = "\(how), every resid_post from the layer on"
            } else if r.positions == EditPositions.fromEdit.rawValue {
                name = "\(how), resid_post, from the edited move"
            } else {
                name = kind == "pre" ? "\(how), resid_pre of block 0 (later ones equal the resid_post before)" : "\(how), resid_\(kind)"
            }
            add(name, Double(layer) + (r.hooks.count > 1 || kind == "post" ? 0.33 : offset), r.error)
        }
        let palette: [RGB] = [.init(31, 119, 180), .init(214, 39, 40), .init(44, 160, 44), .init(148, 103, 189), .init(255, 127, 14),
                              .init(140, 86, 75), .init(227, 119, 194), .init(127, 127, 127), .init(188, 189, 34), .init(23, 190, 207),
                              .init(0, 0, 128), .init(128, 0, 0), .init(0, 100, 0), .init(75, 0, 130)]
        var series = groups.enumerated().map { i, group in
            LineSeries(group.0, x: group.1.map(\.0), y: group.1.map(\.1), color: palette[i % palette.count], markers: true)
        }
        series.append(LineSeries("null edit", x: [-0.5, Double(layers) - 0.5], y: [null, null], color: .init(0, 0, 0), dashed: true))
        return LinePlot(series: series, title: "Intervention error by edited layer (Li et al.'s top-N metric)",
                        xLabel: "layer (resid_pre, resid_mid, resid_post of each block)", yLabel: "mean error (FP + FN)")
    }
}
