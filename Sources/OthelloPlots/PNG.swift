import CPNG
import Foundation
import WorkbenchSupport

/// PNG files through libpng's simplified API: 8-bit RGB or RGBA out, anything libpng reads in.
///
///     try PNG.write(canvas.bitmap, to: URL(fileURLWithPath: "Figures/board.png"))
///     let back = try PNG.read(from: URL(fileURLWithPath: "Figures/board.png"))
public enum PNG {
    /// Encodes `bitmap` as PNG bytes.
    public static func encode(_ bitmap: Bitmap) throws -> Data {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(bitmap.width)
        image.height = UInt32(bitmap.height)
        image.format = bitmap.channels == 4 ? UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA) : UInt32(PNG_FORMAT_RGB)
        let stride = Int32(bitmap.width * bitmap.channels)
        // First call measures, second writes.
        var size = 0
        let measured = bitmap.pixels.withUnsafeBytes { pixels in
            png_image_write_to_memory(&image, nil, &size, 0, pixels.baseAddress, stride, nil)
        }
        guard measured != 0, size > 0 else {
            defer { png_image_free(&image) }
            throw WorkbenchError("PNG encoding failed: \(message(of: &image))")
        }
        var data = Data(count: size)
        let written = data.withUnsafeMutableBytes { output in
            bitmap.pixels.withUnsafeBytes { pixels in
                png_image_write_to_memory(&image, output.baseAddress, &size, 0, pixels.baseAddress, stride, nil)
            }
        }
        guard written != 0 else {
            defer { png_image_free(&image) }
            throw WorkbenchError("PNG encoding failed: \(message(of: &image))")
        }
        return data.prefix(size)
    }

    /// Writes `bitmap` to `url` as a PNG, atomically (a temporary file renamed into place).
    public static func write(_ bitmap: Bitmap, to url: URL) throws {
        try AtomicFile.write(try encode(bitmap), to: url)
    }

    /// The most pixels a decoded image may have: 64 Mpx (256 MiB of RGBA), far more than any figure.
    public static let maxPixels = 1 << 26

    /// Decodes PNG bytes into an 8-bit RGBA bitmap (grey, palette and 16-bit files are converted).
    /// `name` appears in error messages. An image larger than `maxPixels`, or than `data` can hold (deflate expands
    /// at most 1032 times, and a pixel takes at least one bit), is refused before its pixels are allocated.
    public static func decode(_ data: Data, name: String = "PNG data") throws -> Bitmap {
        // libpng keeps a pointer to the bytes between begin and finish, so both happen in one closure.
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        var pixels: [UInt8] = []
        let problem: String? = data.withUnsafeBytes { bytes in
            guard png_image_begin_read_from_memory(&image, bytes.baseAddress, bytes.count) != 0 else {
                return "not a readable PNG (\(message(of: &image)))"
            }
            let count = Int(image.width) * Int(image.height)
            guard count <= maxPixels, count <= 8 * 1032 * bytes.count else {
                return "the PNG header announces \(image.width)×\(image.height) pixels, more than \(count > maxPixels ? "the \(maxPixels) this workbench reads" : "its \(bytes.count) bytes can hold") (damaged file?)"
            }
            image.format = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)
            pixels = [UInt8](repeating: 0, count: Int(image.width) * Int(image.height) * 4)
            let finished = pixels.withUnsafeMutableBytes { buffer in
                png_image_finish_read(&image, nil, buffer.baseAddress, Int32(image.width * 4), nil)
            }
            return finished != 0 ? nil : "PNG data is damaged (\(message(of: &image)))"
        }
        png_image_free(&image)
        if let problem { throw WorkbenchError("\(name): \(problem)") }
        return try Bitmap(width: Int(image.width), height: Int(image.height), channels: 4, pixels: pixels)
    }

    /// Reads a PNG file into an 8-bit RGBA bitmap.
    public static func read(from url: URL) throws -> Bitmap {
        try decode(readFile(url), name: url.path)
    }

    /// libpng's error text, kept in the image's fixed-size `message` buffer.
    private static func message(of image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { bytes in
            let text = bytes.prefix { $0 != 0 }
            return String(decoding: text, as: UTF8.self)
        }
    }
}
