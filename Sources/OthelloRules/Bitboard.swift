/// Bit tricks on 64-bit boards: one bit per square, bit `8*row + col` (row 0 at the top, col 0 on the left).
///
/// These are the hot loops of the engine (random games, perft, replay), written without arrays or
/// tables: every direction is a shift plus a mask that stops discs wrapping around the board edge.
///
///     let moves = Bitboard.legalMoves(player: Board.start.black, opponent: Board.start.white)
///     Bitboard.squares(moves)   // [19, 26, 37, 44]
public enum Bitboard {
    /// Every square but columns 0 and 7: opponent discs that can lie between in a sideways or diagonal line.
    @inlinable static var inner: UInt64 { 0x7E7E_7E7E_7E7E_7E7E }

    /// The legal moves of `player` against `opponent`: empty squares from which, in some direction,
    /// one or more `opponent` discs run up to a `player` disc.
    ///
    /// Each direction is a Kogge–Stone fill: grow the run of opponent discs from the player's discs
    /// two squares at a time, then step once more onto the empty square at the end.
    @inlinable @inline(__always)
    public static func legalMoves(player: UInt64, opponent: UInt64) -> UInt64 {
        let sideways = opponent & inner
        var moves = movesAlong(1, player, sideways)   // east and west
        moves |= movesAlong(8, player, opponent)      // south and north (bits fall off the board)
        moves |= movesAlong(7, player, sideways)      // south-west and north-east
        moves |= movesAlong(9, player, sideways)      // south-east and north-west
        return moves & ~(player | opponent)
    }

    /// The squares reached by stepping over runs of `mask` discs from `player` along `shift` both ways.
    @inlinable @inline(__always)
    static func movesAlong(_ shift: UInt64, _ player: UInt64, _ mask: UInt64) -> UInt64 {
        var up = mask & (player << shift)
        var down = mask & (player >> shift)
        up |= mask & (up << shift)
        down |= mask & (down >> shift)
        let pairUp = mask & (mask << shift)
        let pairDown = mask & (mask >> shift)
        up |= pairUp & (up << (2 * shift))
        down |= pairDown & (down >> (2 * shift))
        up |= pairUp & (up << (2 * shift))
        down |= pairDown & (down >> (2 * shift))
        return (up << shift) | (down >> shift)
    }

    /// The `opponent` discs that `player` flips by playing on `square` (0 if the move flips nothing,
    /// that is, if it is illegal).
    @inlinable @inline(__always)
    public static func flips(square: Int, player: UInt64, opponent: UInt64) -> UInt64 {
        let move = UInt64(1) << UInt64(truncatingIfNeeded: square)
        let sideways = opponent & inner
        var flipped = flipsAlong(1, move, player, sideways)
        flipped |= flipsAlong(8, move, player, opponent)
        flipped |= flipsAlong(7, move, player, sideways)
        flipped |= flipsAlong(9, move, player, sideways)
        return flipped
    }

    /// The discs flipped along `shift` both ways: the run of `mask` discs next to `move`, kept only if
    /// a `player` disc closes it.
    @inlinable @inline(__always)
    static func flipsAlong(_ shift: UInt64, _ move: UInt64, _ player: UInt64, _ mask: UInt64) -> UInt64 {
        var up = mask & (move << shift)
        var down = mask & (move >> shift)
        up |= mask & (up << shift)
        down |= mask & (down >> shift)
        let pairUp = mask & (mask << shift)
        let pairDown = mask & (mask >> shift)
        up |= pairUp & (up << (2 * shift))
        down |= pairDown & (down >> (2 * shift))
        up |= pairUp & (up << (2 * shift))
        down |= pairDown & (down >> (2 * shift))
        let closedUp: UInt64 = (player & (up << shift)) != 0 ? up : 0
        let closedDown: UInt64 = (player & (down >> shift)) != 0 ? down : 0
        return closedUp | closedDown
    }

    /// The number of set bits (squares) of `bits`.
    @inlinable @inline(__always)
    public static func count(_ bits: UInt64) -> Int { bits.nonzeroBitCount }

    /// The index of the `k`-th set bit of `bits`, counting from the lowest (k = 0); `k` must be
    /// less than `count(bits)`. Used to pick a random move without building an array.
    @inlinable @inline(__always)
    public static func square(ofSetBit k: Int, in bits: UInt64) -> Int {
        var rest = bits
        var k = k
        while k > 0 {
            rest &= rest &- 1
            k -= 1
        }
        return rest.trailingZeroBitCount
    }

    /// The squares of `bits` in increasing order.
    ///
    ///     Bitboard.squares(0b1010)   // [1, 3]
    public static func squares(_ bits: UInt64) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(bits.nonzeroBitCount)
        var rest = bits
        while rest != 0 {
            result.append(rest.trailingZeroBitCount)
            rest &= rest &- 1
        }
        return result
    }

    /// A board with exactly the given squares set.
    ///
    ///     Bitboard.of([27, 36]) == Board.start.white   // true
    public static func of<S: Sequence>(_ squares: S) -> UInt64 where S.Element == Int {
        squares.reduce(0) { $0 | (UInt64(1) << UInt64($1)) }
    }
}
