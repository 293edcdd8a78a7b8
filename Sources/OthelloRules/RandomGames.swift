import WorkbenchSupport

/// Li et al.'s synthetic games: from the start, the side to move picks uniformly at random among its
/// legal moves, until neither side can move. Passes are not written, so a game can end before 60 moves
/// (a board with empty squares nobody can play); `fullLength` keeps only games of 60 moves (the
/// TransformerLens convention) by drawing again until one is.
///
/// Game `i` draws from its own stream `SeededRandom(seed: seed, stream: i)`, so a seed gives the same
/// games on any number of threads.
///
///     let games = RandomGames.generate(count: 1000, seed: 1, fullLength: true)
///     games.lengths.allSatisfy { $0 == 60 }   // true
public enum RandomGames {
    /// `count` games; see the type's description. `progress` advances once per game.
    public static func generate(count: Int, seed: UInt64, fullLength: Bool = false,
                                threads: Int = Parallel.coreCount, progress: ProgressBar? = nil) -> GameDataset {
        let width = GameDataset.maxLength
        var squares = [Int8](repeating: -1, count: count * width)
        var lengths = [Int](repeating: 0, count: count)
        let chunkSize = 2048
        squares.withUnsafeMutableBufferPointer { squares in
            lengths.withUnsafeMutableBufferPointer { lengths in
                guard let squareBase = squares.baseAddress, let lengthBase = lengths.baseAddress else { return }
                let squares = SharedPointer(squareBase), lengths = SharedPointer(lengthBase)
                Parallel.forEach(chunks: (count + chunkSize - 1) / chunkSize, threads: threads) { chunk in
                    let games = (chunk * chunkSize)..<min((chunk + 1) * chunkSize, count)
                    for game in games {
                        var random = SeededRandom(seed: seed, stream: UInt64(game))
                        let row = squares.base + game * width
                        var length = play(into: row, random: &random)
                        while fullLength && length < width {
                            row.update(repeating: -1, count: width)
                            length = play(into: row, random: &random)
                        }
                        lengths[game] = length
                    }
                    progress?.advance(by: games.count)
                }
            }
        }
        return GameDataset(uncheckedSquares: squares, lengths: lengths)
    }

    /// Plays one random game, writing its squares to `moves` (room for 60); returns the number of moves.
    ///
    /// The hot loop: bitboards of the side to move (`player`) and the other side, no allocation, the
    /// k-th legal move found without building an array (`Bitboard.square(ofSetBit:in:rowTotals:)`). Each 64-bit random word serves two moves: the
    /// move is `k = (half * count) >> 32` for a 32-bit half (Lemire's multiply-shift; the bias, below
    /// 33 / 2^32, is negligible).
    @inlinable
    public static func play(into moves: UnsafeMutablePointer<Int8>, random: inout SeededRandom) -> Int {
        let rays = Bitboard.rayTable
        var player = Board.start.black, opponent = Board.start.white
        var legal = Bitboard.legalMoves(player: player, opponent: opponent)
        var length = 0
        var word: UInt64 = 0
        while true {
            if legal == 0 {
                // The side to move passes; if the other side cannot move either, the game is over.
                swap(&player, &opponent)
                legal = Bitboard.legalMoves(player: player, opponent: opponent)
                if legal == 0 { return length }
            }
            word = length & 1 == 0 ? random.next() : word >> 32
            let totals = Bitboard.rowTotals(legal)   // the top byte is the number of legal moves
            let k = Int(truncatingIfNeeded: ((word & 0xFFFF_FFFF) &* (totals >> 56)) >> 32)
            let square = Bitboard.square(ofSetBit: k, in: legal, rowTotals: totals)
            let placed = UInt64(1) << UInt64(truncatingIfNeeded: square)
            let flipped = Bitboard.flips(square: square, player: player, opponent: opponent, rays: rays)
            (player, opponent) = (opponent ^ flipped, player | flipped | placed)
            moves[length] = Int8(truncatingIfNeeded: square)
            length += 1
            legal = Bitboard.legalMoves(player: player, opponent: opponent)
        }
    }
}
