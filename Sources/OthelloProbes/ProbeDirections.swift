import Foundation
import OthelloRules
import WorkbenchSupport

/// Nanda's probe directions: per square a unit vector in the activation space along which a linear probe's
/// reading changes from one class to another.
///
/// - mine − theirs: `W[:, s, mine] − W[:, s, theirs]` of a relative probe; of a colour probe `W[:, s, black] −
///   W[:, s, white]`, signed for the player to move (`mineMinusTheirs(_:perspective:)`);
/// - empty: `W[:, s, empty] − ½(W[:, s, mine] + W[:, s, theirs])` (or of black and white);
/// - flipped (of a `flipped` probe), or in general for a two-class probe: `W[:, s, yes] − W[:, s, no]`.
///
///     let directions = try ProbeDirections(probe: relativeProbe)
///     let d = directions.mineMinusTheirs(37, perspective: .black)     // unit vector, d_model floats
///     let similarity = ProbeDirections.cosineMatrix(directions.mineMinusTheirs, directions.mineMinusTheirs)
public struct ProbeDirections {
    public let basis: ProbeBasis
    public let hook: String
    /// Per square, unit vectors (zero where the probe's weights are zero); `[64][width]`.
    /// For a colour probe the mine − theirs vectors are black − white, i.e. for black to move.
    public let mineMinusTheirs: [[Float]]
    public let empty: [[Float]]
    /// Two-class probes only: yes − no per square.
    public let yesMinusNo: [[Float]]
    /// The norms before normalising, per square (mine − theirs, or yes − no).
    public let norms: [Float]

    /// The directions of mode `mode` of a linear probe.
    public init(probe: Probe, mode: Int = 0) throws {
        guard probe.kind == .linear else {
            throw WorkbenchError("probe directions come from linear probes; this probe is \(probe.kind.rawValue) (train one with --kind linear)")
        }
        guard probe.modes.indices.contains(mode) else { throw WorkbenchError("the probe has modes 0…\(probe.modes.count - 1)") }
        let (d, c) = (probe.inputWidth, probe.classes)
        let w = probe.tensor("W", mode: mode)
        func column(_ square: Int, _ k: Int) -> [Float] { (0..<d).map { w[($0 * 64 + square) * c + k] } }
        var mineMinusTheirs: [[Float]] = [], empty: [[Float]] = [], yesMinusNo: [[Float]] = [], norms: [Float] = []
        for square in 0..<64 {
            if probe.basis.isBoard {
                // relative/mover: classes empty, theirs, mine; colour: empty, black, white (black plays "mine").
                let (a, b) = probe.basis == .colour ? (column(square, 1), column(square, 2)) : (column(square, 2), column(square, 1))
                let e = column(square, 0)
                let difference = zip(a, b).map { $0 - $1 }
                norms.append(Self.norm(difference))
                mineMinusTheirs.append(Self.normalised(difference))
                empty.append(Self.normalised((0..<d).map { e[$0] - 0.5 * (a[$0] + b[$0]) }))
            } else {
                let difference = zip(column(square, 1), column(square, 0)).map { $0 - $1 }
                norms.append(Self.norm(difference))
                yesMinusNo.append(Self.normalised(difference))
            }
        }
        basis = probe.basis
        hook = probe.hook
        self.mineMinusTheirs = mineMinusTheirs
        self.empty = empty
        self.yesMinusNo = yesMinusNo
        self.norms = norms
    }

    /// The unit mine − theirs direction of `square` for `perspective`, the player who moves next (a colour
    /// probe's black − white flips sign for white; a relative probe's is the same for both).
    public func mineMinusTheirs(_ square: Int, perspective: Player) -> [Float] {
        let direction = mineMinusTheirs[square]
        return basis == .colour && perspective == .white ? direction.map { -$0 } : direction
    }

    /// Cosine similarities `a[i] · b[j]` of two lists of unit vectors (zero vectors give 0).
    public static func cosineMatrix(_ a: [[Float]], _ b: [[Float]]) -> [[Double]] {
        a.map { u in b.map { v in Double(zip(u, v).reduce(Float(0)) { $0 + $1.0 * $1.1 }) } }
    }

    /// Per square, the cosine between two lists of unit vectors (`a[s] · b[s]`).
    public static func cosinePerSquare(_ a: [[Float]], _ b: [[Float]]) -> [Double] {
        zip(a, b).map { u, v in Double(zip(u, v).reduce(Float(0)) { $0 + $1.0 * $1.1 }) }
    }

    static func norm(_ v: [Float]) -> Float { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    static func normalised(_ v: [Float]) -> [Float] {
        let n = norm(v)
        return n > 0 ? v.map { $0 / n } : v
    }
}
