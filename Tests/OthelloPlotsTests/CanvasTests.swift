import XCTest
@testable import OthelloPlots

final class CanvasTests: XCTestCase {
    func testFillAndOpacity() throws {
        var canvas = try Canvas(width: 20, height: 10)
        canvas.fill(PixelRect(x: 2, y: 2, width: 5, height: 5), with: RGB(hex: 0xB2182B))
        canvas.fill(PixelRect(x: 10, y: 2, width: 5, height: 5), with: .black, opacity: 0.5)
        XCTAssertEqual(canvas.bitmap.color(x: 4, y: 4), RGB(hex: 0xB2182B))
        XCTAssertEqual(canvas.bitmap.color(x: 7, y: 4), .white)
        XCTAssertEqual(canvas.bitmap.color(x: 12, y: 4), RGB(128, 128, 128))
        // Off-canvas parts are clipped, not a crash.
        canvas.fill(PixelRect(x: -5, y: -5, width: 100, height: 8), with: .black)
        XCTAssertEqual(canvas.bitmap.color(x: 0, y: 2), .black)
        XCTAssertEqual(canvas.bitmap.color(x: 0, y: 3), .white)
    }

    func testDiscIsAntiAliased() throws {
        var canvas = try Canvas(width: 40, height: 40)
        canvas.fillDisc(center: Point(20, 20), radius: 10.3, color: .black)
        XCTAssertEqual(canvas.bitmap.color(x: 20, y: 20), .black)
        XCTAssertEqual(canvas.bitmap.color(x: 20, y: 2), .white)
        // The rim has intermediate greys.
        let rim = (0..<40).map { canvas.bitmap.color(x: $0, y: 20).red }.filter { $0 > 0 && $0 < 255 }
        XCTAssertFalse(rim.isEmpty)
        // Area close to π r².
        var ink = 0.0
        for y in 0..<40 { for x in 0..<40 { ink += 1 - Double(canvas.bitmap.color(x: x, y: y).red) / 255 } }
        XCTAssertEqual(ink, Double.pi * 10.3 * 10.3, accuracy: 3)
    }

    func testLineCoverageAndDashes() throws {
        var solid = try Canvas(width: 100, height: 20)
        solid.drawLine(from: Point(5, 10.5), to: Point(95, 10.5), color: .black, width: 1)
        XCTAssertEqual(solid.bitmap.color(x: 50, y: 10), .black)
        XCTAssertEqual(solid.bitmap.color(x: 50, y: 9), .white)
        var dashed = try Canvas(width: 100, height: 20)
        dashed.drawLine(from: Point(5, 10.5), to: Point(95, 10.5), color: .black, width: 1, dash: [6, 4])
        let onSolid = (0..<100).filter { solid.bitmap.color(x: $0, y: 10).red < 128 }.count
        let onDashed = (0..<100).filter { dashed.bitmap.color(x: $0, y: 10).red < 128 }.count
        XCTAssertEqual(Double(onDashed) / Double(onSolid), 0.6, accuracy: 0.1)
    }

    func testPolylineSkipsNonFinitePointsAndHonoursClip() throws {
        var canvas = try Canvas(width: 60, height: 20)
        canvas.drawPolyline([Point(5, 10.5), Point(20, 10.5), Point(.nan, .nan), Point(40, 10.5), Point(55, 10.5)],
                            color: .black, width: 1, clip: PixelRect(x: 0, y: 0, width: 50, height: 20))
        XCTAssertEqual(canvas.bitmap.color(x: 10, y: 10), .black)
        XCTAssertEqual(canvas.bitmap.color(x: 30, y: 10), .white)   // the gap
        XCTAssertEqual(canvas.bitmap.color(x: 45, y: 10), .black)
        XCTAssertEqual(canvas.bitmap.color(x: 52, y: 10), .white)   // clipped
    }

    func testHatchingAndDashedOutline() throws {
        var canvas = try Canvas(width: 40, height: 40)
        canvas.fillHatched(PixelRect(x: 0, y: 0, width: 20, height: 20), background: .noData, stripes: .black, spacing: 6)
        let colors = Set((0..<20).map { canvas.bitmap.color(x: $0, y: 10) })
        XCTAssertTrue(colors.contains(.noData))
        XCTAssertTrue(colors.contains(.black))
        canvas.stroke(PixelRect(x: 20, y: 20, width: 20, height: 20), with: .black, thickness: 2, dash: 4, gapColor: .white)
        let top = (20..<40).map { canvas.bitmap.color(x: $0, y: 20) }
        XCTAssertEqual(top.filter { $0 == .black }.count, 12)   // 4 on, 4 off, 4 on, 4 off, 4 on
        XCTAssertEqual(canvas.bitmap.color(x: 30, y: 30), .white)  // inside untouched
    }

    func testTextIsDarkAndMeasured() throws {
        var canvas = try Canvas(width: 200, height: 40)
        let style = TextStyle(size: 16)
        let metrics = try canvas.drawText("Probe E5", at: Point(10, 10), style: style, vertical: .top)
        XCTAssertGreaterThan(metrics.width, 50)
        XCTAssertLessThan(metrics.width, 100)
        XCTAssertGreaterThan(metrics.capHeight, 8)
        XCTAssertGreaterThan(darkPixels(in: canvas.bitmap, PixelRect(x: 10, y: 10, width: metrics.width, height: metrics.height)), 40)
        XCTAssertEqual(darkPixels(in: canvas.bitmap, PixelRect(x: 10 + metrics.width + 2, y: 0, width: 80, height: 40)), 0)
        XCTAssertGreaterThan(try canvas.measure("Probe E5 layer", style: style).width, metrics.width)
        XCTAssertGreaterThan(try canvas.measure("Probe", style: TextStyle(size: 16, weight: .bold)).width,
                             try canvas.measure("Probe", style: style).width)
    }

    func testRotatedTextIsTallNotWide() throws {
        var canvas = try Canvas(width: 60, height: 200)
        let metrics = try canvas.drawText("accuracy", at: Point(30, 100), style: TextStyle(size: 14),
                                          align: .center, vertical: .middle, rotation: .counterclockwise)
        var minX = Int.max, maxX = Int.min, minY = Int.max, maxY = Int.min
        for y in 0..<200 {
            for x in 0..<60 where canvas.bitmap.color(x: x, y: y).luminance < 0.5 {
                minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
            }
        }
        XCTAssertGreaterThan(maxY - minY, metrics.width - 6)
        XCTAssertLessThan(maxX - minX, metrics.height)
        XCTAssertEqual(Double(minY + maxY) / 2, 100, accuracy: 3)
    }

    func testMissingFontNamesThePathAndTheFix() throws {
        var canvas = try Canvas(width: 10, height: 10, background: .white, fonts: FontLibrary(directories: ["/nonexistent/fonts"]))
        assertWorkbenchError("/nonexistent/fonts/DejaVuSans.ttf", "apt-get install fonts-dejavu-core") {
            try canvas.drawText("x", at: Point(1, 1), style: TextStyle(size: 10))
        }
    }
}
