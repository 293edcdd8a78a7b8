import WorkbenchSupport

/// A colour map: a smooth path through colours, indexed by a position in 0...1.
///
/// Colours are interpolated linearly in sRGB between equally spaced control points, exactly as
/// matplotlib's `LinearSegmentedColormap.from_list` does, so `ColorMap.redBlue` reproduces
/// matplotlib's `RdBu_r` and `ColorMap.blues` its `Blues` (up to matplotlib's 256-level quantisation).
///
///     ColorMap.redBlue.color(at: 0.5)   // #F7F7F7, the near-white centre
///     ColorMap.blues.color(at: 1)       // #08306B
public struct ColorMap: Sendable {
    /// The control points, from position 0 to position 1.
    public let controlPoints: [RGB]
    /// A diverging map is centred at zero: scales built on it default to limits symmetric about 0.
    public let isDiverging: Bool
    /// A short name for messages and documentation.
    public let name: String

    /// A map through `controlPoints` (at least two), equally spaced over 0...1.
    public init(name: String, controlPoints: [RGB], isDiverging: Bool) throws {
        guard controlPoints.count >= 2 else {
            throw WorkbenchError("colour map \(name): needs at least two control points, got \(controlPoints.count)")
        }
        self.init(checkedName: name, controlPoints: controlPoints, isDiverging: isDiverging)
    }

    private init(checkedName name: String, controlPoints: [RGB], isDiverging: Bool) {
        self.name = name
        self.controlPoints = controlPoints
        self.isDiverging = isDiverging
    }

    /// The colour at `position` (clamped to 0...1).
    public func color(at position: Double) -> RGB {
        let t = position.isNaN ? 0.5 : min(max(position, 0), 1)
        let scaled = t * Double(controlPoints.count - 1)
        let index = min(Int(scaled), controlPoints.count - 2)
        return controlPoints[index].mixed(with: controlPoints[index + 1], fraction: scaled - Double(index))
    }

    /// Diverging blue–white–red: ColorBrewer's 11-class RdBu, reversed (matplotlib `RdBu_r`).
    /// Negative values are blue (#053061 at the lower limit), zero is near-white #F7F7F7,
    /// positive values red (#67001F at the upper limit). Use it for signed quantities:
    /// probe directions, logit changes, saliency, patching effects.
    public static let redBlue = ColorMap(
        checkedName: "RdBu_r",
        controlPoints: [
            0x053061, 0x2166AC, 0x4393C3, 0x92C5DE, 0xD1E5F0, 0xF7F7F7,
            0xFDDBC7, 0xF4A582, 0xD6604D, 0xB2182B, 0x67001F,
        ].map { RGB(hex: $0) },
        isDiverging: true
    )

    /// Sequential white-to-blue: ColorBrewer's 9-class Blues (matplotlib `Blues`), from #F7FBFF
    /// at the lower limit to #08306B at the upper. Use it for probabilities and other non-negative values.
    public static let blues = ColorMap(
        checkedName: "Blues",
        controlPoints: [
            0xF7FBFF, 0xDEEBF7, 0xC6DBEF, 0x9ECAE1, 0x6BAED6, 0x4292C6, 0x2171B5, 0x08519C, 0x08306B,
        ].map { RGB(hex: $0) },
        isDiverging: false
    )
}
