import Foundation

/// Tick positions and labels for axes and colour bars.
enum Ticks {
    /// "Nice" ticks inside `range`: multiples of a step 1, 2, 2.5 or 5 × 10^k, the smallest such step
    /// giving at most `maxCount` ticks. With `integerStep` the step is at least 1 (layers, positions).
    static func linear(_ range: ClosedRange<Double>, maxCount: Int, integerStep: Bool = false) -> (values: [Double], step: Double) {
        let span = range.upperBound - range.lowerBound
        guard span > 0, span.isFinite else { return ([range.lowerBound], 1) }
        let count = max(2, maxCount)
        let rough = span / Double(count - 1)
        var magnitude = pow(10, floor(log10(rough)))
        var step = magnitude
        search: while true {
            for multiple in [1.0, 2.0, 2.5, 5.0] {
                step = multiple * magnitude
                if integerStep && (step < 1 || step.rounded() != step) { continue }
                if Int(floor(range.upperBound / step + 1e-9) - ceil(range.lowerBound / step - 1e-9)) + 1 <= count { break search }
            }
            magnitude *= 10
        }
        let first = ceil(range.lowerBound / step - 1e-9)
        let last = floor(range.upperBound / step + 1e-9)
        guard first <= last else { return ([], step) }
        let values = stride(from: first, through: last, by: 1).map { index -> Double in
            let value = index * step
            return abs(value) < step * 1e-9 ? 0 : value
        }
        return (values, step)
    }

    /// Powers of ten inside `range` (a range of positive values) as major ticks, and 2...9 × 10^k as minor ones.
    static func logarithmic(_ range: ClosedRange<Double>) -> (major: [Double], minor: [Double]) {
        let low = Int(floor(log10(range.lowerBound))), high = Int(ceil(log10(range.upperBound)))
        var major: [Double] = [], minor: [Double] = []
        for exponent in low...max(low, high) {
            let power = pow(10, Double(exponent))
            if range.contains(power) { major.append(power) }
            for multiple in 2...9 where range.contains(Double(multiple) * power) { minor.append(Double(multiple) * power) }
        }
        return (major, minor)
    }

    /// A tick label for `value` on an axis whose ticks are `step` apart: just enough decimals to
    /// tell ticks apart, scientific notation for very large or small numbers, a true minus sign.
    static func label(_ value: Double, step: Double) -> String {
        let magnitude = max(abs(value), step)
        if value != 0 && (magnitude >= 1e6 || magnitude < 1e-4) {
            let exponent = Int(floor(log10(abs(value))))
            let mantissa = value / pow(10, Double(exponent))
            let stepMantissa = step / pow(10, Double(exponent))
            return format(mantissa, decimals: decimals(for: stepMantissa)) + "e" + format(Double(exponent), decimals: 0)
        }
        return format(value, decimals: decimals(for: step))
    }

    /// The label of a power of ten or other log-axis value: "0.001", "1", "1000", or "1e−5".
    static func logLabel(_ value: Double) -> String {
        let exponent = Int(floor(log10(value) + 1e-9))
        if exponent < -4 || exponent > 5 { return "1e" + format(Double(exponent), decimals: 0) }
        return format(value, decimals: max(0, -exponent))
    }

    /// Decimals needed so that multiples of `step` print distinctly (2.5 needs one more than 2).
    static func decimals(for step: Double) -> Int {
        guard step > 0, step.isFinite else { return 0 }
        var decimals = max(0, -Int(floor(log10(step) + 1e-9)))
        while decimals < 12 {
            let scaled = step * pow(10, Double(decimals))
            if abs(scaled - scaled.rounded()) < 1e-6 * max(1, scaled) { break }
            decimals += 1
        }
        return decimals
    }

    /// `value` with `decimals` decimals and U+2212 MINUS SIGN for negatives (never "−0").
    static func format(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "∞" : "−∞") }
        let text = String(format: "%.\(max(0, decimals))f", value)
        if text.hasPrefix("-") {
            let digits = text.dropFirst()
            return digits.allSatisfy({ $0 == "0" || $0 == "." }) ? String(digits) : "\u{2212}" + digits
        }
        return text
    }
}
