import WorkbenchSupport

/// Perft: the number of move sequences (leaves) of a given length from a position — the standard
/// check of a move generator against published counts.
///
/// Convention (Aart Bik's table): a pass is one ply, and a game that ends before the depth counts as
/// one leaf. From the start: 4, 12, 56, 244, 1 396, 8 200, 55 092, 390 216, 3 005 288, 24 571 284,
/// 212 258 800 for depths 1...11.
///
///     Perft.leaves(depth: 9)               // 3_005_288
///     Perft.leaves(depth: 11, threads: 8)  // 212_258_800, split over 8 threads
public enum Perft {
    /// The depths the command line accepts.
    public static let depthRange = 1...20

    /// The number of leaves `depth` plies below `position` (the start by default) on one thread.
    public static func leaves(depth: Int, from position: Position = .start) -> UInt64 {
        guard let next = position.next else { return 1 }
        return leaves(player: position.board.discs(next), opponent: position.board.discs(next.opponent), depth: depth,
                      rays: Bitboard.rayTable)
    }

    /// The number of leaves `depth` plies below `position`, the subtrees below a few plies shared out
    /// over `threads` threads (the count does not depend on `threads`).
    public static func leaves(depth: Int, from position: Position = .start, threads: Int) -> UInt64 {
        let splitDepth = min(max(depth - 6, 0), 4)
        guard splitDepth > 0, threads > 1 else { return leaves(depth: depth, from: position) }
        // Positions `splitDepth` plies down (or earlier, where the game ends: those count one leaf
        // whatever the depth, so they can stay in the list).
        var frontier = [(player: UInt64, opponent: UInt64)]()
        let mover = position.next ?? .black
        expand(player: position.board.discs(mover), opponent: position.board.discs(mover.opponent),
               plies: splitDepth, into: &frontier)
        let remaining = depth - splitDepth
        let nodes = frontier
        var counts = [UInt64](repeating: 0, count: nodes.count)
        counts.withUnsafeMutableBufferPointer { counts in
            guard let base = counts.baseAddress else { return }
            let results = SharedPointer(base)
            Parallel.forEach(chunks: nodes.count, threads: threads) { index in
                results[index] = leaves(player: nodes[index].player, opponent: nodes[index].opponent, depth: remaining,
                                        rays: Bitboard.rayTable)
            }
        }
        return counts.reduce(0, +)
    }

    /// Collects the positions `plies` below (player, opponent), passes included as plies.
    private static func expand(player: UInt64, opponent: UInt64, plies: Int,
                               into frontier: inout [(player: UInt64, opponent: UInt64)]) {
        var moves = Bitboard.legalMoves(player: player, opponent: opponent)
        let isOver = moves == 0 && Bitboard.legalMoves(player: opponent, opponent: player) == 0
        if plies == 0 || isOver {
            frontier.append((player, opponent))
        } else if moves == 0 {
            expand(player: opponent, opponent: player, plies: plies - 1, into: &frontier)
        }
        while plies > 0 && moves != 0 {
            let square = moves.trailingZeroBitCount
            moves &= moves &- 1
            let flipped = Bitboard.flips(square: square, player: player, opponent: opponent)
            expand(player: opponent ^ flipped, opponent: player | flipped | (UInt64(1) << UInt64(square)),
                   plies: plies - 1, into: &frontier)
        }
    }

    /// The recursion, on raw bitboards with `player` to move. At the last ply the leaves are counted in
    /// bulk (the number of legal moves) instead of being played.
    static func leaves(player: UInt64, opponent: UInt64, depth: Int, rays: UnsafePointer<UInt64>) -> UInt64 {
        var moves = Bitboard.legalMoves(player: player, opponent: opponent)
        if moves == 0 {
            // Pass (one ply), or the game is over: one leaf whatever the depth left.
            if depth <= 1 || Bitboard.legalMoves(player: opponent, opponent: player) == 0 { return 1 }
            return leaves(player: opponent, opponent: player, depth: depth - 1, rays: rays)
        }
        if depth <= 1 { return depth == 1 ? UInt64(moves.nonzeroBitCount) : 1 }
        var total: UInt64 = 0
        while moves != 0 {
            let square = moves.trailingZeroBitCount
            moves &= moves &- 1
            let flipped = Bitboard.flips(square: square, player: player, opponent: opponent, rays: rays)
            total &+= leaves(player: opponent ^ flipped, opponent: player | flipped | (UInt64(1) << UInt64(square)),
                             depth: depth - 1, rays: rays)
        }
        return total
    }
}
