import Foundation

/// A share as a percentage with two decimals: `percent(0.98862)` is "98.86%".
public func percent(_ x: Double) -> String { String(format: "%.2f%%", 100 * x) }
