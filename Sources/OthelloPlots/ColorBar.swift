/// A vertical colour bar: the map from bottom (lower limit) to top (upper limit), tick marks and
/// numbers on the right, and the scale's label written upward beside them.
struct ColorBar {
    static let barWidth = 16
    let scale: ResolvedColorScale
    let height: Int
    let ticks: [(value: Double, label: String)]
    let labelWidth: Int
    let titleHeight: Int

    init(scale: ResolvedColorScale, height: Int) throws {
        self.scale = scale
        self.height = max(20, height)
        let (values, step) = Ticks.linear(scale.limits, maxCount: max(2, min(9, self.height / 36 + 1)))
        ticks = values.map { ($0, Ticks.label($0, step: step)) }
        labelWidth = try ticks.map { try TextLayout.measure($0.label, style: Chrome.tickStyle).width }.max() ?? 0
        if let label = scale.label, !label.isEmpty {
            titleHeight = try TextLayout.measure(label, style: Chrome.axisLabelStyle).height
        } else {
            titleHeight = 0
        }
    }

    /// Total width: bar, ticks, numbers and the label.
    var width: Int { Self.barWidth + 4 + 3 + labelWidth + (titleHeight > 0 ? 8 + titleHeight : 0) }

    /// Draws with the bar's top-left corner at (x, y).
    func draw(on canvas: inout Canvas, x: Int, y: Int) throws {
        for row in 0..<height {
            let t = 1 - (Double(row) + 0.5) / Double(height)
            canvas.fill(PixelRect(x: x, y: y + row, width: Self.barWidth, height: 1), with: scale.colorMap.color(at: t))
        }
        canvas.stroke(PixelRect(x: x - 1, y: y - 1, width: Self.barWidth + 2, height: height + 2), with: RGB(hex: 0x707070))
        for (value, label) in ticks {
            let t = scale.position(of: value)
            let ty = y + Int(((1 - t) * Double(height - 1)).rounded())
            canvas.fill(PixelRect(x: x + Self.barWidth + 1, y: ty, width: 4, height: 1), with: .ink)
            try canvas.drawText(label, at: Point(Double(x + Self.barWidth + 7), Double(ty) + 0.5), style: Chrome.tickStyle, vertical: .middle)
        }
        if let label = scale.label, !label.isEmpty {
            let lx = x + Self.barWidth + 7 + labelWidth + 8
            try canvas.drawText(label, at: Point(Double(lx), Double(y + height / 2)), style: Chrome.axisLabelStyle,
                                align: .center, vertical: .top, rotation: .counterclockwise)
        }
    }
}
