import Foundation
import WorkbenchSupport

/// An RGB raster to draw figures on: rectangles, hatching, anti-aliased lines, discs and rings, and text.
///
/// Shapes blend into what is already there, coverage times `opacity`. Everything outside the
/// canvas is clipped. Coordinates are pixels from the top-left corner (see `Point`).
///
///     var canvas = try Canvas(width: 200, height: 100)
///     canvas.fill(PixelRect(x: 10, y: 10, width: 40, height: 40), with: RGB(hex: 0xB2182B))
///     canvas.fillDisc(center: Point(100, 50), radius: 20, color: .black)
///     try canvas.drawText("E5", at: Point(150, 50), style: TextStyle(size: 14), align: .center, vertical: .middle)
///     try PNG.write(canvas.bitmap, to: URL(fileURLWithPath: "out.png"))
public struct Canvas {
    public internal(set) var bitmap: Bitmap
    public var width: Int { bitmap.width }
    public var height: Int { bitmap.height }
    var bounds: PixelRect { PixelRect(x: 0, y: 0, width: width, height: height) }
    /// The fonts used by `drawText`; tests swap in a library with no fonts.
    let fonts: FontLibrary

    public init(width: Int, height: Int, background: RGB = .white) throws {
        try self.init(width: width, height: height, background: background, fonts: .shared)
    }

    init(width: Int, height: Int, background: RGB, fonts: FontLibrary) throws {
        bitmap = try Bitmap(width: width, height: height, channels: 3, fill: background)
        self.fonts = fonts
    }

    // MARK: Blending

    /// Blends `color` into pixel (x, y) with weight `alpha` in 0...1 (no bounds check).
    @inline(__always)
    static func blend(_ pixels: UnsafeMutableBufferPointer<UInt8>, _ offset: Int, _ color: RGB, _ alpha: Double) {
        if alpha >= 1 {
            pixels[offset] = color.red
            pixels[offset + 1] = color.green
            pixels[offset + 2] = color.blue
            return
        }
        @inline(__always) func mix(_ old: UInt8, _ new: UInt8) -> UInt8 {
            UInt8(Double(old) + (Double(new) - Double(old)) * alpha + 0.5)
        }
        pixels[offset] = mix(pixels[offset], color.red)
        pixels[offset + 1] = mix(pixels[offset + 1], color.green)
        pixels[offset + 2] = mix(pixels[offset + 2], color.blue)
    }

    /// Calls `coverage(x, y)` for every pixel of `rect` (clipped) and blends `color` by its result.
    private mutating func shade(_ rect: PixelRect, _ color: RGB, opacity: Double, _ coverage: (Int, Int) -> Double) {
        let area = rect.clipped(to: bounds)
        guard area.width > 0, area.height > 0, opacity > 0 else { return }
        let width = self.width
        bitmap.pixels.withUnsafeMutableBufferPointer { pixels in
            for y in area.y..<area.maxY {
                for x in area.x..<area.maxX {
                    let alpha = coverage(x, y) * opacity
                    if alpha > 0 { Canvas.blend(pixels, (y * width + x) * 3, color, alpha) }
                }
            }
        }
    }

    // MARK: Rectangles

    /// Fills `rect` with `color`.
    public mutating func fill(_ rect: PixelRect, with color: RGB, opacity: Double = 1) {
        shade(rect, color, opacity: opacity) { _, _ in 1 }
    }

    /// Fills `rect` with `background` crossed by diagonal `stripes` every `spacing` pixels
    /// (the "no data" pattern).
    public mutating func fillHatched(_ rect: PixelRect, background: RGB, stripes: RGB, spacing: Int = 6) {
        let period = max(2, spacing)
        shade(rect, background, opacity: 1) { _, _ in 1 }
        shade(rect, stripes, opacity: 1) { x, y in
            let phase = ((x - y) % period + period) % period
            return phase == 0 ? 1 : (phase == 1 || phase == period - 1 ? 0.25 : 0)
        }
    }

    /// Draws the outline of `rect`, `thickness` pixels wide, inside the rectangle. With `dash`,
    /// the outline alternates `dash` pixels of `color` with `dash` pixels of `gapColor` (or nothing).
    public mutating func stroke(_ rect: PixelRect, with color: RGB, thickness: Int = 1, dash: Int? = nil, gapColor: RGB? = nil) {
        let t = max(1, min(thickness, rect.width / 2, rect.height / 2))
        guard t > 0 else { return }
        let inner = rect.insetBy(t)
        let inBand: (Int, Int) -> Bool = { x, y in !(x >= inner.x && x < inner.maxX && y >= inner.y && y < inner.maxY) }
        guard let dash, dash > 0 else {
            shade(rect, color, opacity: 1) { x, y in inBand(x, y) ? 1 : 0 }
            return
        }
        // Position along the perimeter, clockwise from the top-left corner, decides on or off.
        let perimeterPosition: (Int, Int) -> Int = { x, y in
            let u = x - rect.x, v = y - rect.y
            if v < t { return u }                                   // top edge
            if u >= rect.width - t { return rect.width + v }        // right edge
            if v >= rect.height - t { return 2 * rect.width + rect.height - u }  // bottom edge
            return 2 * rect.width + 2 * rect.height - v             // left edge
        }
        shade(rect, color, opacity: 1) { x, y in
            inBand(x, y) && (perimeterPosition(x, y) / dash) % 2 == 0 ? 1 : 0
        }
        if let gapColor {
            shade(rect, gapColor, opacity: 1) { x, y in
                inBand(x, y) && (perimeterPosition(x, y) / dash) % 2 == 1 ? 1 : 0
            }
        }
    }

    // MARK: Round shapes

    /// Fills a disc with an anti-aliased edge.
    public mutating func fillDisc(center: Point, radius: Double, color: RGB, opacity: Double = 1) {
        let box = PixelRect(x: Int((center.x - radius - 1).rounded(.down)), y: Int((center.y - radius - 1).rounded(.down)),
                            width: Int(2 * radius + 3), height: Int(2 * radius + 3))
        shade(box, color, opacity: opacity) { x, y in
            let d = hypot(Double(x) + 0.5 - center.x, Double(y) + 0.5 - center.y)
            return min(max(radius + 0.5 - d, 0), 1)
        }
    }

    /// Draws a circle of `radius` (to the middle of the ring), `thickness` pixels wide, anti-aliased.
    public mutating func strokeCircle(center: Point, radius: Double, color: RGB, thickness: Double = 1, opacity: Double = 1) {
        let outer = radius + thickness / 2
        let inner = radius - thickness / 2
        let box = PixelRect(x: Int((center.x - outer - 1).rounded(.down)), y: Int((center.y - outer - 1).rounded(.down)),
                            width: Int(2 * outer + 3), height: Int(2 * outer + 3))
        shade(box, color, opacity: opacity) { x, y in
            let d = hypot(Double(x) + 0.5 - center.x, Double(y) + 0.5 - center.y)
            return min(max(min(outer + 0.5 - d, d - inner + 0.5), 0), 1)
        }
    }

    // MARK: Lines

    /// Draws a straight anti-aliased line with round ends.
    public mutating func drawLine(from start: Point, to end: Point, color: RGB, width: Double = 1, dash: [Double]? = nil) {
        drawPolyline([start, end], color: color, width: width, dash: dash)
    }

    /// Draws connected anti-aliased segments with round joins. `dash` alternates on and off
    /// lengths in pixels (e.g. `[6, 4]`). Non-finite points break the line. Nothing is drawn
    /// outside `clip` (a plot's data area, say).
    ///
    /// Coverage is collected per pixel as the maximum over segments and blended once, so joins
    /// and overlaps do not darken.
    public mutating func drawPolyline(_ points: [Point], color: RGB, width: Double = 1, dash: [Double]? = nil,
                                      opacity: Double = 1, clip: PixelRect? = nil) {
        let pieces = Canvas.dashed(Canvas.finiteRuns(points), pattern: dash ?? [])
        let half = max(width, 0.1) / 2
        var left = Double.infinity, top = Double.infinity, right = -Double.infinity, bottom = -Double.infinity
        for point in pieces.joined() {
            left = min(left, point.x); right = max(right, point.x)
            top = min(top, point.y); bottom = max(bottom, point.y)
        }
        guard left.isFinite else { return }
        let box = PixelRect(x: Int((left - half - 1).rounded(.down)), y: Int((top - half - 1).rounded(.down)),
                            width: Int((right - left + 2 * half + 3).rounded(.up)), height: Int((bottom - top + 2 * half + 3).rounded(.up)))
            .clipped(to: clip.map { $0.clipped(to: bounds) } ?? bounds)
        guard box.width > 0, box.height > 0 else { return }
        var mask = [Double](repeating: 0, count: box.width * box.height)
        mask.withUnsafeMutableBufferPointer { mask in
            for piece in pieces {
                if piece.count == 1 { Canvas.accumulateSegment(piece[0], piece[0], half: half, box: box, mask: mask) }
                for i in piece.indices.dropFirst() {
                    Canvas.accumulateSegment(piece[i - 1], piece[i], half: half, box: box, mask: mask)
                }
            }
        }
        shade(box, color, opacity: opacity) { x, y in mask[(y - box.y) * box.width + (x - box.x)] }
    }

    /// Raises `mask` (over `box`) to the coverage of the segment a–b of half-width `half`.
    private static func accumulateSegment(_ a: Point, _ b: Point, half: Double, box: PixelRect, mask: UnsafeMutableBufferPointer<Double>) {
        let segment = PixelRect(x: Int((min(a.x, b.x) - half - 1).rounded(.down)), y: Int((min(a.y, b.y) - half - 1).rounded(.down)),
                                width: Int((abs(a.x - b.x) + 2 * half + 3).rounded(.up)), height: Int((abs(a.y - b.y) + 2 * half + 3).rounded(.up)))
            .clipped(to: box)
        guard segment.width > 0, segment.height > 0 else { return }
        let dx = b.x - a.x, dy = b.y - a.y
        let lengthSquared = dx * dx + dy * dy
        for y in segment.y..<segment.maxY {
            let py = Double(y) + 0.5
            for x in segment.x..<segment.maxX {
                let px = Double(x) + 0.5
                let t = lengthSquared > 0 ? min(max(((px - a.x) * dx + (py - a.y) * dy) / lengthSquared, 0), 1) : 0
                let distance = hypot(px - (a.x + t * dx), py - (a.y + t * dy))
                let coverage = min(max(half + 0.5 - distance, 0), 1)
                let index = (y - box.y) * box.width + (x - box.x)
                if coverage > mask[index] { mask[index] = coverage }
            }
        }
    }

    /// Splits a polyline at non-finite points into runs of finite ones.
    private static func finiteRuns(_ points: [Point]) -> [[Point]] {
        var runs: [[Point]] = [[]]
        for point in points {
            if point.x.isFinite && point.y.isFinite {
                runs[runs.count - 1].append(point)
            } else if !(runs.last?.isEmpty ?? true) {
                runs.append([])
            }
        }
        return runs.filter { !$0.isEmpty }
    }

    /// Cuts polylines into the "on" pieces of a dash pattern (unchanged when the pattern is empty).
    private static func dashed(_ runs: [[Point]], pattern: [Double]) -> [[Point]] {
        let pattern = pattern.filter { $0 > 0 && $0.isFinite }
        guard pattern.count >= 2 else { return runs }
        var pieces: [[Point]] = []
        for run in runs {
            var index = 0
            var left = pattern[0]       // length remaining in the current dash or gap
            var current: [Point] = [run[0]]
            for (a, b) in zip(run, run.dropFirst()) {
                let length = hypot(b.x - a.x, b.y - a.y)
                var done = 0.0
                while length - done > left {
                    done += left
                    let t = done / length
                    let cut = Point(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t)
                    if index % 2 == 0 {
                        current.append(cut)
                        pieces.append(current)
                    }
                    current = [cut]
                    index = (index + 1) % pattern.count
                    left = pattern[index]
                }
                left -= length - done
                current.append(b)
            }
            if index % 2 == 0 { pieces.append(current) }
        }
        return pieces
    }
}
