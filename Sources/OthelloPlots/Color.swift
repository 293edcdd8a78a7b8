import Foundation

/// An opaque 8-bit sRGB colour.
///
///     let red = RGB(hex: 0xB2182B)
///     let mid = red.mixed(with: .white, fraction: 0.5)
public struct RGB: Hashable, Sendable, CustomStringConvertible {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// A colour from a 24-bit hex literal, `0xRRGGBB`.
    public init(hex: UInt32) {
        self.init(UInt8((hex >> 16) & 0xFF), UInt8((hex >> 8) & 0xFF), UInt8(hex & 0xFF))
    }

    /// The straight-line mix `self·(1−fraction) + other·fraction` in sRGB, rounded to the nearest level.
    public func mixed(with other: RGB, fraction: Double) -> RGB {
        let t = min(max(fraction, 0), 1)
        func channel(_ a: UInt8, _ b: UInt8) -> UInt8 {
            UInt8((Double(a) * (1 - t) + Double(b) * t).rounded())
        }
        return RGB(channel(red, other.red), channel(green, other.green), channel(blue, other.blue))
    }

    /// Relative luminance (WCAG, 0 = black, 1 = white); used to pick readable text on a coloured cell.
    public var luminance: Double {
        func linear(_ c: UInt8) -> Double {
            let s = Double(c) / 255
            return s <= 0.04045 ? s / 12.92 : pow((s + 0.055) / 1.055, 2.4)
        }
        return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
    }

    /// Black or white, whichever reads better on this colour.
    public var contrastingText: RGB { luminance > 0.3 ? .black : .white }

    public var description: String {
        "#" + [red, green, blue].map { String($0, radix: 16).uppercased().leftPadded(to: 2) }.joined()
    }

    public static let black = RGB(0, 0, 0)
    public static let white = RGB(255, 255, 255)
    /// Body text and axes.
    public static let ink = RGB(hex: 0x222222)
    /// The colour of a square with no value (`nil`) in a board heatmap.
    public static let emptyCell = RGB(hex: 0xFFFFFF)
    /// The felt of an Othello board, for plain positions.
    public static let boardGreen = RGB(hex: 0x2E8B57)
    /// The "no data" colour for NaN and infinite values (drawn with darker hatching).
    public static let noData = RGB(hex: 0xC8C8C8)

    /// Matplotlib's default line colours ("tab10", from Tableau 10), used in turn for plot series.
    public static let categorical: [RGB] = [
        0x1F77B4, 0xFF7F0E, 0x2CA02C, 0xD62728, 0x9467BD, 0x8C564B, 0xE377C2, 0x7F7F7F, 0xBCBD22, 0x17BECF,
    ].map { RGB(hex: $0) }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
