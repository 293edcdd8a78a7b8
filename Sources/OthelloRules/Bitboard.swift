/// Bit tricks on 64-bit boards: one bit per square, bit `8*row + col` (row 0 at the top, col 0 on the left).
///
/// These are the hot loops of the engine (random games, perft, replay): legal moves by shifts and
/// masks (the masks stop discs wrapping around the board edge), flips by bit scans along rays.
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
    ///
    /// Along each of the eight rays from `square` to the edge, the first square without an opponent disc
    /// is the lowest (rays toward higher squares) or highest (toward lower squares) set bit of
    /// `ray & ~opponent`; when it holds a `player` disc, the ray's squares before it flip. Written
    /// without branches: which rays flip is unpredictable, and a mispredicted branch costs more than
    /// the arithmetic.
    @inlinable @inline(__always)
    public static func flips(square: Int, player: UInt64, opponent: UInt64) -> UInt64 {
        flips(square: square, player: player, opponent: opponent, rays: rayTable)
    }

    /// `flips(square:player:opponent:)` with the ray table passed in: hot loops fetch `rayTable` once,
    /// outside the loop (each access to a lazily initialised global costs a call to `swift_once`).
    @inlinable @inline(__always)
    static func flips(square: Int, player: UInt64, opponent: UInt64, rays table: UnsafePointer<UInt64>) -> UInt64 {
        let rays = table + square
        let notOpponent = ~opponent
        var flipped: UInt64 = 0
        for direction in 0..<4 {   // east, south-west, south, south-east: toward higher squares
            let ray = rays[64 * direction]
            let stops = ray & notOpponent
            let closer = stops & (0 &- stops) & player        // the first stop, if it is the player's; else 0
            let closed = 0 &- ((closer | (0 &- closer)) >> 63)  // all ones if closer != 0, else 0
            flipped |= ray & (closer &- 1) & closed            // the ray's squares below the closer
        }
        for direction in 4..<8 {   // west, north-east, north, north-west: toward lower squares
            let ray = rays[64 * direction]
            let stops = ray & notOpponent
            // The highest stop (bit 0 if there is none: never on such a ray with a player disc).
            let last = (UInt64(1) << 63) &>> UInt64(truncatingIfNeeded: (stops | 1).leadingZeroBitCount)
            let closer = last & stops & player
            flipped |= ray & (0 &- (closer &<< 1))                // the ray's squares above the closer
        }
        return flipped
    }

    /// `rayTable[64 * direction + square]`: the squares from `square` (excluded) to the edge of the
    /// board in each direction: 0 east, 1 south-west, 2 south, 3 south-east (toward higher squares),
    /// 4 west, 5 north-east, 6 north, 7 north-west (toward lower squares).
    @usableFromInline static let rayTable: UnsafePointer<UInt64> = {
        let steps = [(0, 1), (1, -1), (1, 0), (1, 1), (0, -1), (-1, 1), (-1, 0), (-1, -1)]
        let table = UnsafeMutablePointer<UInt64>.allocate(capacity: 8 * 64)
        for (direction, (rowStep, colStep)) in steps.enumerated() {
            for square in 0..<64 {
                var ray: UInt64 = 0
                var row = square / 8 + rowStep, col = square % 8 + colStep
                while (0..<8).contains(row), (0..<8).contains(col) {
                    ray |= UInt64(1) << UInt64(8 * row + col)
                    row += rowStep
                    col += colStep
                }
                table[64 * direction + square] = ray
            }
        }
        return UnsafePointer(table)
    }()

    /// The index of the `k`-th set bit of `bits`, counting from the lowest (k = 0); `k` must be
    /// less than `bits.nonzeroBitCount`. Used to pick a random move without building an array.
    @inlinable @inline(__always)
    public static func square(ofSetBit k: Int, in bits: UInt64) -> Int {
        square(ofSetBit: k, in: bits, rowTotals: rowTotals(bits))
    }

    /// Running totals of set bits by row (byte): byte `r` holds the number of set bits in rows 0...r,
    /// so the top byte is the total count. Branch-free (a popcount that keeps the partial sums).
    @inlinable @inline(__always)
    public static func rowTotals(_ bits: UInt64) -> UInt64 {
        var x = bits &- ((bits >> 1) & 0x5555_5555_5555_5555)                       // 2-bit counts
        x = (x & 0x3333_3333_3333_3333) &+ ((x >> 2) & 0x3333_3333_3333_3333)       // 4-bit counts
        x = (x &+ (x >> 4)) & 0x0F0F_0F0F_0F0F_0F0F                                 // 8-bit counts
        return x &* 0x0101_0101_0101_0101                                            // running sums
    }

    /// `square(ofSetBit:in:)` given `rowTotals(bits)`, without branches (a random pick is unpredictable):
    /// the row holding the k-th set bit is the number of rows whose running total is at most k; the
    /// column is found the same way from running totals of that row's bits.
    @inlinable @inline(__always)
    public static func square(ofSetBit k: Int, in bits: UInt64, rowTotals totals: UInt64) -> Int {
        let row = bytes(of: totals, atMost: k)
        let before = Int(truncatingIfNeeded: ((totals << 8) >> UInt64(8 * row)) & 0xFF)   // set bits in rows above
        let rowBits = (bits >> UInt64(8 * row)) & 0xFF
        // Byte c of `spread` keeps bit c of the row; `isSet` has the high bit of byte c set when that bit is.
        let spread = (rowBits &* 0x0101_0101_0101_0101) & 0x8040_2010_0804_0201
        let isSet = (((spread & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | spread) & 0x8080_8080_8080_8080
        let columnTotals = (isSet >> 7) &* 0x0101_0101_0101_0101
        return 8 * row + bytes(of: columnTotals, atMost: k - before)
    }

    /// How many bytes of `totals` are at most `k` (bytes and k below 128), all eight compared at once.
    @inlinable @inline(__always)
    static func bytes(of totals: UInt64, atMost k: Int) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let atMost = ((UInt64(truncatingIfNeeded: k) &* ones | highs) &- totals) & highs   // high bit: byte <= k
        return Int(truncatingIfNeeded: ((atMost >> 7) &* ones) >> 56)
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

    /// A board with exactly the given squares (0...63) set.
    ///
    ///     Bitboard.of([27, 36]) == Board.start.white   // true
    public static func of<S: Sequence>(_ squares: S) -> UInt64 where S.Element == Int {
        squares.reduce(0) { $0 | (UInt64(1) << UInt64($1)) }
    }
}
