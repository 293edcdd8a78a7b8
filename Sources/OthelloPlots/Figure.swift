import Foundation

/// Anything that draws itself as a picture: every figure kind in this module.
///
///     let figure = BoardHeatmap(values: probeDirection, title: "Probe direction: E5 is mine")
///     try figure.write(to: URL(fileURLWithPath: "Figures/probe.png"))
public protocol Figure {
    /// Draws the figure. Throws `WorkbenchError` for bad input (wrong sizes, empty data, missing font).
    func render() throws -> Bitmap
}

extension Figure {
    /// Draws the figure and writes it as a PNG at `url`, atomically.
    public func write(to url: URL) throws {
        try PNG.write(try render(), to: url)
    }

    /// Draws the figure and returns the PNG bytes.
    public func pngData() throws -> Data {
        try PNG.encode(try render())
    }
}

/// What each cell of a heatmap shows as text.
public enum CellText: Sendable {
    /// No text.
    case none
    /// Each finite value, with this many decimals ("−0.42"); empty for nil, NaN and infinity.
    case values(decimals: Int)
    /// Given strings, one per cell in row-major order (`nil` or "" for none).
    case custom([String?])

    /// The text for cell `index` holding `value`.
    func text(at index: Int, value: Double?) -> String? {
        switch self {
        case .none:
            return nil
        case .values(let decimals):
            guard let value, value.isFinite else { return nil }
            return Ticks.format(value, decimals: decimals)
        case .custom(let texts):
            guard index < texts.count, let text = texts[index], !text.isEmpty else { return nil }
            return text
        }
    }
}

/// Shared sizes and styles of figure chrome.
enum Chrome {
    static let margin = 16
    static let titleStyle = TextStyle(size: 18, weight: .bold)
    static let axisLabelStyle = TextStyle(size: 14)
    static let tickStyle = TextStyle(size: 12)
    static let legendStyle = TextStyle(size: 13)
    /// Stripes over `RGB.noData`.
    static let noDataStripes = RGB(hex: 0x8C8C8C)

    /// Draws `title` centred over `span` (kept inside the canvas) with its top at `top`.
    static func drawTitle(_ title: String, on canvas: inout Canvas, centeredOver span: ClosedRange<Int>, top: Int,
                          style: TextStyle = titleStyle) throws {
        let width = try canvas.measure(title, style: style).width
        let center = (span.lowerBound + span.upperBound) / 2
        let left = min(max(center - width / 2, margin), max(margin, canvas.width - margin - width))
        try canvas.drawText(title, at: Point(Double(left), Double(top)), style: style, vertical: .top)
    }

    /// Height taken by a title line plus the gap below it (0 without a title).
    static func titleHeight(_ title: String?, style: TextStyle = titleStyle) throws -> Int {
        guard let title, !title.isEmpty else { return 0 }
        return try TextLayout.measure(title, style: style).height + 10
    }

    /// `text` in `style`, shrunk (down to 7 px) and then cut with "…" until it fits `width` pixels.
    static func fitted(_ text: String, style: TextStyle, width: Int) throws -> (String, TextStyle) {
        var style = style
        while style.size > 7, try TextLayout.measure(text, style: style).width > width { style.size -= 1 }
        var text = text
        while text.count > 1, try TextLayout.measure(text, style: style).width > width {
            text = String(text.dropLast(text.hasSuffix("…") ? 2 : 1)) + "…"
        }
        return (text, style)
    }
}
