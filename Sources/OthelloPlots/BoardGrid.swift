import WorkbenchSupport

/// Several boards side by side, `columns` per row, each with its own title, sharing one colour
/// scale and colour bar: a probe direction per layer, a position before and after an edit,
/// one board per square of a probe.
///
///     let grid = BoardGrid(boards: layers.map { BoardHeatmap(values: $0.direction, title: "layer \($0.index)") },
///                          columns: 4, title: "Probe direction by layer", scale: .diverging(label: "weight"))
///     try grid.write(to: URL(fileURLWithPath: "layers.png"))
public struct BoardGrid: Figure {
    /// The panels, left to right then top to bottom. Each board's values, discs, marks, cell text,
    /// empty colour and title (drawn above it) are used; its scale, colour bar and cell size are not.
    public var boards: [BoardHeatmap]
    public var columns: Int
    public var title: String?
    /// The scale shared by every board; limits from all boards' values unless fixed.
    public var scale: ColorScale
    public var showsColorBar: Bool
    /// Side of one square in pixels.
    public var cellSize: Int
    /// Legend text per mark style, replacing `BoardMark.Style.defaultLabel`.
    public var markLabels: [BoardMark.Style: String]

    public init(boards: [BoardHeatmap], columns: Int, title: String? = nil, scale: ColorScale = .diverging(),
                showsColorBar: Bool = true, cellSize: Int = 26, markLabels: [BoardMark.Style: String] = [:]) {
        self.boards = boards
        self.columns = columns
        self.title = title
        self.scale = scale
        self.showsColorBar = showsColorBar
        self.cellSize = cellSize
        self.markLabels = markLabels
    }

    public func render() throws -> Bitmap {
        try panels.render()
    }

    var panels: BoardPanels {
        BoardPanels(boards: boards, columns: columns, figureTitle: title, panelTitles: true, scale: scale,
                    showsColorBar: showsColorBar, cellSize: cellSize, markLabels: markLabels)
    }
}

/// Lays out and draws boards in a grid with a figure title, a shared colour bar and a legend.
/// Both `BoardHeatmap` (one board, its title as the figure title) and `BoardGrid` draw through it.
struct BoardPanels {
    let boards: [BoardHeatmap]
    let columns: Int
    let figureTitle: String?
    let panelTitles: Bool
    let scale: ColorScale
    let showsColorBar: Bool
    let cellSize: Int
    let markLabels: [BoardMark.Style: String]

    /// Where everything goes, in pixels.
    struct Layout {
        let width: Int
        let height: Int
        let drawing: BoardDrawing
        let scale: ResolvedColorScale
        /// Top-left corner of each panel (title band, labels and board).
        let panelOrigins: [(x: Int, y: Int)]
        let panelTitleHeight: Int
        let gridWidth: Int
        let colorBar: ColorBar?
        let colorBarOrigin: (x: Int, y: Int)
        let legend: Legend
        let legendOrigin: (x: Int, y: Int)

        /// The top-left grid line of board `index`.
        func boardOrigin(_ index: Int) -> (left: Int, top: Int) {
            let origin = panelOrigins[index]
            return (origin.x + drawing.rowLabelWidth, origin.y + panelTitleHeight + drawing.columnLabelHeight)
        }

        /// The centre of `square` on board `index`.
        func center(board index: Int, square: Int) -> Point {
            let origin = boardOrigin(index)
            return drawing.cellRect(square, left: origin.left, top: origin.top).center
        }
    }

    func layout() throws -> Layout {
        let name = panelTitles ? "board grid" : "board heatmap"
        guard !boards.isEmpty else { throw WorkbenchError("\(name): no boards to draw; pass at least one BoardHeatmap") }
        guard columns >= 1 else { throw WorkbenchError("\(name): columns must be at least 1, got \(columns)") }
        guard (8...400).contains(cellSize) else { throw WorkbenchError("\(name): cell size \(cellSize) px is out of range 8...400") }
        for (index, board) in boards.enumerated() {
            try board.validate(name: panelTitles ? "board grid, board \(index)" : name)
        }

        let finite = boards.flatMap { $0.values?.compactMap { $0 } ?? [] }
        let resolved = try scale.resolved(for: finite)
        let hasValues = boards.contains { $0.values?.contains { $0 != nil } ?? false }
        let drawing = try BoardDrawing(cell: cellSize)
        let panel = try drawing.panelSize(titles: titles)

        let margin = Chrome.margin
        let rows = (boards.count + columns - 1) / columns
        let usedColumns = min(columns, boards.count)
        let gapX = max(14, cellSize / 2), gapY = max(10, cellSize / 3)
        let gridWidth = usedColumns * panel.width + (usedColumns - 1) * gapX
        let gridHeight = rows * panel.height + (rows - 1) * gapY
        let top = margin + (try Chrome.titleHeight(figureTitle))
        let origins = boards.indices.map { index in
            (x: margin + (index % columns) * (panel.width + gapX), y: top + (index / columns) * (panel.height + gapY))
        }

        let boardTop = panel.height - drawing.boardSide
        let colorBar = showsColorBar && hasValues ? try ColorBar(scale: resolved, height: gridHeight - boardTop) : nil
        let colorBarArea = colorBar.map { 24 + $0.width } ?? 0

        var entries: [Legend.Entry] = []
        if boards.contains(where: \.hasNoData) { entries.append(.init(swatch: .noData, label: "no data")) }
        let styles = Set(boards.flatMap { $0.marks.map(\.style) })
        for style in BoardMark.Style.allCases where styles.contains(style) {
            entries.append(.init(swatch: .mark(style), label: markLabels[style] ?? style.defaultLabel))
        }
        let legend = try Legend(entries, maxWidth: max(gridWidth + colorBarArea, 320))

        let titleWidth = try figureTitle.map { try TextLayout.measure($0, style: Chrome.titleStyle).width } ?? 0
        return Layout(
            width: margin + max(gridWidth + colorBarArea, titleWidth, legend.width) + margin,
            height: top + gridHeight + (legend.isEmpty ? 0 : 14 + legend.height) + margin,
            drawing: drawing, scale: resolved, panelOrigins: origins, panelTitleHeight: panel.titleHeight,
            gridWidth: gridWidth, colorBar: colorBar, colorBarOrigin: (margin + gridWidth + 24, top + boardTop),
            legend: legend, legendOrigin: (margin + drawing.rowLabelWidth, top + gridHeight + 14)
        )
    }

    /// Panel titles: each board's own in a grid, none for a single board (its title is the figure's).
    private var titles: [String?] { panelTitles ? boards.map(\.title) : boards.map { _ in nil } }

    func render() throws -> Bitmap {
        let layout = try layout()
        var canvas = try Canvas(width: layout.width, height: layout.height)
        if let figureTitle, !figureTitle.isEmpty {
            let margin = Chrome.margin
            try Chrome.drawTitle(figureTitle, on: &canvas, centeredOver: (margin + layout.drawing.rowLabelWidth)...(margin + layout.gridWidth), top: margin)
        }
        let titles = self.titles
        for (index, board) in boards.enumerated() {
            let origin = layout.panelOrigins[index]
            try layout.drawing.draw(board, title: titles[index], scale: layout.scale, on: &canvas,
                                    x: origin.x, y: origin.y, titleHeight: layout.panelTitleHeight)
        }
        if let colorBar = layout.colorBar {
            try colorBar.draw(on: &canvas, x: layout.colorBarOrigin.x, y: layout.colorBarOrigin.y)
        }
        if !layout.legend.isEmpty {
            try layout.legend.draw(on: &canvas, x: layout.legendOrigin.x, y: layout.legendOrigin.y)
        }
        return canvas.bitmap
    }
}
