/// Draws one board panel at a given cell size: title, row and column labels, cells, grid lines,
/// discs, marks and cell text.
struct BoardDrawing {
    let cell: Int
    let labelStyle: TextStyle
    let titleStyle: TextStyle
    let cellTextSize: Int
    let rowLabelWidth: Int
    let columnLabelHeight: Int

    /// Amber frame of the `played` mark.
    static let playedColor = RGB(hex: 0xFFB000)

    init(cell: Int) throws {
        self.cell = cell
        let labelStyle = TextStyle(size: min(14, max(9, Int((Double(cell) * 0.3).rounded()))), color: RGB(hex: 0x444444))
        self.labelStyle = labelStyle
        titleStyle = TextStyle(size: min(15, max(10, Int((Double(cell) * 0.42).rounded()))), weight: .bold)
        cellTextSize = min(14, max(7, Int((Double(cell) * 0.27).rounded())))
        let widest = try SquareLabel.rows.map { try TextLayout.measure($0, style: labelStyle).width }.max() ?? 0
        rowLabelWidth = widest + 7
        columnLabelHeight = try TextLayout.measure("0", style: labelStyle).capHeight + 7
    }

    /// The board with its grid lines: 8 cells plus the closing line.
    var boardSide: Int { 8 * cell + 1 }

    /// Size of every panel (the same for all, so the grid lines up), and its title band.
    func panelSize(titles: [String?]) throws -> (width: Int, height: Int, titleHeight: Int) {
        let hasTitle = titles.contains { !($0 ?? "").isEmpty }
        let titleHeight = hasTitle ? try TextLayout.measure("Ag", style: titleStyle).height + 4 : 0
        return (rowLabelWidth + boardSide, titleHeight + columnLabelHeight + boardSide, titleHeight)
    }

    /// The interior of square `square`'s cell for a board whose top-left grid line is at (left, top).
    func cellRect(_ square: Int, left: Int, top: Int) -> PixelRect {
        PixelRect(x: left + (square % 8) * cell + 1, y: top + (square / 8) * cell + 1, width: cell - 1, height: cell - 1)
    }

    func draw(_ board: BoardHeatmap, title: String?, scale: ResolvedColorScale, on canvas: inout Canvas,
              x: Int, y: Int, titleHeight: Int) throws {
        let left = x + rowLabelWidth
        let top = y + titleHeight + columnLabelHeight
        let side = boardSide

        if let title, !title.isEmpty {
            let (text, style) = try Chrome.fitted(title, style: titleStyle, width: side + rowLabelWidth)
            try canvas.drawText(text, at: Point(Double(left) + Double(side) / 2, Double(y)), style: style, align: .center, vertical: .top)
        }
        for column in 0..<8 {
            try canvas.drawText(String(column), at: Point(Double(left + column * cell) + Double(cell + 1) / 2, Double(top - 4)),
                                style: labelStyle, align: .center, vertical: .baseline)
        }
        for row in 0..<8 {
            try canvas.drawText(SquareLabel.rows[row], at: Point(Double(left - 5), Double(top + row * cell) + Double(cell + 1) / 2),
                                style: labelStyle, align: .right, vertical: .middle)
        }

        // Grid lines: the board filled in a darker shade of the empty colour, cells inside.
        canvas.fill(PixelRect(x: left, y: top, width: side, height: side), with: board.emptyColor.mixed(with: .black, fraction: 0.35))
        var under = [RGB](repeating: board.emptyColor, count: 64)
        for square in 0..<64 {
            let rect = cellRect(square, left: left, top: top)
            guard let value = board.value(square) else {
                canvas.fill(rect, with: board.emptyColor)
                continue
            }
            if let color = scale.color(for: value) {
                canvas.fill(rect, with: color)
                under[square] = color
            } else {
                canvas.fillHatched(rect, background: .noData, stripes: Chrome.noDataStripes, spacing: cell >= 30 ? 6 : 4)
                under[square] = .noData
            }
        }
        canvas.stroke(PixelRect(x: left, y: top, width: side, height: side), with: RGB(hex: 0x333333))

        // Discs: smaller over values so the cell colour still shows around them.
        if let discs = board.discs {
            let radius = Double(cell) * (board.values == nil ? 0.4 : 0.31)
            for (square, disc) in discs.enumerated() {
                guard let disc else { continue }
                let center = cellRect(square, left: left, top: top).center
                switch disc {
                case .black:
                    canvas.fillDisc(center: center, radius: radius, color: RGB(hex: 0x151515))
                    under[square] = RGB(hex: 0x151515)
                case .white:
                    canvas.fillDisc(center: center, radius: radius, color: RGB(hex: 0xF5F5F5))
                    canvas.strokeCircle(center: center, radius: radius - 0.5, color: RGB(hex: 0x505050), thickness: 1)
                    under[square] = RGB(hex: 0xF5F5F5)
                }
            }
        }
        for mark in board.marks {
            var rect = cellRect(mark.square, left: left, top: top)
            if mark.style == .legal, board.cellText.text(at: mark.square, value: board.value(mark.square)) != nil {
                // Keep the dot clear of the cell's text: a small square in the top-right corner.
                let corner = max(6, rect.width / 4)
                rect = PixelRect(x: rect.maxX - corner, y: rect.y, width: corner, height: corner)
            }
            BoardDrawing.drawMark(mark.style, in: rect, on: &canvas)
        }

        for square in 0..<64 {
            guard let text = board.cellText.text(at: square, value: board.value(square)) else { continue }
            let rect = cellRect(square, left: left, top: top)
            let style = TextStyle(size: cellTextSize, color: under[square].contrastingText)
            let (fittedText, fittedStyle) = try Chrome.fitted(text, style: style, width: rect.width - 3)
            try canvas.drawText(fittedText, at: rect.center, style: fittedStyle, align: .center, vertical: .middle)
        }
    }

    /// Draws a mark in a cell's interior `rect`.
    static func drawMark(_ style: BoardMark.Style, in rect: PixelRect, on canvas: inout Canvas) {
        let thickness = max(2, rect.width / 14)
        switch style {
        case .played:
            canvas.stroke(rect, with: playedColor, thickness: thickness + 1)
            canvas.stroke(rect, with: .ink, thickness: 1)
            canvas.stroke(rect.insetBy(thickness + 1), with: .ink, thickness: 1)
        case .edited:
            canvas.stroke(rect, with: .black, thickness: thickness, dash: max(3, rect.width / 7), gapColor: .white)
        case .predicted:
            let radius = Double(rect.width) * 0.44 - Double(thickness) / 2
            canvas.strokeCircle(center: rect.center, radius: radius, color: .white, thickness: Double(thickness) + 2)
            canvas.strokeCircle(center: rect.center, radius: radius, color: .ink, thickness: Double(thickness))
        case .legal:
            canvas.fillDisc(center: rect.center, radius: max(2, Double(min(rect.width, 52)) * 0.1), color: .black, opacity: 0.4)
        }
    }
}
