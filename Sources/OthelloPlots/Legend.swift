/// A legend: small swatches with labels, laid out in rows that wrap at a width, or one entry per row.
struct Legend {
    enum Swatch {
        /// The hatched "no data" square.
        case noData
        /// A square drawn with a board mark.
        case mark(BoardMark.Style)
        /// A short line in a series' colour and dash, with a marker dot if the series has them.
        case line(RGB, dash: [Double]?, markers: Bool)
    }

    struct Entry {
        let swatch: Swatch
        let label: String
    }

    static let swatchSize = 16
    static let lineSwatchWidth = 28
    static let entryGap = 18
    static let rowGap = 6

    /// Entries by row.
    let rows: [[Entry]]
    private let labelWidths: [String: Int]
    private let textHeight: Int

    /// Lays out `entries` in rows no wider than `maxWidth` (`nil`: one entry per row).
    init(_ entries: [Entry], maxWidth: Int?) throws {
        var widths: [String: Int] = [:]
        for entry in entries { widths[entry.label] = try TextLayout.measure(entry.label, style: Chrome.legendStyle).width }
        labelWidths = widths
        textHeight = try TextLayout.measure("Ag", style: Chrome.legendStyle).height
        var rows: [[Entry]] = []
        var current: [Entry] = []
        var used = 0
        for entry in entries {
            let width = Self.entryWidth(entry, labelWidth: widths[entry.label] ?? 0)
            if let maxWidth, !current.isEmpty, used + Self.entryGap + width <= maxWidth {
                current.append(entry)
                used += Self.entryGap + width
            } else {
                if !current.isEmpty { rows.append(current) }
                current = [entry]
                used = width
            }
        }
        if !current.isEmpty { rows.append(current) }
        self.rows = rows
    }

    var isEmpty: Bool { rows.isEmpty }
    var rowHeight: Int { max(Self.swatchSize + 4, textHeight) }
    var height: Int { rows.isEmpty ? 0 : rows.count * rowHeight + (rows.count - 1) * Self.rowGap }
    var width: Int { rows.map(rowWidth).max() ?? 0 }

    private static func swatchWidth(_ swatch: Swatch) -> Int {
        switch swatch {
        case .noData: return swatchSize
        case .mark: return swatchSize + 4
        case .line: return lineSwatchWidth
        }
    }

    private static func entryWidth(_ entry: Entry, labelWidth: Int) -> Int {
        swatchWidth(entry.swatch) + 6 + labelWidth
    }

    private func rowWidth(_ row: [Entry]) -> Int {
        row.map { Self.entryWidth($0, labelWidth: labelWidths[$0.label] ?? 0) }.reduce(0, +) + Self.entryGap * max(0, row.count - 1)
    }

    /// Draws with the top-left corner at (x, y).
    func draw(on canvas: inout Canvas, x: Int, y: Int) throws {
        for (index, row) in rows.enumerated() {
            var left = x
            let top = y + index * (rowHeight + Self.rowGap)
            let middle = top + rowHeight / 2
            for entry in row {
                let swatchWidth = Self.swatchWidth(entry.swatch)
                switch entry.swatch {
                case .noData:
                    let box = PixelRect(x: left, y: middle - Self.swatchSize / 2, width: Self.swatchSize, height: Self.swatchSize)
                    canvas.fillHatched(box, background: .noData, stripes: Chrome.noDataStripes, spacing: 5)
                    canvas.stroke(box, with: RGB(hex: 0x707070))
                case .mark(let style):
                    let box = PixelRect(x: left, y: middle - swatchWidth / 2, width: swatchWidth, height: swatchWidth)
                    canvas.fill(box, with: RGB(hex: 0xF7F7F7))
                    canvas.stroke(box, with: RGB(hex: 0xB0B0B0))
                    BoardDrawing.drawMark(style, in: box, on: &canvas)
                case .line(let color, let dash, let markers):
                    let y = Double(middle) + 0.5
                    canvas.drawLine(from: Point(Double(left) + 1, y), to: Point(Double(left + swatchWidth) - 1, y),
                                    color: color, width: 2.5, dash: dash)
                    if markers { canvas.fillDisc(center: Point(Double(left) + Double(swatchWidth) / 2, y), radius: 3.5, color: color) }
                }
                try canvas.drawText(entry.label, at: Point(Double(left + swatchWidth + 6), Double(middle) + 0.5),
                                    style: Chrome.legendStyle, vertical: .middle)
                left += swatchWidth + 6 + (labelWidths[entry.label] ?? 0) + Self.entryGap
            }
        }
    }
}
