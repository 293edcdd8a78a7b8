import WorkbenchSupport

/// A matrix as coloured cells with labelled axes and a colour bar: an attention pattern
/// [destination × source], patching results [layer × position], a cosine-similarity matrix.
/// Row 0 is at the top. `nil` cells are left blank (a causal mask); NaN and infinity are "no data".
/// When labels are too dense to print them all, every k-th is shown; column labels turn
/// upright when they are wider than a cell.
///
///     let attention = MatrixHeatmap(values: pattern, rowLabels: moves, columnLabels: moves,
///                                   title: "L0H3 attention, game 0", xLabel: "source", yLabel: "destination",
///                                   scale: .probability)
///     try attention.write(to: URL(fileURLWithPath: "attention.png"))
public struct MatrixHeatmap: Figure {
    /// Rows of equal length; `nil` = no value (drawn blank).
    public var values: [[Double?]]
    /// One per row / column, or `nil` for 0, 1, 2, ...
    public var rowLabels: [String]?
    public var columnLabels: [String]?
    public var title: String?
    /// Below the columns.
    public var xLabel: String?
    /// Left of the rows, written upward.
    public var yLabel: String?
    public var scale: ColorScale
    /// Cell text in row-major order (for `.custom`), drawn only when cells are at least 14 px.
    public var cellText: CellText
    /// Side of one cell in pixels; `nil` picks one so the matrix is about 480 px across.
    public var cellSize: Int?
    /// Colour of `nil` cells.
    public var emptyColor: RGB

    public init(values: [[Double?]], rowLabels: [String]? = nil, columnLabels: [String]? = nil, title: String? = nil,
                xLabel: String? = nil, yLabel: String? = nil, scale: ColorScale = .diverging(),
                cellText: CellText = .none, cellSize: Int? = nil, emptyColor: RGB = .emptyCell) {
        self.values = values
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.scale = scale
        self.cellText = cellText
        self.cellSize = cellSize
        self.emptyColor = emptyColor
    }

    /// Where everything goes, in pixels.
    struct Layout {
        let width: Int
        let height: Int
        let rows: Int
        let columns: Int
        let cell: Int
        /// Top-left corner of cell (0, 0).
        let left: Int
        let top: Int
        let scale: ResolvedColorScale
        let rowNames: [String]
        let columnNames: [String]
        let rowStride: Int
        let columnStride: Int
        /// Column labels written upward (they are wider than a cell).
        let upright: Bool
        let columnLabelHeight: Int
        let colorBar: ColorBar
        let legend: Legend
        let legendTop: Int

        func cellRect(row: Int, column: Int) -> PixelRect {
            PixelRect(x: left + column * cell, y: top + row * cell, width: cell, height: cell)
        }
    }

    func layout() throws -> Layout {
        let rows = values.count
        let columns = values.first?.count ?? 0
        try validate(rows: rows, columns: columns)
        let cell = cellSize ?? min(48, max(4, 480 / max(rows, columns)))
        let rowNames = rowLabels ?? (0..<rows).map(String.init)
        let columnNames = columnLabels ?? (0..<columns).map(String.init)
        let resolved = try scale.resolved(for: values.flatMap { $0.compactMap { $0 } })

        // Axis labels: thin out to every k-th when they would touch; columns upright when too wide.
        let tickStyle = Chrome.tickStyle
        let capHeight = try TextLayout.measure("0", style: tickStyle).capHeight
        let rowStride = max(1, (capHeight + 5 + cell - 1) / cell)
        let rowLabelWidth = try rowNames.map { try TextLayout.measure($0, style: tickStyle).width }.max() ?? 0
        let widestColumn = try columnNames.map { try TextLayout.measure($0, style: tickStyle).width }.max() ?? 0
        let upright = widestColumn + 6 > cell
        let columnStride = upright ? max(1, (capHeight + 5 + cell - 1) / cell) : 1
        let columnLabelHeight = upright ? widestColumn : try TextLayout.measure("0", style: tickStyle).height

        let margin = Chrome.margin
        let labelHeight = try TextLayout.measure("Ag", style: Chrome.axisLabelStyle).height
        let left = margin + (yLabel.map { $0.isEmpty ? 0 : labelHeight + 8 } ?? 0) + rowLabelWidth + 8
        let top = margin + (try Chrome.titleHeight(title))
        let matrixWidth = columns * cell, matrixHeight = rows * cell
        let belowMatrix = 8 + columnLabelHeight + (xLabel.map { $0.isEmpty ? 0 : 8 + labelHeight } ?? 0)
        let colorBar = try ColorBar(scale: resolved, height: max(matrixHeight, 120))
        let hasNoData = values.contains { $0.contains { $0.map { !$0.isFinite } ?? false } }
        let legend = try Legend(hasNoData ? [.init(swatch: .noData, label: "no data")] : [], maxWidth: nil)
        let titleWidth = try title.map { try TextLayout.measure($0, style: Chrome.titleStyle).width } ?? 0
        let legendTop = top + max(matrixHeight + belowMatrix, colorBar.height) + 12
        return Layout(
            width: max(left + matrixWidth + 24 + colorBar.width + margin, titleWidth + 2 * margin),
            height: (legend.isEmpty ? legendTop - 12 : legendTop + legend.height) + margin,
            rows: rows, columns: columns, cell: cell, left: left, top: top, scale: resolved,
            rowNames: rowNames, columnNames: columnNames, rowStride: rowStride, columnStride: columnStride,
            upright: upright, columnLabelHeight: columnLabelHeight, colorBar: colorBar, legend: legend, legendTop: legendTop
        )
    }

    public func render() throws -> Bitmap {
        let layout = try layout()
        let (cell, left, top) = (layout.cell, layout.left, layout.top)
        let matrixWidth = layout.columns * cell, matrixHeight = layout.rows * cell
        var canvas = try Canvas(width: layout.width, height: layout.height)

        // Cells.
        let textSize = min(13, max(7, Int(Double(cell) * 0.3)))
        for (row, rowValues) in values.enumerated() {
            for (column, value) in rowValues.enumerated() {
                let rect = layout.cellRect(row: row, column: column)
                var background = emptyColor
                if let value {
                    if let color = layout.scale.color(for: value) {
                        background = color
                        canvas.fill(rect, with: color)
                    } else {
                        background = .noData
                        canvas.fillHatched(rect, background: .noData, stripes: Chrome.noDataStripes, spacing: cell >= 20 ? 6 : 4)
                    }
                } else {
                    canvas.fill(rect, with: emptyColor)
                }
                if cell >= 14, let text = cellText.text(at: row * layout.columns + column, value: value) {
                    let (fittedText, style) = try Chrome.fitted(text, style: TextStyle(size: textSize, color: background.contrastingText), width: cell - 3)
                    try canvas.drawText(fittedText, at: rect.center, style: style, align: .center, vertical: .middle)
                }
            }
        }
        canvas.stroke(PixelRect(x: left - 1, y: top - 1, width: matrixWidth + 2, height: matrixHeight + 2), with: RGB(hex: 0x707070))

        // Tick labels.
        let tickStyle = Chrome.tickStyle
        for row in stride(from: 0, to: layout.rows, by: layout.rowStride) {
            let y = Double(top + row * cell) + Double(cell) / 2
            canvas.fill(PixelRect(x: left - 5, y: Int(y), width: 4, height: 1), with: .ink)
            try canvas.drawText(layout.rowNames[row], at: Point(Double(left - 8), y), style: tickStyle, align: .right, vertical: .middle)
        }
        for column in stride(from: 0, to: layout.columns, by: layout.columnStride) {
            let x = Double(left + column * cell) + Double(cell) / 2
            let anchor = Point(x, Double(top + matrixHeight + 8))
            canvas.fill(PixelRect(x: Int(x), y: top + matrixHeight + 1, width: 1, height: 4), with: .ink)
            if layout.upright {
                try canvas.drawText(layout.columnNames[column], at: anchor, style: tickStyle, align: .right, vertical: .middle, rotation: .counterclockwise)
            } else {
                try canvas.drawText(layout.columnNames[column], at: anchor, style: tickStyle, align: .center, vertical: .top)
            }
        }
        if let xLabel, !xLabel.isEmpty {
            try canvas.drawText(xLabel, at: Point(Double(left) + Double(matrixWidth) / 2, Double(top + matrixHeight + 8 + layout.columnLabelHeight + 8)),
                                style: Chrome.axisLabelStyle, align: .center, vertical: .top)
        }
        if let yLabel, !yLabel.isEmpty {
            try canvas.drawText(yLabel, at: Point(Double(Chrome.margin), Double(top) + Double(matrixHeight) / 2),
                                style: Chrome.axisLabelStyle, align: .center, vertical: .top, rotation: .counterclockwise)
        }
        if let title, !title.isEmpty {
            try Chrome.drawTitle(title, on: &canvas, centeredOver: left...(left + matrixWidth), top: Chrome.margin)
        }
        try layout.colorBar.draw(on: &canvas, x: left + matrixWidth + 24, y: top)
        if !layout.legend.isEmpty {
            try layout.legend.draw(on: &canvas, x: left, y: layout.legendTop)
        }
        return canvas.bitmap
    }

    private func validate(rows: Int, columns: Int) throws {
        guard rows > 0, columns > 0 else {
            throw WorkbenchError("matrix heatmap: the matrix is empty (\(rows) rows, \(columns) columns); pass at least one value")
        }
        if let row = values.firstIndex(where: { $0.count != columns }) {
            throw WorkbenchError("matrix heatmap: row \(row) has \(values[row].count) values but row 0 has \(columns); rows must be the same length")
        }
        if let rowLabels, rowLabels.count != rows {
            throw WorkbenchError("matrix heatmap: \(rowLabels.count) row labels for \(rows) rows; give one per row")
        }
        if let columnLabels, columnLabels.count != columns {
            throw WorkbenchError("matrix heatmap: \(columnLabels.count) column labels for \(columns) columns; give one per column")
        }
        if case .custom(let texts) = cellText, texts.count != rows * columns {
            throw WorkbenchError("matrix heatmap: \(texts.count) cell texts for \(rows)×\(columns) cells; give one per cell, row by row")
        }
        if let cellSize, !(2...400).contains(cellSize) {
            throw WorkbenchError("matrix heatmap: cell size \(cellSize) px is out of range 2...400")
        }
        if rows * columns > 4_000_000 {
            throw WorkbenchError("matrix heatmap: \(rows)×\(columns) cells is too many to draw; slice or pool the matrix first")
        }
    }
}
