import WorkbenchSupport

/// A list of games, each a sequence of up to 60 squares (0...63, passes not written), every move
/// checked legal on construction.
///
/// Stored flat, as the `.npy` file holds it: `squares` is `count × 60` int8 values row by row, each
/// game's moves followed by -1 up to 60. A model turns games into token batches with
/// `writeTokens(ofGame:into:)` without intermediate arrays.
///
///     let games = try GameDataset(games: [[37, 43, 34]])
///     games.count             // 1
///     games[0]                // [37, 43, 34]
///     games.tokens(ofGame: 0) // [34, 40, 33]
///     try games.write(to: URL(fileURLWithPath: "games.npy"))
///     let back = try GameDataset.read(from: URL(fileURLWithPath: "games.npy"))
public struct GameDataset: Equatable, Sendable {
    /// Moves per game at most (60 squares start empty), the row length of `squares`.
    public static let maxLength = 60

    /// `count × 60` squares, row-major; -1 after the end of each game.
    public private(set) var squares: [Int8]
    /// The number of moves of each game.
    public private(set) var lengths: [Int]

    /// The number of games.
    public var count: Int { lengths.count }

    /// The moves of game `index` as squares.
    public subscript(index: Int) -> [Int] {
        let start = index * Self.maxLength
        return squares[start..<(start + lengths[index])].map(Int.init)
    }

    /// Every game as a list of squares.
    public var games: [[Int]] { (0..<count).map { self[$0] } }

    /// The model tokens (1...60) of game `index`'s moves.
    public func tokens(ofGame index: Int) -> [Int] {
        self[index].map(Vocabulary.tokenUnchecked(forSquare:))
    }

    /// The `[indices.count, positions]` token matrix of games `indices`, each row padded with token 0 after the
    /// game's end: a model's input batch.
    ///
    ///     let tokens = games.tokenBatch([0, 2], positions: 59)   // 2 × 59 tokens
    public func tokenBatch<C: Collection>(_ indices: C, positions: Int) -> [Int32] where C.Element == Int {
        var tokens = [Int32](repeating: 0, count: indices.count * positions)
        writeTokenBatch(indices, positions: positions, into: &tokens)
        return tokens
    }

    /// `tokenBatch` into an existing buffer of at least `indices.count × positions` tokens (a loop over batches
    /// reuses one).
    public func writeTokenBatch<C: Collection>(_ indices: C, positions: Int, into tokens: inout [Int32]) where C.Element == Int {
        precondition(tokens.count >= indices.count * positions, "writeTokenBatch: the buffer holds \(tokens.count) tokens, the batch needs \(indices.count * positions)")
        tokens.withUnsafeMutableBufferPointer { buffer in
            for (row, game) in indices.enumerated() {
                writeTokens(ofGame: game, into: UnsafeMutableBufferPointer(rebasing: buffer[(row * positions)..<((row + 1) * positions)]))
            }
        }
    }

    /// Writes the tokens of game `index` into `buffer`, padding with token 0 after the game's end and
    /// stopping at `buffer.count`: fills one row of a `[batch, positions]` token matrix.
    @inlinable
    public func writeTokens<T: FixedWidthInteger>(ofGame index: Int, into buffer: UnsafeMutableBufferPointer<T>) {
        let start = index * Self.maxLength
        let length = lengths[index]
        squares.withUnsafeBufferPointer { squares in
            for position in 0..<buffer.count {
                buffer[position] = position < length
                    ? T(truncatingIfNeeded: Vocabulary.tokenUnchecked(forSquare: Int(squares[start + position])))
                    : T(truncatingIfNeeded: Vocabulary.padding)
            }
        }
    }

    /// The games of `games`, each checked legal; throws a `WorkbenchError` naming `source`, the game
    /// (numbered from 0), the move (numbered from 1) and the square of the first problem.
    public init(games: [[Int]], source: String = "games") throws {
        var squares = [Int8](repeating: -1, count: games.count * Self.maxLength)
        for (index, game) in games.enumerated() {
            guard game.count <= Self.maxLength else {
                throw WorkbenchError("\(source): game \(index) has \(game.count) moves; a game has at most 60")
            }
            for (move, square) in game.enumerated() {
                guard (0..<64).contains(square) else {
                    throw WorkbenchError("\(source): game \(index), move \(move + 1): \(square) is not a square (squares are 0...63)")
                }
                squares[index * Self.maxLength + move] = Int8(square)
            }
        }
        try self.init(squares: squares, source: source)
    }

    /// The games of a `count × 60` matrix of squares padded with -1 (the `.npy` layout), each checked:
    /// values in -1...63, nothing after the padding starts, every move legal.
    public init(squares: [Int8], source: String = "games") throws {
        guard squares.count % Self.maxLength == 0 else {
            throw WorkbenchError("\(source): \(squares.count) squares is not a whole number of 60-move rows")
        }
        let count = squares.count / Self.maxLength
        var lengths = [Int](repeating: 0, count: count)
        for game in 0..<count {
            let row = squares[(game * Self.maxLength)..<((game + 1) * Self.maxLength)]
            let length = row.firstIndex(of: -1).map { $0 - game * Self.maxLength } ?? Self.maxLength
            for (offset, value) in row.enumerated() {
                if offset < length, !(0...63).contains(value) {
                    throw WorkbenchError("\(source): game \(game), move \(offset + 1): \(value) is not a square (squares are 0...63, -1 pads after the end)")
                }
                if offset >= length, value != -1 {
                    throw WorkbenchError("\(source): game \(game), move \(offset + 1): square \(value) after the padding (-1) that ends the game at move \(length + 1)")
                }
            }
            lengths[game] = length
        }
        self.squares = squares
        self.lengths = lengths
        try checkLegal(source: source)
    }

    /// Replays every game (in parallel, bitboards only) and throws for the first illegal move.
    private func checkLegal(source: String) throws {
        let chunkSize = 4096
        let chunks = (count + chunkSize - 1) / chunkSize
        var firstBad = [Int](repeating: -1, count: chunks)
        squares.withUnsafeBufferPointer { squares in
            firstBad.withUnsafeMutableBufferPointer { firstBad in
                guard let squareBase = squares.baseAddress, let firstBadBase = firstBad.baseAddress else { return }
                let squares = SharedPointer(squareBase), results = SharedPointer(firstBadBase), lengths = self.lengths
                Parallel.forEach(chunks: chunks) { chunk in
                    for game in (chunk * chunkSize)..<min((chunk + 1) * chunkSize, lengths.count) {
                        let moves = UnsafeBufferPointer(start: squares.base + game * Self.maxLength, count: lengths[game])
                        if Self.firstIllegalMove(moves) != nil {
                            results[chunk] = game
                            return
                        }
                    }
                }
            }
        }
        guard let game = firstBad.first(where: { $0 >= 0 }) else { return }
        // Replay again, slowly, for the message.
        _ = try GameReplay(moves: self[game], source: "\(source): game \(game)")
    }

    /// The index of the first move of `moves` that is illegal (or comes after the end), nil if none.
    @inline(__always)
    static func firstIllegalMove(_ moves: UnsafeBufferPointer<Int8>) -> Int? {
        let rays = Bitboard.rayTable
        var player = Board.start.black, opponent = Board.start.white
        var legal = Bitboard.legalMoves(player: player, opponent: opponent)
        for index in 0..<moves.count {
            let square = Int(moves[index])
            guard square >= 0, square < 64, legal & (UInt64(1) << UInt64(square)) != 0 else { return index }
            let flipped = Bitboard.flips(square: square, player: player, opponent: opponent, rays: rays)
            (player, opponent) = (opponent ^ flipped, player | flipped | (UInt64(1) << UInt64(square)))
            legal = Bitboard.legalMoves(player: player, opponent: opponent)
            if legal == 0 {   // pass: the same side moves again (if it can)
                (player, opponent) = (opponent, player)
                legal = Bitboard.legalMoves(player: player, opponent: opponent)
            }
        }
        return nil
    }

    /// Games already known legal (the random generator's output).
    init(uncheckedSquares squares: [Int8], lengths: [Int]) {
        self.squares = squares
        self.lengths = lengths
    }
}
