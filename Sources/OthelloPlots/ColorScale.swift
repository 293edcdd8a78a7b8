import WorkbenchSupport

/// How values become colours: a colour map, the value limits it spans, and a label for the colour bar.
///
/// With `limits == nil` the limits come from the data when a figure is drawn: symmetric about zero
/// (`-max|v| ... +max|v|`) for a diverging map, `min ... max` for a sequential one. Values outside
/// the limits take the end colours. NaN and infinite values are drawn in the "no data" style.
///
///     let scale = ColorScale.diverging(label: "probe weight")          // symmetric, from the data
///     let probability = ColorScale.probability                          // Blues over 0...1
///     let fixed = ColorScale(colorMap: .redBlue, limits: -2...2)
public struct ColorScale: Sendable {
    public var colorMap: ColorMap
    /// Fixed value limits, or `nil` to take them from the data.
    public var limits: ClosedRange<Double>?
    /// Written beside the colour bar.
    public var label: String?

    public init(colorMap: ColorMap, limits: ClosedRange<Double>? = nil, label: String? = nil) {
        self.colorMap = colorMap
        self.limits = limits
        self.label = label
    }

    /// Blue–white–red centred at zero, limits `-limit...limit` (from the data when `limit` is nil).
    public static func diverging(limit: Double? = nil, label: String? = nil) -> ColorScale {
        ColorScale(colorMap: .redBlue, limits: limit.map { -abs($0)...abs($0) }, label: label)
    }

    /// White-to-blue, limits from the data unless given.
    public static func sequential(limits: ClosedRange<Double>? = nil, label: String? = nil) -> ColorScale {
        ColorScale(colorMap: .blues, limits: limits, label: label)
    }

    /// White-to-blue over 0...1, for probabilities.
    public static let probability = ColorScale(colorMap: .blues, limits: 0...1, label: "probability")

    /// The limits used for `values`: the fixed ones if set, else from the finite values
    /// (symmetric about 0 for a diverging map). Never empty: a constant or empty set of values
    /// gets a unit-wide range.
    public func resolvedLimits(for values: [Double]) throws -> ClosedRange<Double> {
        if let limits {
            guard limits.lowerBound.isFinite, limits.upperBound.isFinite, limits.lowerBound < limits.upperBound else {
                throw WorkbenchError("colour scale: limits \(limits) must be finite with lower < upper; give two different numbers")
            }
            return limits
        }
        var low = Double.infinity
        var high = -Double.infinity
        for value in values where value.isFinite {
            low = min(low, value)
            high = max(high, value)
        }
        if colorMap.isDiverging {
            let extent = low.isFinite ? max(abs(low), abs(high)) : 0
            return extent > 0 ? -extent...extent : -1...1
        }
        if !low.isFinite { return 0...1 }
        if low == high { return (low - 0.5)...(high + 0.5) }
        return low...high
    }

    /// This scale with its limits fixed for `values`, ready to colour them.
    func resolved(for values: [Double]) throws -> ResolvedColorScale {
        ResolvedColorScale(colorMap: colorMap, limits: try resolvedLimits(for: values), label: label)
    }
}

/// A colour scale with definite limits.
struct ResolvedColorScale {
    let colorMap: ColorMap
    let limits: ClosedRange<Double>
    let label: String?

    /// The value's position in 0...1 along the map (clamped).
    func position(of value: Double) -> Double {
        let t = (value - limits.lowerBound) / (limits.upperBound - limits.lowerBound)
        return min(max(t, 0), 1)
    }

    /// The colour of a finite value; `nil` for NaN or infinity ("no data").
    func color(for value: Double) -> RGB? {
        value.isFinite ? colorMap.color(at: position(of: value)) : nil
    }
}
