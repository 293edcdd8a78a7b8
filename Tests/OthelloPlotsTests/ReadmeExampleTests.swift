import Foundation
import OthelloPlots
import OthelloRules
import XCTest

/// The OthelloPlots catalog's examples (Sources/OthelloPlots/OthelloPlots.docc/OthelloPlots.md), with concrete data, so the API they show keeps compiling and working.
final class ReadmeExampleTests: XCTestCase {
    func testReadmeExamples() throws {
        let folder = try temporaryFolder(self)
        func url(_ name: String) -> URL { folder.appendingPathComponent(name) }
        let step = try GameReplay(moves: [37, 43, 34], source: "example").steps[2]
        let direction = (0..<64).map { sin(Double($0)) }
        let layers = (0..<8).map { index in (index: index, values: direction.map { $0 * Double(index) }) }
        let layerNumbers = (0...8).map(Double.init)
        let linear = layerNumbers.map { 0.6 + 0.04 * $0 }, mlp = layerNumbers.map { 0.65 + 0.04 * $0 }
        let losses = (1...100).map { 3 / Double($0) }
        let moves = ["E5", "F3", "E2"]
        let pattern: [[Double?]] = [[1, nil, nil], [0.4, 0.6, nil], [0.2, 0.3, 0.5]]

        try BoardHeatmap(values: direction, discs: Disc.discs(of: step.board), marks: [BoardMark(37, .played)],
                         cellText: .values(decimals: 2), title: "Probe 'mine' direction, layer 6",
                         scale: .diverging(label: "weight"))
            .write(to: url("probe.png"))
        try BoardGrid(boards: layers.map { BoardHeatmap(values: $0.values, title: "layer \($0.index)") },
                      columns: 4, title: "Probe direction by layer", scale: .diverging(label: "weight"))
            .write(to: url("layers.png"))
        try LinePlot(series: [LineSeries("linear", x: layerNumbers, y: linear, markers: true),
                              LineSeries("MLP", x: layerNumbers, y: mlp, dashed: true, markers: true)],
                     title: "Probe accuracy by layer", xLabel: "layer", yLabel: "accuracy")
            .write(to: url("accuracy.png"))
        try LinePlot(series: [LineSeries("train", y: losses)], xLabel: "step", yLabel: "loss", logY: true)
            .write(to: url("loss.png"))
        try MatrixHeatmap(values: pattern, rowLabels: moves, columnLabels: moves, title: "L0H3",
                          xLabel: "source", yLabel: "destination", scale: .probability)
            .write(to: url("attention.png"))

        var canvas = try Canvas(width: 200, height: 80)
        canvas.fillDisc(center: Point(40, 40), radius: 20, color: .black)
        try canvas.drawText("E5", at: Point(100, 40), style: TextStyle(size: 16, weight: .bold), vertical: .middle)
        try PNG.write(canvas.bitmap, to: url("canvas.png"))
        let pixels = try PNG.read(from: url("canvas.png"))
        XCTAssertEqual(pixels.color(x: 40, y: 40), .black)

        let position = BoardHeatmap.position(step.board, lastMove: step.move, legalMoves: step.legalMoves, title: "After 3 moves")
        XCTAssertEqual(position.marks.first, BoardMark(34, .played))
        XCTAssertEqual(position.marks.count, 1 + step.legalSquares.count)
        XCTAssertEqual(position.discs?.compactMap { $0 }.count, 7)
        try position.write(to: url("position.png"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).count, 7)
    }
}
