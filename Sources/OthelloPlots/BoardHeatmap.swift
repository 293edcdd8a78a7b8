import WorkbenchSupport

/// One Othello board as a figure: an optional value per square drawn through a colour scale,
/// optional text in each cell, optional discs, highlighted squares, a title and a colour bar.
///
/// Squares are indexed 0...63 = 8 × row + column; rows are labelled A...H top to bottom and
/// columns 0...7 left to right (the Othello-GPT labels: "E5" is square 37).
///
///     // A probe direction, signed: blue negative, white 0, red positive, numbers in the cells.
///     let figure = BoardHeatmap(values: weights, cellText: .values(decimals: 2),
///                               title: "Probe 'mine' direction, layer 6", scale: .diverging(label: "weight"))
///     try figure.write(to: URL(fileURLWithPath: "probe.png"))
///
///     // A plain position: discs on green felt, the last move framed, legal moves dotted.
///     let position = BoardHeatmap.position(discs: discs, marks: [BoardMark(37, .played)], title: "After 20 moves")
public struct BoardHeatmap: Figure {
    /// 64 values (A0, A1, ..., H7), `nil` for a square without a value; or `nil` for no values at all.
    /// NaN and infinity are drawn as "no data" (grey hatching, with a legend entry).
    public var values: [Double?]?
    /// 64 squares, `nil` for empty; or `nil` for no discs.
    public var discs: [Disc?]?
    public var marks: [BoardMark]
    public var cellText: CellText
    public var title: String?
    public var scale: ColorScale
    /// Draw the colour bar (only when there are values).
    public var showsColorBar: Bool
    /// Side of one square in pixels.
    public var cellSize: Int
    /// Colour of squares with no value.
    public var emptyColor: RGB
    /// Legend text per mark style, replacing `BoardMark.Style.defaultLabel`.
    public var markLabels: [BoardMark.Style: String]

    public init(values: [Double?]? = nil, discs: [Disc?]? = nil, marks: [BoardMark] = [],
                cellText: CellText = .none, title: String? = nil, scale: ColorScale = .diverging(),
                showsColorBar: Bool = true, cellSize: Int = 52, emptyColor: RGB = .emptyCell,
                markLabels: [BoardMark.Style: String] = [:]) {
        self.values = values
        self.discs = discs
        self.marks = marks
        self.cellText = cellText
        self.title = title
        self.scale = scale
        self.showsColorBar = showsColorBar
        self.cellSize = cellSize
        self.emptyColor = emptyColor
        self.markLabels = markLabels
    }

    /// A position on green felt: discs and marks, no values.
    public static func position(discs: [Disc?], marks: [BoardMark] = [], title: String? = nil, cellSize: Int = 52) -> BoardHeatmap {
        BoardHeatmap(discs: discs, marks: marks, title: title, cellSize: cellSize, emptyColor: .boardGreen)
    }

    public func render() throws -> Bitmap {
        try panels.render()
    }

    /// This board as a one-panel grid whose title is the figure title.
    var panels: BoardPanels {
        BoardPanels(boards: [self], columns: 1, figureTitle: title, panelTitles: false, scale: scale,
                    showsColorBar: showsColorBar, cellSize: cellSize, markLabels: markLabels)
    }

    /// Checks sizes and squares; `name` says which board in messages.
    func validate(name: String) throws {
        if let values, values.count != 64 {
            throw WorkbenchError("\(name): expected 64 values (one per square A0...H7), got \(values.count); pass nil for a square without a value")
        }
        if let discs, discs.count != 64 {
            throw WorkbenchError("\(name): expected 64 disc entries (one per square A0...H7), got \(discs.count)")
        }
        if let mark = marks.first(where: { !(0..<64).contains($0.square) }) {
            throw WorkbenchError("\(name): marked square \(mark.square) is off the board; squares are 0...63 (8 × row + column)")
        }
        if case .custom(let texts) = cellText, texts.count != 64 {
            throw WorkbenchError("\(name): expected 64 cell texts, got \(texts.count)")
        }
    }

    /// The value of `square` (nil if none).
    func value(_ square: Int) -> Double? {
        guard let values, square < values.count else { return nil }
        return values[square]
    }

    var hasNoData: Bool { values?.contains { $0.map { !$0.isFinite } ?? false } ?? false }
}
