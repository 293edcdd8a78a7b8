import XCTest
@testable import OthelloPlots

final class PlotTests: XCTestCase {
    /// Pixels within `tolerance` of `color` in columns below `maxX`.
    private func count(_ color: RGB, in image: Bitmap, tolerance: Int = 10, maxX: Int? = nil) -> Int {
        var n = 0
        for y in 0..<image.height {
            for x in 0..<min(maxX ?? image.width, image.width) where distance(image.color(x: x, y: y), color) <= tolerance { n += 1 }
        }
        return n
    }

    func testLinePlotDrawsSeriesInTheirColoursWithTitle() throws {
        let plot = LinePlot(series: [LineSeries("a", y: [0.5, 0.7, 0.9, 0.95]), LineSeries("b", y: [0.4, 0.6, 0.65, 0.7], dashed: true)],
                            title: "Probe accuracy", xLabel: "layer", yLabel: "accuracy")
        let image = try writtenAndReadBack(plot, self)
        XCTAssertGreaterThan(image.width, plot.plotWidth)
        XCTAssertGreaterThan(image.height, plot.plotHeight)
        let solid = count(RGB.categorical[0], in: image), dashed = count(RGB.categorical[1], in: image)
        XCTAssertGreaterThan(solid, 400)
        XCTAssertGreaterThan(dashed, 200)
        XCTAssertGreaterThan(darkPixels(in: image, PixelRect(x: 0, y: 0, width: image.width, height: Chrome.margin + 22)), 60)
    }

    func testLogScaleAndGaps() throws {
        let loss = (1...500).map { 3 * exp(-Double($0) / 100) + 0.01 }
        XCTAssertNoThrow(try LinePlot(series: [LineSeries("loss", y: loss)], logY: true).render())
        var gappy = loss
        gappy[100] = .nan
        gappy[200] = .infinity
        XCTAssertNoThrow(try LinePlot(series: [LineSeries("loss", y: gappy)], logY: true).render())
        // A lone point has no line to show it, so it gets a dot.
        let lone = try LinePlot(series: [LineSeries("one point", y: [1])]).render()
        XCTAssertGreaterThan(count(RGB.categorical[0], in: lone, tolerance: 40, maxX: 560), 30)   // left of the legend
    }

    func testLinePlotBadInput() {
        assertWorkbenchError("no series") { _ = try LinePlot(series: []).render() }
        assertWorkbenchError("'empty' has no points") { _ = try LinePlot(series: [LineSeries("empty", y: [])]).render() }
        assertWorkbenchError("3 x values but 2 y values") { _ = try LinePlot(series: [LineSeries("s", x: [1, 2, 3], y: [1, 2])]).render() }
        assertWorkbenchError("log-scale", "'loss'", "y[1] = 0") { _ = try LinePlot(series: [LineSeries("loss", y: [1, 0])], logY: true).render() }
        assertWorkbenchError("no finite") { _ = try LinePlot(series: [LineSeries("nan", y: [.nan, .nan])]).render() }
        assertWorkbenchError("y limits") { _ = try LinePlot(series: [LineSeries("s", y: [1, 2])], yLimits: 2...2).render() }
    }

    func testMatrixCellsHaveTheirColours() throws {
        let values: [[Double?]] = [[0, 0.25, nil], [0.5, 1, .nan]]
        let figure = MatrixHeatmap(values: values, rowLabels: ["q0", "q1"], columnLabels: ["k0", "k1", "k2"],
                                   title: "pattern", scale: .probability)
        let layout = try figure.layout()
        let image = try writtenAndReadBack(figure, self)
        XCTAssertEqual(image.width, layout.width)
        func at(_ row: Int, _ column: Int) -> RGB {
            let c = layout.cellRect(row: row, column: column).center
            return image.color(x: Int(c.x), y: Int(c.y))
        }
        assertColor(at(0, 0), RGB(hex: 0xF7FBFF))
        assertColor(at(0, 1), RGB(hex: 0xC6DBEF))
        assertColor(at(1, 0), RGB(hex: 0x6BAED6))
        assertColor(at(1, 1), RGB(hex: 0x08306B))
        assertColor(at(0, 2), .emptyCell)
        XCTAssertEqual(layout.legend.rows.flatMap { $0 }.map(\.label), ["no data"])
    }

    func testDenseMatrixThinsAndTurnsLabels() throws {
        let n = 60
        let values = (0..<n).map { r in (0..<n).map { c -> Double? in c <= r ? 1 / Double(r + 1) : nil } }
        let figure = MatrixHeatmap(values: values, rowLabels: (0..<n).map { "pos \($0)" }, columnLabels: (0..<n).map { "pos \($0)" })
        let layout = try figure.layout()
        XCTAssertEqual(layout.cell, 8)
        XCTAssertTrue(layout.upright)
        XCTAssertGreaterThan(layout.rowStride, 1)
        XCTAssertNoThrow(try figure.render())
    }

    func testMatrixBadInput() {
        assertWorkbenchError("empty") { _ = try MatrixHeatmap(values: []).render() }
        assertWorkbenchError("row 1 has 1 values") { _ = try MatrixHeatmap(values: [[1, 2], [3]]).render() }
        assertWorkbenchError("1 row labels for 2 rows") { _ = try MatrixHeatmap(values: [[1], [2]], rowLabels: ["a"]).render() }
        assertWorkbenchError("3 column labels for 1 columns") { _ = try MatrixHeatmap(values: [[1], [2]], columnLabels: ["a", "b", "c"]).render() }
        assertWorkbenchError("2 cell texts") { _ = try MatrixHeatmap(values: [[1, 2], [3, 4]], cellText: .custom(["a", "b"])).render() }
    }
}
