import Foundation
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport

/// The binary board features a unit's activation is read against: for each of the 64 squares, whether it is mine,
/// theirs or empty ("mine" = the player who moves next, Nanda's convention, passes inferred), a legal move, just
/// flipped, or just played — 6 × 64 = 384 indicators per position, feature `condition.rawValue * 64 + square`.
///
///     BoardConditions.name(0 * 64 + 37)     // "E5 mine"
public enum BoardConditions {
    /// A square's state at a position.
    public enum Condition: Int, CaseIterable, Codable, Sendable {
        case mine, theirs, empty, legal, flipped, played

        public var name: String { String(describing: self) }
    }

    /// Indicators per position.
    public static let count = Condition.allCases.count * 64

    /// Feature `index`'s name, e.g. "E5 mine" (squares in the workbench's notation).
    public static func name(_ index: Int) -> String {
        "\(SquareNotation.othelloGPT.label(index % 64)) \(Condition(rawValue: index / 64)!.name)"
    }

    /// Writes the 384 indicators of `position` (1 where the square is in the state, else 0) into `row`.
    public static func indicators(of position: ProbePosition, into row: UnsafeMutablePointer<Float>) {
        var relative = [UInt8](repeating: 0, count: 64)
        relative.withUnsafeMutableBufferPointer { ProbeBasis.relative.labels(of: position, into: $0.baseAddress!) }
        for square in 0..<64 {
            let bit = UInt64(1) << UInt64(square)
            row[Condition.mine.rawValue * 64 + square] = relative[square] == 2 ? 1 : 0
            row[Condition.theirs.rawValue * 64 + square] = relative[square] == 1 ? 1 : 0
            row[Condition.empty.rawValue * 64 + square] = relative[square] == 0 ? 1 : 0
            row[Condition.legal.rawValue * 64 + square] = position.legalMoves & bit != 0 ? 1 : 0
            row[Condition.flipped.rawValue * 64 + square] = position.flipped & bit != 0 ? 1 : 0
            row[Condition.played.rawValue * 64 + square] = square == position.move ? 1 : 0
        }
    }
}

/// One position of a game set: game `game`, token position `position` (the model has read moves 0…position).
public struct GamePosition: Codable, Hashable, Sendable {
    public var game: Int
    public var position: Int
    public init(game: Int, position: Int) { self.game = game; self.position = position }
}

/// Summary statistics of many units' activations (MLP neurons, SAE features) over positions, accumulated a batch at
/// a time: the mean, the share of positions where the unit is positive, the largest value, the mean given each
/// board condition (`BoardConditions`), and the top-activating positions.
///
///     var stats = UnitStatistics(units: 1024, topCount: 20)
///     stats.add(activations: a, rows: m, positions: rows, conditions: indicators)   // per batch
///     stats.finish()
///     stats.conditionedMean(unit: 421, condition: .mine)    // 64 values
public struct UnitStatistics: Codable, Sendable {
    /// One top-activating position.
    public struct Example: Codable, Equatable, Sendable {
        public var game: Int
        public var position: Int
        public var activation: Float
    }

    public let units: Int
    public let topCount: Int
    /// Positions added.
    public private(set) var positions = 0
    public private(set) var mean: [Float]
    public private(set) var frequency: [Float]
    public private(set) var maximum: [Float]
    /// `[condition][square][unit]` flattened: the mean activation over the positions where the square is in that state
    /// (0 where no position is); empty when no conditions were given.
    public private(set) var conditioned: [Float] = []
    /// `[condition][square]`: how many positions had the square in that state.
    public private(set) var conditionCounts: [Int] = []
    /// Per unit, the top positions, largest first.
    public private(set) var top: [[Example]]

    private var sums: [Double]
    private var positive: [Int]

    public init(units: Int, topCount: Int = 20) {
        self.units = units
        self.topCount = topCount
        mean = [Float](repeating: 0, count: units)
        frequency = mean
        maximum = [Float](repeating: -.infinity, count: units)
        top = [[Example]](repeating: [], count: units)
        sums = [Double](repeating: 0, count: units)
        positive = [Int](repeating: 0, count: units)
    }

    /// Adds `rows` positions: `activations` `[rows, units]`, their `positions`, and optionally their 384 board
    /// `conditions` each (`[rows, 384]`, from `BoardConditions.indicators`) for the conditioned means.
    public mutating func add(activations: UnsafePointer<Float>, rows m: Int, positions: [GamePosition], conditions: UnsafePointer<Float>? = nil) {
        precondition(positions.count == m)
        let N = units
        for r in 0..<m {
            let row = activations + r * N
            for n in 0..<N {
                let a = row[n]
                sums[n] += Double(a)
                if a > 0 { positive[n] += 1 }
                if a > maximum[n] { maximum[n] = a }
                if top[n].count < topCount || a > top[n][top[n].count - 1].activation {
                    // In place: insert in order, drop the smallest beyond topCount.
                    let at = top[n].firstIndex { $0.activation < a } ?? top[n].count
                    top[n].insert(Example(game: positions[r].game, position: positions[r].position, activation: a), at: at)
                    if top[n].count > topCount { top[n].removeLast() }
                }
            }
        }
        if let conditions {
            let C = BoardConditions.count
            if conditioned.isEmpty {
                conditioned = [Float](repeating: 0, count: C * N)
                conditionCounts = [Int](repeating: 0, count: C)
            }
            for r in 0..<m { for c in 0..<C where conditions[r * C + c] != 0 { conditionCounts[c] += 1 } }
            // Sums over the positions in each condition: conditionsᵀ [C, m] · activations [m, N].
            conditioned.withUnsafeMutableBufferPointer { out in
                Matmul.gemm(m: C, n: N, k: m, a: conditions, lda: C, transposeA: true, b: activations, ldb: N, c: out.baseAddress!, ldc: N, beta: 1)
            }
        }
        self.positions += m
    }

    /// Turns the sums into means; call once, after the last `add`.
    public mutating func finish() {
        let count = Double(max(positions, 1))
        for n in 0..<units {
            mean[n] = Float(sums[n] / count)
            frequency[n] = Float(Double(positive[n]) / count)
        }
        let N = units
        for c in conditionCounts.indices {
            let scale: Float = conditionCounts[c] > 0 ? 1 / Float(conditionCounts[c]) : 0
            for n in 0..<N { conditioned[c * N + n] *= scale }
        }
    }

    /// The mean activation of `unit` given each square in `condition` (64 values).
    public func conditionedMean(unit: Int, condition: BoardConditions.Condition) -> [Float] {
        guard !conditioned.isEmpty else { return [] }
        return (0..<64).map { conditioned[(condition.rawValue * 64 + $0) * units + unit] }
    }
}

/// The activations of some positions kept whole, with their board conditions: what a rule is fitted to and a
/// histogram drawn from. `activations[layer]` is `[rows, units]`, `conditions` `[rows, 384]`.
public struct ActivationSample: Sendable {
    public var positions: [GamePosition] = []
    public var conditions: [Float] = []
    public var activations: [[Float]]
    public var rows: Int { positions.count }

    public init(layers: Int) { activations = [[Float]](repeating: [], count: layers) }

    /// Rows `rows` of the sample: their conditions and layer `layer`'s activations.
    public func subset(_ rows: [Int], layer: Int, units: Int) -> (conditions: [Float], activations: [Float]) {
        let C = BoardConditions.count
        var c = [Float](), a = [Float]()
        c.reserveCapacity(rows.count * C)
        a.reserveCapacity(rows.count * units)
        for r in rows {
            c.append(contentsOf: conditions[(r * C)..<((r + 1) * C)])
            a.append(contentsOf: activations[layer][(r * units)..<((r + 1) * units)])
        }
        return (c, a)
    }
}

/// A histogram of `count` equal bins from the smallest to the largest value (all in one bin when they are equal).
public struct Histogram: Codable, Equatable, Sendable {
    public var lower: Float
    public var upper: Float
    public var counts: [Int]

    public init(values: UnsafeBufferPointer<Float>, stride: Int = 1, offset: Int = 0, bins: Int = 24) {
        var lo = Float.infinity, hi = -Float.infinity
        var i = offset
        while i < values.count { lo = min(lo, values[i]); hi = max(hi, values[i]); i += stride }
        if lo > hi { lo = 0; hi = 0 }
        lower = lo
        upper = hi
        counts = [Int](repeating: 0, count: bins)
        let width = (hi - lo) / Float(bins)
        i = offset
        while i < values.count {
            let bin = width > 0 ? min(bins - 1, Int((values[i] - lo) / width)) : 0
            counts[bin] += 1
            i += stride
        }
    }
}
