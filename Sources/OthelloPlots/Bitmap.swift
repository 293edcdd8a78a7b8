import WorkbenchSupport

/// An 8-bit raster image: `height` rows of `width` pixels, each `channels` bytes
/// (3 = RGB, 4 = RGBA), rows top to bottom without padding.
///
///     let image = try PNG.read(from: URL(fileURLWithPath: "Figures/board.png"))
///     let (r, g, b, a) = image.pixel(x: 10, y: 20)
public struct Bitmap: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// 3 (RGB) or 4 (RGBA).
    public let channels: Int
    public var pixels: [UInt8]

    /// An image filled with `color` (opaque when `channels` is 4).
    public init(width: Int, height: Int, channels: Int = 3, fill color: RGB = .white) throws {
        guard width > 0, height > 0, width <= 1 << 15, height <= 1 << 15 else {
            throw WorkbenchError("image size \(width)×\(height) is out of range; each side must be 1...32768 pixels")
        }
        guard channels == 3 || channels == 4 else {
            throw WorkbenchError("an image has 3 (RGB) or 4 (RGBA) channels, not \(channels)")
        }
        self.width = width
        self.height = height
        self.channels = channels
        let pixel = channels == 3 ? [color.red, color.green, color.blue] : [color.red, color.green, color.blue, 255]
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        for offset in stride(from: 0, to: pixels.count, by: channels) {
            for c in 0..<channels { pixels[offset + c] = pixel[c] }
        }
        self.pixels = pixels
    }

    /// An image over existing pixel bytes (`width * height * channels` of them).
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws {
        guard width > 0, height > 0, channels == 3 || channels == 4, pixels.count == width * height * channels else {
            throw WorkbenchError("image \(width)×\(height)×\(channels): expected \(max(0, width * height * channels)) bytes, got \(pixels.count)")
        }
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// The pixel at column `x`, row `y` (from the top left) as (red, green, blue, alpha);
    /// alpha is 255 for RGB images. Coordinates outside the image give (0, 0, 0, 0).
    public func pixel(x: Int, y: Int) -> (red: UInt8, green: UInt8, blue: UInt8, alpha: UInt8) {
        guard x >= 0, y >= 0, x < width, y < height else { return (0, 0, 0, 0) }
        let offset = (y * width + x) * channels
        return (pixels[offset], pixels[offset + 1], pixels[offset + 2], channels == 4 ? pixels[offset + 3] : 255)
    }

    /// The colour at (`x`, `y`), ignoring alpha.
    public func color(x: Int, y: Int) -> RGB {
        let p = pixel(x: x, y: y)
        return RGB(p.red, p.green, p.blue)
    }
}

extension Bitmap {
    /// Images laid out in `rows` (top to bottom), each row's images left to right with their tops aligned, on
    /// white; the result is RGB.
    ///
    ///     let figure = try Bitmap.tiled([[loss, error], [probes, edits]])
    public static func tiled(_ rows: [[Bitmap]]) throws -> Bitmap {
        let width = rows.map { $0.reduce(0) { $0 + $1.width } }.max() ?? 0
        let height = rows.reduce(0) { total, row in total + (row.map(\.height).max() ?? 0) }
        var image = try Bitmap(width: width, height: height, channels: 3)
        var top = 0
        for row in rows {
            var left = 0
            for bitmap in row {
                for y in 0..<bitmap.height {
                    for x in 0..<bitmap.width {
                        let p = bitmap.pixel(x: x, y: y)
                        let offset = ((top + y) * width + left + x) * 3
                        (image.pixels[offset], image.pixels[offset + 1], image.pixels[offset + 2]) = (p.red, p.green, p.blue)
                    }
                }
                left += bitmap.width
            }
            top += row.map(\.height).max() ?? 0
        }
        return image
    }
}
