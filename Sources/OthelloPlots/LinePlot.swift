import Foundation
import WorkbenchSupport

/// One line of a line plot: y against x, with a name for the legend.
///
///     LineSeries("linear probe", x: layers, y: accuracy)
///     LineSeries("train loss", y: losses, dashed: true)     // x = 0, 1, 2, ...
public struct LineSeries: Sendable {
    public var name: String
    public var x: [Double]
    public var y: [Double]
    /// `nil`: the next colour of `RGB.categorical`.
    public var color: RGB?
    public var dashed: Bool
    /// Draw a dot at each point.
    public var markers: Bool

    public init(_ name: String, x: [Double], y: [Double], color: RGB? = nil, dashed: Bool = false, markers: Bool = false) {
        self.name = name
        self.x = x
        self.y = y
        self.color = color
        self.dashed = dashed
        self.markers = markers
    }

    /// A series over x = 0, 1, 2, ...
    public init(_ name: String, y: [Double], color: RGB? = nil, dashed: Bool = false, markers: Bool = false) {
        self.init(name, x: y.indices.map(Double.init), y: y, color: color, dashed: dashed, markers: markers)
    }
}

/// Lines on numeric axes with nice ticks, light grid lines, axis labels, a title and a legend
/// (right of the plot): probe accuracy by layer, loss curves, metrics over training.
/// NaN and infinite points leave a gap in their line; a point with no neighbour gets a dot.
///
///     let plot = LinePlot(series: [LineSeries("linear", x: layers, y: linear, markers: true),
///                                  LineSeries("nonlinear", x: layers, y: mlp, markers: true)],
///                         title: "Probe accuracy by layer", xLabel: "layer", yLabel: "accuracy")
///     try plot.write(to: URL(fileURLWithPath: "accuracy.png"))
public struct LinePlot: Figure {
    public var series: [LineSeries]
    public var title: String?
    public var xLabel: String?
    public var yLabel: String?
    /// Logarithmic y axis (every finite y must then be positive).
    public var logY: Bool
    /// Fixed axis limits; `nil` fits the data with a small margin.
    public var xLimits: ClosedRange<Double>?
    public var yLimits: ClosedRange<Double>?
    /// Size of the data area in pixels.
    public var plotWidth: Int
    public var plotHeight: Int

    public init(series: [LineSeries], title: String? = nil, xLabel: String? = nil, yLabel: String? = nil,
                logY: Bool = false, xLimits: ClosedRange<Double>? = nil, yLimits: ClosedRange<Double>? = nil,
                plotWidth: Int = 560, plotHeight: Int = 340) {
        self.series = series
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.logY = logY
        self.xLimits = xLimits
        self.yLimits = yLimits
        self.plotWidth = plotWidth
        self.plotHeight = plotHeight
    }

    public func render() throws -> Bitmap {
        try validate()
        let xs = series.flatMap { s in zip(s.x, s.y).filter { $0.0.isFinite && $0.1.isFinite }.map(\.0) }
        let ys = series.flatMap { s in zip(s.x, s.y).filter { $0.0.isFinite && $0.1.isFinite }.map(\.1) }
        guard !xs.isEmpty else {
            throw WorkbenchError("line plot: no finite (x, y) points in any series; check the data for NaN or infinity")
        }
        let integerX = xs.allSatisfy { $0.rounded() == $0 }
        let xRange = try axisRange(xs, fixed: xLimits, log: false, name: "x")
        let yRange = try axisRange(ys, fixed: yLimits, log: logY, name: "y")

        // Ticks and their labels.
        let xTicks = Ticks.linear(xRange, maxCount: max(2, plotWidth / 70), integerStep: integerX)
        let xTickLabels = xTicks.values.map { (value: $0, label: Ticks.label($0, step: xTicks.step)) }
        var yTickLabels: [(value: Double, label: String)]
        var yMinor: [Double] = []
        if logY {
            let ticks = Ticks.logarithmic(pow(10, yRange.lowerBound)...pow(10, yRange.upperBound))
            yTickLabels = ticks.major.map { (log10($0), Ticks.logLabel($0)) }
            yMinor = ticks.minor.map { log10($0) }
            if yTickLabels.count < 2 {
                // About a decade or less: label the 2s, 3s and 5s too.
                let labelled = ticks.minor.filter { [2, 3, 5].contains(Int(($0 / pow(10, floor(log10($0) + 1e-9))).rounded())) }
                yTickLabels += labelled.map { (log10($0), Ticks.label($0, step: pow(10, floor(log10($0) + 1e-9)))) }
            }
        } else {
            let ticks = Ticks.linear(yRange, maxCount: max(2, plotHeight / 45))
            yTickLabels = ticks.values.map { ($0, Ticks.label($0, step: ticks.step)) }
        }

        // Layout: title, y label and tick labels on the left, tick labels and x label below, legend right.
        let margin = Chrome.margin
        let tickStyle = Chrome.tickStyle
        let labelHeight = try TextLayout.measure("Ag", style: Chrome.axisLabelStyle).height
        let yTickWidth = try yTickLabels.map { try TextLayout.measure($0.label, style: tickStyle).width }.max() ?? 0
        let tickTextHeight = try TextLayout.measure("0", style: tickStyle).height
        let left = margin + (yLabel.map { $0.isEmpty ? 0 : labelHeight + 8 } ?? 0) + yTickWidth + 9
        let top = margin + (try Chrome.titleHeight(title))
        let bottom = top + plotHeight + 9 + tickTextHeight + (xLabel.map { $0.isEmpty ? 0 : 8 + labelHeight } ?? 0)
        let entries = series.enumerated().filter { !$0.element.name.isEmpty }.map { index, s in
            Legend.Entry(swatch: .line(color(of: index), dash: s.dashed ? [7, 4] : nil, markers: s.markers), label: s.name)
        }
        let legend = try Legend(entries, maxWidth: nil)
        let titleWidth = try title.map { try TextLayout.measure($0, style: Chrome.titleStyle).width } ?? 0
        let width = max(left + plotWidth + (legend.isEmpty ? 0 : 20 + legend.width) + margin, titleWidth + 2 * margin)
        let height = bottom + margin
        var canvas = try Canvas(width: width, height: height)
        let area = PixelRect(x: left, y: top, width: plotWidth, height: plotHeight)

        func px(_ x: Double) -> Double { Double(area.x) + (x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * Double(plotWidth) }
        func py(_ y: Double) -> Double {
            let v = logY ? log10(y) : y
            return Double(area.y) + (1 - (v - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound)) * Double(plotHeight)
        }
        func pixelRow(_ v: Double) -> Int {   // for axis-space values (log10 already applied)
            Int((Double(area.y) + (1 - (v - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound)) * Double(plotHeight - 1)).rounded())
        }
        func pixelColumn(_ x: Double) -> Int {
            Int((Double(area.x) + (x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * Double(plotWidth - 1)).rounded())
        }

        // Grid lines, then the data, then axes on top.
        let gridColor = RGB(hex: 0xE6E6E6)
        for (value, _) in yTickLabels { canvas.fill(PixelRect(x: area.x, y: pixelRow(value), width: plotWidth, height: 1), with: gridColor) }
        for (value, _) in xTickLabels { canvas.fill(PixelRect(x: pixelColumn(value), y: area.y, width: 1, height: plotHeight), with: gridColor) }
        for (index, s) in series.enumerated() {
            let points = zip(s.x, s.y).map { x, y in
                x.isFinite && y.isFinite ? Point(px(x), py(y)) : Point(.nan, .nan)
            }
            canvas.drawPolyline(points, color: color(of: index), width: 2.5, dash: s.dashed ? [7, 4] : nil, clip: area)
            // Markers where asked for, and always on isolated points (no line to show them).
            for (i, point) in points.enumerated() where point.x.isFinite && area.insetBy(-1).contains(point) {
                let isolated = (i == 0 || !points[i - 1].x.isFinite) && (i == points.count - 1 || !points[i + 1].x.isFinite)
                if s.markers || isolated { canvas.fillDisc(center: point, radius: 3.5, color: color(of: index)) }
            }
        }
        canvas.fill(PixelRect(x: area.x - 1, y: area.y, width: 1, height: plotHeight + 1), with: .ink)
        canvas.fill(PixelRect(x: area.x - 1, y: area.maxY, width: plotWidth + 1, height: 1), with: .ink)
        for (value, label) in yTickLabels {
            let row = pixelRow(value)
            canvas.fill(PixelRect(x: area.x - 6, y: row, width: 5, height: 1), with: .ink)
            try canvas.drawText(label, at: Point(Double(area.x - 9), Double(row) + 0.5), style: tickStyle, align: .right, vertical: .middle)
        }
        for value in yMinor {
            canvas.fill(PixelRect(x: area.x - 4, y: pixelRow(value), width: 3, height: 1), with: .ink)
        }
        for (value, label) in xTickLabels {
            let column = pixelColumn(value)
            canvas.fill(PixelRect(x: column, y: area.maxY + 1, width: 1, height: 5), with: .ink)
            try canvas.drawText(label, at: Point(Double(column) + 0.5, Double(area.maxY + 9)), style: tickStyle, align: .center, vertical: .top)
        }
        if let xLabel, !xLabel.isEmpty {
            try canvas.drawText(xLabel, at: Point(Double(area.x) + Double(plotWidth) / 2, Double(area.maxY + 9 + tickTextHeight + 8)),
                                style: Chrome.axisLabelStyle, align: .center, vertical: .top)
        }
        if let yLabel, !yLabel.isEmpty {
            try canvas.drawText(yLabel, at: Point(Double(margin), Double(area.y) + Double(plotHeight) / 2),
                                style: Chrome.axisLabelStyle, align: .center, vertical: .top, rotation: .counterclockwise)
        }
        if let title, !title.isEmpty {
            try Chrome.drawTitle(title, on: &canvas, centeredOver: area.x...area.maxX, top: margin)
        }
        if !legend.isEmpty {
            try legend.draw(on: &canvas, x: area.maxX + 20, y: area.y)
        }
        return canvas.bitmap
    }

    private func color(of index: Int) -> RGB {
        series[index].color ?? RGB.categorical[index % RGB.categorical.count]
    }

    private func validate() throws {
        guard !series.isEmpty else { throw WorkbenchError("line plot: no series to draw; pass at least one LineSeries") }
        guard (80...8000).contains(plotWidth), (60...8000).contains(plotHeight) else {
            throw WorkbenchError("line plot: plot size \(plotWidth)×\(plotHeight) px is out of range (80...8000 × 60...8000)")
        }
        for s in series {
            guard !s.y.isEmpty else { throw WorkbenchError("line plot: series '\(s.name)' has no points") }
            guard s.x.count == s.y.count else {
                throw WorkbenchError("line plot: series '\(s.name)' has \(s.x.count) x values but \(s.y.count) y values; they must match")
            }
            if logY, let index = s.y.indices.first(where: { s.y[$0].isFinite && s.y[$0] <= 0 }) {
                throw WorkbenchError("line plot: log-scale y needs positive values, but series '\(s.name)' has y[\(index)] = \(s.y[index]); use a linear axis or drop that point")
            }
        }
    }

    /// The axis range in axis space (log10 of the values for a log axis), from fixed limits or
    /// the data with a small margin.
    private func axisRange(_ values: [Double], fixed: ClosedRange<Double>?, log: Bool, name: String) throws -> ClosedRange<Double> {
        if let fixed {
            guard fixed.lowerBound.isFinite, fixed.upperBound.isFinite, fixed.lowerBound < fixed.upperBound,
                  !log || fixed.lowerBound > 0 else {
                throw WorkbenchError("line plot: \(name) limits \(fixed) must be finite with lower < upper\(log ? " and positive for a log axis" : "")")
            }
            return log ? log10(fixed.lowerBound)...log10(fixed.upperBound) : fixed
        }
        let mapped = log ? values.map(log10) : values
        var low = mapped.min() ?? 0, high = mapped.max() ?? 1
        if low == high {
            low -= log ? 0.5 : max(0.5, abs(low) * 0.1)
            high += log ? 0.5 : max(0.5, abs(high) * 0.1)
        }
        let pad = (high - low) * (name == "x" ? 0.03 : 0.05)
        guard (high - low + 2 * pad).isFinite else {
            throw WorkbenchError("line plot: the \(name) values run from \(low) to \(high), too far apart to draw; check the data for overflowing values")
        }
        return (low - pad)...(high + pad)
    }
}

extension PixelRect {
    func contains(_ point: Point) -> Bool {
        point.x >= Double(x) && point.x <= Double(maxX) && point.y >= Double(y) && point.y <= Double(maxY)
    }
}
