import Foundation
import XCTest
@testable import OthelloPlots

final class PNGTests: XCTestCase {
    func testRGBRoundTripIsExact() throws {
        var pixels = [UInt8](repeating: 0, count: 7 * 5 * 3)
        for i in pixels.indices { pixels[i] = UInt8((i * 37) % 256) }
        let image = try Bitmap(width: 7, height: 5, channels: 3, pixels: pixels)
        let back = try PNG.decode(try PNG.encode(image))
        XCTAssertEqual(back.width, 7)
        XCTAssertEqual(back.height, 5)
        XCTAssertEqual(back.channels, 4)
        for y in 0..<5 {
            for x in 0..<7 {
                let p = back.pixel(x: x, y: y), q = image.pixel(x: x, y: y)
                XCTAssertEqual([p.red, p.green, p.blue, p.alpha], [q.red, q.green, q.blue, 255])
            }
        }
    }

    func testRGBARoundTripKeepsAlpha() throws {
        var image = try Bitmap(width: 3, height: 2, channels: 4, fill: RGB(hex: 0x336699))
        image.pixels[3] = 0
        image.pixels[7] = 128
        let back = try PNG.decode(try PNG.encode(image))
        XCTAssertEqual(back.pixels, image.pixels)
    }

    func testFileStartsWithPNGSignatureAndLeavesNoTemporaryFiles() throws {
        let folder = try temporaryFolder(self)
        let url = folder.appendingPathComponent("out.png")
        try PNG.write(try Bitmap(width: 4, height: 4), to: url)
        let data = try Data(contentsOf: url)
        XCTAssertEqual(Array(data.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["out.png"])
    }

    func testDamagedDataIsAClearError() throws {
        assertWorkbenchError("broken.png", "not a readable PNG") {
            _ = try PNG.decode(Data("not a png at all".utf8), name: "broken.png")
        }
        var data = try PNG.encode(try Bitmap(width: 20, height: 20))
        data = data.prefix(data.count / 2)
        assertWorkbenchError("half.png") { _ = try PNG.decode(data, name: "half.png") }
    }

    /// Headers that announce more pixels than the workbench reads, or than the file can hold, are refused before
    /// the pixels are allocated (the first asked for 40 GB).
    func testHugeHeaderIsRefusedBeforeAllocating() {
        let huge = Data(base64Encoded: "iVBORw0KGgoAAAANSUhEUgABhqAAAYagCAIAAAAnMJyfAAAACElEQVR4nAMAAAAAAUgGidIAAAAASUVORK5CYII=")!
        assertWorkbenchError("huge.png: the PNG header announces 100000×100000 pixels, more than the 67108864 this workbench reads") {
            _ = try PNG.decode(huge, name: "huge.png")
        }
        let empty = Data(base64Encoded: "iVBORw0KGgoAAAANSUhEUgAAB9AAAAfQCAYAAACaOMR5AAAACElEQVR4nAMAAAAAAUgGidIAAAAASUVORK5CYII=")!
        assertWorkbenchError("empty.png: the PNG header announces 2000×2000 pixels, more than its 65 bytes can hold") {
            _ = try PNG.decode(empty, name: "empty.png")
        }
    }

    func testMissingFileAndUnwritablePathsAreClearErrors() throws {
        assertWorkbenchError("/no/such/folder/x.png") { _ = try PNG.read(from: URL(fileURLWithPath: "/no/such/folder/x.png")) }
        let image = try Bitmap(width: 2, height: 2)
        assertWorkbenchError("/no/such/folder", "does not exist") {
            try PNG.write(image, to: URL(fileURLWithPath: "/no/such/folder/x.png"))
        }
        // /proc refuses new files even to root.
        assertWorkbenchError("/proc/figure.png", "cannot write") {
            try PNG.write(image, to: URL(fileURLWithPath: "/proc/figure.png"))
        }
    }

    /// Tiles keep their pixels: a row of a red 2×1 and a blue 1×2 image over a green 1×1 gives a 3×3 image,
    /// white where no tile is.
    func testTiledPlacesEachImageAtItsCorner() throws {
        let red = try Bitmap(width: 2, height: 1, fill: RGB(255, 0, 0))
        let blue = try Bitmap(width: 1, height: 2, fill: RGB(0, 0, 255))
        let green = try Bitmap(width: 1, height: 1, channels: 4, fill: RGB(0, 255, 0))
        let image = try Bitmap.tiled([[red, blue], [green]])
        XCTAssertEqual([image.width, image.height, image.channels], [3, 3, 3])
        let expected: [[RGB]] = [[RGB(255, 0, 0), RGB(255, 0, 0), RGB(0, 0, 255)],
                                 [.white, .white, RGB(0, 0, 255)],
                                 [RGB(0, 255, 0), .white, .white]]
        for y in 0..<3 { for x in 0..<3 { XCTAssertEqual(image.color(x: x, y: y), expected[y][x], "(\(x), \(y))") } }
    }

    func testBadBitmapShapesAreErrors() {
        assertWorkbenchError("out of range") { _ = try Bitmap(width: 0, height: 10) }
        assertWorkbenchError("3 (RGB) or 4 (RGBA)") { _ = try Bitmap(width: 2, height: 2, channels: 2) }
        assertWorkbenchError("expected 12 bytes") { _ = try Bitmap(width: 2, height: 2, channels: 3, pixels: [1, 2, 3]) }
    }
}
