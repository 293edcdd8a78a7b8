import CFreeType
import Foundation
import WorkbenchSupport

/// The two faces figures use: DejaVu Sans and DejaVu Sans Bold (Debian package `fonts-dejavu-core`).
public enum FontWeight: Sendable, Hashable {
    case regular
    case bold

    var fileName: String { self == .regular ? "DejaVuSans.ttf" : "DejaVuSans-Bold.ttf" }
}

/// How a piece of text looks: pixel size (the em height), weight and colour.
///
///     let title = TextStyle(size: 18, weight: .bold)
public struct TextStyle: Sendable, Hashable {
    public var size: Int
    public var weight: FontWeight
    public var color: RGB

    public init(size: Int, weight: FontWeight = .regular, color: RGB = .ink) {
        self.size = size
        self.weight = weight
        self.color = color
    }
}

/// Where the text's anchor point sits on its box.
public enum HorizontalAlignment: Sendable { case left, center, right }

/// `top`/`bottom` are the font's ascender and descender lines; `middle` centres capital letters
/// and digits on the anchor (what a label in a cell wants); `baseline` is the baseline.
public enum VerticalAlignment: Sendable { case top, middle, baseline, bottom }

/// Text runs left to right, or bottom to top (`.counterclockwise`, for y-axis labels).
public enum TextRotation: Sendable { case none, counterclockwise }

/// The measured extent of a line of text, in pixels.
public struct TextMetrics: Sendable {
    /// Advance width of the whole string.
    public let width: Int
    /// Font ascender above the baseline.
    public let ascent: Int
    /// Font descender below the baseline (positive).
    public let descent: Int
    /// Height of capital letters above the baseline.
    public let capHeight: Int
    /// `ascent + descent`.
    public var height: Int { ascent + descent }
}

/// A rendered glyph: coverage bytes (0 = none, 255 = full), placed relative to the pen.
struct Glyph {
    let coverage: [UInt8]
    let width: Int
    let rows: Int
    /// From the pen to the bitmap's left edge.
    let left: Int
    /// From the baseline up to the bitmap's top edge.
    let top: Int
    /// Pen advance in pixels (hinted, so a whole number).
    let advance: Int
    let index: UInt32
}

/// FreeType, the faces and a glyph cache, shared by every canvas. FreeType faces are not
/// thread-safe, so every use goes through the lock.
final class FontLibrary: @unchecked Sendable {
    static let shared = FontLibrary(directories: defaultDirectories)

    /// Folders searched for the DejaVu files, in order: `OTHELLO_GPT_FONT_DIR` when set, then
    /// Debian's, Fedora's, Arch's and Homebrew's places.
    static var defaultDirectories: [String] {
        var folders = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF",
                       "/opt/homebrew/share/fonts/dejavu"]
        if let custom = ProcessInfo.processInfo.environment["OTHELLO_GPT_FONT_DIR"], !custom.isEmpty {
            folders.insert(custom, at: 0)
        }
        return folders
    }

    private let directories: [String]

    init(directories: [String]) {
        self.directories = directories
    }

    deinit {
        for face in faces.values { FT_Done_Face(face) }
        if let library { FT_Done_FreeType(library) }
    }

    private struct GlyphKey: Hashable {
        let weight: FontWeight
        let size: Int
        let scalar: UInt32
    }

    private struct SizeKey: Hashable {
        let weight: FontWeight
        let size: Int
    }

    private let lock = NSLock()
    private var library: FT_Library?
    private var faces: [FontWeight: FT_Face] = [:]
    private var glyphs: [GlyphKey: Glyph] = [:]
    private var lineMetrics: [SizeKey: (ascent: Int, descent: Int, capHeight: Int)] = [:]
    private var kerning: [SizeKey: Bool] = [:]

    /// Runs `body` with the lock held.
    func withLock<T>(_ body: (FontLibrary) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(self)
    }

    /// The face for `weight` at `size` pixels, loaded on first use. Lock must be held.
    private func face(_ weight: FontWeight, size: Int) throws -> FT_Face {
        let face: FT_Face
        if let loaded = faces[weight] {
            face = loaded
        } else {
            if library == nil {
                var created: FT_Library?
                guard FT_Init_FreeType(&created) == 0, let created else {
                    throw WorkbenchError("FreeType could not start; reinstall libfreetype6")
                }
                library = created
            }
            let candidates = directories.map { $0 + "/" + weight.fileName }
            guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                throw WorkbenchError("font \(candidates.first ?? weight.fileName) not found; install it with `sudo apt-get install fonts-dejavu-core` (or `make deps`), or set OTHELLO_GPT_FONT_DIR to a folder holding \(weight.fileName)")
            }
            var opened: FT_Face?
            guard FT_New_Face(library, path, 0, &opened) == 0, let opened else {
                throw WorkbenchError("font \(path) could not be read by FreeType; reinstall it with `sudo apt-get install --reinstall fonts-dejavu-core`")
            }
            faces[weight] = opened
            face = opened
        }
        guard FT_Set_Pixel_Sizes(face, 0, FT_UInt(max(1, size))) == 0 else {
            throw WorkbenchError("font \(weight.fileName): cannot set size \(size) px")
        }
        return face
    }

    /// The rendered glyph for `scalar`. Lock must be held.
    func glyph(_ scalar: Unicode.Scalar, weight: FontWeight, size: Int) throws -> Glyph {
        let key = GlyphKey(weight: weight, size: size, scalar: scalar.value)
        if let cached = glyphs[key] { return cached }
        let face = try face(weight, size: size)
        let index = FT_Get_Char_Index(face, FT_ULong(scalar.value))
        guard FT_Load_Glyph(face, index, Int32(FT_LOAD_RENDER)) == 0, let slot = face.pointee.glyph else {
            throw WorkbenchError("font \(weight.fileName): cannot render the character U+\(String(scalar.value, radix: 16, uppercase: true))")
        }
        let bitmap = slot.pointee.bitmap
        let width = Int(bitmap.width)
        let rows = Int(bitmap.rows)
        var coverage = [UInt8](repeating: 0, count: width * rows)
        if let buffer = bitmap.buffer, width > 0, rows > 0 {
            let pitch = Int(bitmap.pitch)
            for row in 0..<rows {
                for column in 0..<width {
                    coverage[row * width + column] = buffer[row * pitch + column]
                }
            }
        }
        let glyph = Glyph(
            coverage: coverage, width: width, rows: rows,
            left: Int(slot.pointee.bitmap_left), top: Int(slot.pointee.bitmap_top),
            advance: Int((slot.pointee.advance.x + 32) >> 6), index: index
        )
        glyphs[key] = glyph
        return glyph
    }

    /// Kerning between two glyphs in pixels (0 when the face has no kerning table). Lock must be held.
    func kerning(_ left: UInt32, _ right: UInt32, weight: FontWeight, size: Int) throws -> Int {
        let sizeKey = SizeKey(weight: weight, size: size)
        let face = try face(weight, size: size)
        if kerning[sizeKey] == nil {
            kerning[sizeKey] = (face.pointee.face_flags & FT_Long(FT_FACE_FLAG_KERNING)) != 0
        }
        guard kerning[sizeKey] == true, left != 0, right != 0 else { return 0 }
        var delta = FT_Vector()
        guard FT_Get_Kerning(face, left, right, UInt32(FT_KERNING_DEFAULT.rawValue), &delta) == 0 else { return 0 }
        return Int((delta.x + 32) >> 6)
    }

    /// Ascender, descender and capital height at `size`. Lock must be held.
    func metrics(weight: FontWeight, size: Int) throws -> (ascent: Int, descent: Int, capHeight: Int) {
        let key = SizeKey(weight: weight, size: size)
        if let cached = lineMetrics[key] { return cached }
        let face = try face(weight, size: size)
        let ascent = Int((face.pointee.size.pointee.metrics.ascender + 63) >> 6)
        let descent = Int((-face.pointee.size.pointee.metrics.descender + 63) >> 6)
        let capHeight = try glyph("H", weight: weight, size: size).top
        let result = (ascent, descent, capHeight)
        lineMetrics[key] = result
        return result
    }
}

/// Lays out one line of text: the glyphs and their pen positions.
enum TextLayout {
    /// Measures `text` in `style`.
    static func measure(_ text: String, style: TextStyle, fonts library: FontLibrary = .shared) throws -> TextMetrics {
        try library.withLock { fonts in
            var width = 0
            try forEachGlyph(text, style: style, fonts: fonts) { glyph, penX in width = penX + glyph.advance }
            let m = try fonts.metrics(weight: style.weight, size: style.size)
            return TextMetrics(width: width, ascent: m.ascent, descent: m.descent, capHeight: m.capHeight)
        }
    }

    /// Calls `body(glyph, penX)` for each character, with kerning applied. Lock must be held.
    static func forEachGlyph(_ text: String, style: TextStyle, fonts: FontLibrary, _ body: (Glyph, Int) throws -> Void) throws {
        var penX = 0
        var previous: UInt32 = 0
        for scalar in text.unicodeScalars {
            let glyph = try fonts.glyph(scalar, weight: style.weight, size: style.size)
            penX += try fonts.kerning(previous, glyph.index, weight: style.weight, size: style.size)
            try body(glyph, penX)
            penX += glyph.advance
            previous = glyph.index
        }
    }
}
