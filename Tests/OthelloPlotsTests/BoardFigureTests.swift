import XCTest
@testable import OthelloPlots

final class BoardFigureTests: XCTestCase {
    /// Values −1 ... +1 rising across the board, a hole and a NaN.
    private var ramp: [Double?] {
        var values: [Double?] = (0..<64).map { Double($0) / 63 * 2 - 1 }
        values[9] = nil
        values[10] = .nan
        return values
    }

    func testHeatmapCellsHaveTheirColourMapColour() throws {
        let figure = BoardHeatmap(values: ramp, title: "ramp")
        let layout = try figure.panels.layout()
        let image = try writtenAndReadBack(figure, self)
        XCTAssertEqual(image.width, layout.width)
        XCTAssertEqual(image.height, layout.height)
        for square in [0, 20, 31, 32, 50, 63] {
            let center = layout.center(board: 0, square: square)
            let expected = ColorMap.redBlue.color(at: (Double(square) / 63 * 2 - 1 + 1) / 2)
            assertColor(image.color(x: Int(center.x), y: Int(center.y)), expected, "square \(square)")
        }
        // nil: the empty colour.
        let hole = layout.center(board: 0, square: 9)
        assertColor(image.color(x: Int(hole.x), y: Int(hole.y)), .emptyCell)
    }

    func testHeatmapColoursAreMonotonicInValue() throws {
        let figure = BoardHeatmap(values: (0..<64).map { Double($0) / 63 * 2 - 1 })
        let layout = try figure.panels.layout()
        let image = try figure.render()
        func color(_ square: Int) -> RGB {
            let c = layout.center(board: 0, square: square)
            return image.color(x: Int(c.x), y: Int(c.y))
        }
        // Positive values (squares 32...63): blue and luminance fall as the value rises.
        // Negative values (31...0): red and luminance fall as the value falls.
        for square in 33..<64 {
            XCTAssertLessThanOrEqual(color(square).blue, color(square - 1).blue)
            XCTAssertLessThan(color(square).luminance, color(square - 1).luminance)
        }
        for square in stride(from: 30, through: 0, by: -1) {
            XCTAssertLessThanOrEqual(color(square).red, color(square + 1).red)
            XCTAssertLessThan(color(square).luminance, color(square + 1).luminance)
        }
        XCTAssertGreaterThan(color(0).blue, color(0).red)
        XCTAssertGreaterThan(color(63).red, color(63).blue)
    }

    func testTitleTextAndLabelsAreDrawn() throws {
        let figure = BoardHeatmap(values: ramp, title: "Probe direction")
        let layout = try figure.panels.layout()
        let image = try figure.render()
        let titleBand = PixelRect(x: 0, y: 0, width: image.width, height: Chrome.margin + 22)
        XCTAssertGreaterThan(darkPixels(in: image, titleBand), 60)
        // Row labels A...H left of the board.
        let board = layout.boardOrigin(0)
        XCTAssertGreaterThan(darkPixels(in: image, PixelRect(x: 0, y: board.top, width: board.left - 2, height: 8 * 52), threshold: 0.4), 80)
        // No title: the band is blank.
        let untitled = try BoardHeatmap(values: ramp).render()
        XCTAssertEqual(darkPixels(in: untitled, PixelRect(x: 0, y: 0, width: untitled.width, height: 14)), 0)
    }

    func testNoDataCellIsHatchedWithLegend() throws {
        let figure = BoardHeatmap(values: ramp)
        let layout = try figure.panels.layout()
        let image = try figure.render()
        let cell = layout.drawing.cellRect(10, left: layout.boardOrigin(0).left, top: layout.boardOrigin(0).top)
        let colors = Set((cell.x..<cell.maxX).map { image.color(x: $0, y: cell.y + cell.height / 2) })
        XCTAssertTrue(colors.contains(.noData))
        XCTAssertTrue(colors.contains(Chrome.noDataStripes))
        XCTAssertEqual(layout.legend.rows.flatMap { $0 }.map(\.label), ["no data"])
        // Without NaN there is no legend.
        XCTAssertTrue(try BoardHeatmap(values: (0..<64).map(Double.init)).panels.layout().legend.isEmpty)
    }

    func testPositionDrawsDiscsOnFeltAndMarks() throws {
        var discs = [Disc?](repeating: nil, count: 64)
        discs[27] = .white; discs[28] = .black; discs[35] = .black; discs[36] = .white
        let figure = BoardHeatmap.position(discs: discs, marks: [BoardMark(19, .legal), BoardMark(28, .played)], title: "start")
        let layout = try figure.panels.layout()
        let image = try figure.render()
        func at(_ square: Int) -> RGB {
            let c = layout.center(board: 0, square: square)
            return image.color(x: Int(c.x), y: Int(c.y))
        }
        assertColor(at(27), RGB(hex: 0xF5F5F5))
        assertColor(at(28), RGB(hex: 0x151515))
        assertColor(at(0), .boardGreen)
        XCTAssertLessThan(at(19).luminance, RGB.boardGreen.luminance)   // the legal-move dot darkens the felt
        // The played frame is amber at the cell's edge.
        let frame = layout.drawing.cellRect(28, left: layout.boardOrigin(0).left, top: layout.boardOrigin(0).top)
        assertColor(image.color(x: frame.x + 2, y: frame.y + frame.height / 2), BoardDrawing.playedColor)
        XCTAssertEqual(layout.legend.rows.flatMap { $0 }.map(\.label), ["last move", "legal move"])
        XCTAssertNil(layout.colorBar)
    }

    func testCellTextContrastsWithItsCell() throws {
        let values: [Double?] = (0..<64).map { $0 == 0 ? -1 : ($0 == 63 ? 1 : 0) }
        let figure = BoardHeatmap(values: values, cellText: .values(decimals: 1))
        let layout = try figure.panels.layout()
        let image = try figure.render()
        let origin = layout.boardOrigin(0)
        // Dark blue cell: white text; near-white cell: dark text.
        let blue = layout.drawing.cellRect(0, left: origin.left, top: origin.top)
        let pale = layout.drawing.cellRect(1, left: origin.left, top: origin.top)
        let blueTexels = (blue.x..<blue.maxX).flatMap { x in (blue.y..<blue.maxY).map { image.color(x: x, y: $0) } }
        XCTAssertTrue(blueTexels.contains { $0.luminance > 0.8 })
        XCTAssertGreaterThan(darkPixels(in: image, pale, threshold: 0.2), 10)
    }

    func testGridSharesOneScale() throws {
        let small: [Double?] = (0..<64).map { _ in 0.5 }
        let large: [Double?] = (0..<64).map { _ in 2.0 }
        let grid = BoardGrid(boards: [BoardHeatmap(values: small, title: "a"), BoardHeatmap(values: large, title: "b"),
                                      BoardHeatmap(values: small.map { $0.map { -$0 } }, title: "c")],
                             columns: 2, title: "shared", scale: .diverging())
        let layout = try grid.panels.layout()
        XCTAssertEqual(layout.scale.limits, -2...2)
        let image = try writtenAndReadBack(grid, self)
        XCTAssertEqual(image.width, layout.width)
        let a = layout.center(board: 0, square: 12), b = layout.center(board: 1, square: 12), c = layout.center(board: 2, square: 12)
        assertColor(image.color(x: Int(a.x), y: Int(a.y)), ColorMap.redBlue.color(at: 0.625))
        assertColor(image.color(x: Int(b.x), y: Int(b.y)), RGB(hex: 0x67001F))
        assertColor(image.color(x: Int(c.x), y: Int(c.y)), ColorMap.redBlue.color(at: 0.375))
        // Third board starts a second row.
        XCTAssertGreaterThan(c.y, a.y)
        XCTAssertEqual(c.x, a.x)
    }

    func testGridOf64BoardsRenders() throws {
        let boards = (0..<64).map { square in
            BoardHeatmap(values: (0..<64).map { Double(($0 * 7 + square) % 64) / 32 - 1 }, title: SquareLabel.label(square))
        }
        let image = try BoardGrid(boards: boards, columns: 8, cellSize: 16).render()
        XCTAssertGreaterThan(image.width, 8 * 8 * 16)
        XCTAssertGreaterThan(image.height, 8 * 8 * 16)
    }

    func testBadBoardInputIsAClearError() throws {
        assertWorkbenchError("expected 64 values", "got 60") { _ = try BoardHeatmap(values: Array(repeating: 0.0, count: 60)).render() }
        assertWorkbenchError("expected 64 disc") { _ = try BoardHeatmap(discs: [.black]).render() }
        assertWorkbenchError("square 64", "off the board") { _ = try BoardHeatmap(marks: [BoardMark(64, .played)]).render() }
        assertWorkbenchError("expected 64 cell texts") { _ = try BoardHeatmap(values: ramp, cellText: .custom(["a"])).render() }
        assertWorkbenchError("cell size") { _ = try BoardHeatmap(values: ramp, cellSize: 2).render() }
        assertWorkbenchError("no boards") { _ = try BoardGrid(boards: [], columns: 2).render() }
        assertWorkbenchError("columns must be at least 1") { _ = try BoardGrid(boards: [BoardHeatmap()], columns: 0).render() }
        assertWorkbenchError("board 1", "expected 64 values") {
            _ = try BoardGrid(boards: [BoardHeatmap(values: ramp), BoardHeatmap(values: [1, 2])], columns: 2).render()
        }
        // All NaN still draws (every cell "no data").
        XCTAssertNoThrow(try BoardHeatmap(values: Array(repeating: Double.nan, count: 64)).render())
        // Unwritable path.
        assertWorkbenchError("/proc/board.png") { try BoardHeatmap(values: ramp).write(to: URL(fileURLWithPath: "/proc/board.png")) }
    }
}
