import Foundation

/// A fast, seeded random number generator (xoshiro256**), deterministic across platforms.
///
/// Use `SeededRandom(seed:stream:)` to give each game, batch or thread its own independent
/// stream derived from one user seed, so results do not depend on the number of threads.
///
///     var rng = SeededRandom(seed: 42, stream: UInt64(gameIndex))
///     let pick = rng.next(below: 7)
public struct SeededRandom: RandomNumberGenerator {
    private var s0, s1, s2, s3: UInt64

    /// A generator for `seed`; different `stream` values give independent sequences.
    public init(seed: UInt64, stream: UInt64 = 0) {
        var x = seed &+ 0x9E37_79B9_7F4A_7C15 &* (stream &+ 1)
        x = Self.splitMix(&x) ^ stream &* 0xD1B5_4A32_D192_ED03
        s0 = Self.splitMix(&x); s1 = Self.splitMix(&x); s2 = Self.splitMix(&x); s3 = Self.splitMix(&x)
    }

    private static func splitMix(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The next 64 random bits.
    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A uniform integer in `0..<bound` (bound > 0), by Lemire's multiply-shift.
    @inline(__always)
    public mutating func next(below bound: Int) -> Int {
        Int(truncatingIfNeeded: UInt64(bound).multipliedFullWidth(by: next()).high)
    }

    /// A uniform float in [0, 1).
    @inline(__always)
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A standard normal sample (Box–Muller).
    public mutating func nextGaussian() -> Float {
        let u1 = max(Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0), 1e-300)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
}

