import Foundation
import OthelloPlots
import OthelloSAEs
import WorkbenchSupport

/// A sweep's results (`sae sweep`) as a Markdown table and a figure of the frontier: L0 against explained variance,
/// board reconstruction F1 and board coverage, one line per hook and kind (dictionary sizes apart), the random-init
/// controls dashed.
public struct SAESweepReport {
    public let results: [SAESweepResult]
    public let plan: SAESweepPlan
    public let model: String

    public init(results: [SAESweepResult], plan: SAESweepPlan, model: String) {
        (self.results, self.plan, self.model) = (results, plan, model)
    }

    public func markdown() -> String {
        let header = ["SAE", "L0", "explained variance", "loss recovered", "Δ loss", "dead", "board coverage", "board F1", "mine/theirs F1", "legal coverage",
                      "control: EV", "control: board coverage", "control: board F1"]
        var lines = ["SAE sweep on \(model): \(plan.positions) positions each, batch \(plan.batchSize), lr \(plan.learningRate) (1% warm-up, linear decay over the last 20%, L1 warm-up over 5%), seed \(plan.seed); scored on \(plan.evaluationGames) fresh games.", "",
                     "| " + header.joined(separator: " | ") + " |", "|" + String(repeating: "---|", count: header.count)]
        func f(_ x: Double?, _ digits: Int = 3) -> String { x.map { String(format: "%.\(digits)f", $0) } ?? "—" }
        for r in results {
            let n = r.numbers, c = r.control
            let cells = [r.entry.name, f(n.l0, 1), f(n.explainedVariance), f(n.lossRecovered), String(format: "%+.4f", n.lossDelta), String(n.dead),
                         f(n.coverage), f(n.reconstructionF1), f(n.reconstructionF1MineTheirs), f(n.coverageByProperty["legal"]),
                         f(c?.explainedVariance), f(c?.coverage), f(c?.reconstructionF1)]
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Three panels, one above the other: explained variance, board reconstruction F1 and board coverage against L0.
    public func frontier() throws -> Bitmap {
        let oneHook = Set(results.map(\.entry.hook)).count == 1
        let groups = Dictionary(grouping: results) { (oneHook ? "" : "\($0.entry.hook) ") + "\($0.entry.kind.rawValue)\($0.entry.pEnd.map { String(format: " p%g", $0) } ?? "") f\($0.entry.features)" }
        let names = groups.keys.sorted()
        func panel(_ title: String, _ value: @escaping (SAEEvalJSON) -> Double) -> LinePlot {
            var series: [LineSeries] = []
            for (i, name) in names.enumerated() {
                let color = RGB.categorical[i % RGB.categorical.count]
                let points = groups[name]!.sorted { $0.numbers.l0 < $1.numbers.l0 }
                series.append(LineSeries(name, x: points.map(\.numbers.l0), y: points.map { value($0.numbers) }, color: color, markers: true))
                let controls = points.compactMap { p in p.control.map { ($0.l0, value($0)) } }.sorted { $0.0 < $1.0 }
                if !controls.isEmpty {
                    series.append(LineSeries(name + " (random init)", x: controls.map(\.0), y: controls.map(\.1), color: color, dashed: true, markers: true))
                }
            }
            return LinePlot(series: series, title: title, xLabel: "L0 (active features per position)", yLabel: title, plotWidth: 420, plotHeight: 320)
        }
        return try Bitmap.tiled([
            [try panel("explained variance") { $0.explainedVariance }.render()],
            [try panel("board reconstruction F1") { $0.reconstructionF1 }.render()],
            [try panel("board coverage") { $0.coverage }.render()],
        ])
    }

    /// Writes `sweep.md` and `frontier.png` into `folder`.
    public func write(to folder: URL) throws {
        try AtomicFile.write(Data(markdown().utf8), to: folder.appendingPathComponent("sweep.md"))
        try PNG.write(try frontier(), to: folder.appendingPathComponent("frontier.png"))
    }
}
