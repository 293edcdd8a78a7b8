import WorkbenchSupport

/// The Othello-GPT model vocabulary: 61 tokens.
///
/// Token 0 is padding (also used for "pass"); tokens 1...60 are the 60 playable squares in increasing
/// square index, skipping the four centre squares 27, 28, 35, 36 (which start occupied and are never
/// played). So `A0` (square 0) is token 1, `D2` (26) is 27, `D5` (29) is 28, `E2` (34) is 33 and
/// `H7` (63) is 60 — the same tokens as Li et al. and the TransformerLens Othello-GPT.
///
///     try Vocabulary.token(forSquare: 37)   // 34
///     try Vocabulary.square(forToken: 34)   // 37
///     Vocabulary.squares[33]                // 37: the square of token 34
public enum Vocabulary {
    /// The number of tokens, padding included.
    public static let size = 61
    /// The padding (and pass) token.
    public static let padding = 0

    /// The model's input tokens of a move sequence (squares 0…63, none of them a centre square).
    ///
    ///     Vocabulary.tokens(forMoves: [37, 43])   // [34, 40]
    public static func tokens(forMoves moves: [Int]) -> [Int32] { moves.map { Int32(tokenUnchecked(forSquare: $0)) } }
    /// The four centre squares, which have no token.
    public static let centreSquares: [Int] = [27, 28, 35, 36]
    /// The square of each move token: `squares[token - 1]`, 60 entries in increasing order.
    public static let squares: [Int] = (0..<64).filter { !centreSquares.contains($0) }

    /// The token of `square`, throwing for centre squares and values off the board.
    public static func token(forSquare square: Int) throws -> Int {
        guard (0..<64).contains(square) else {
            throw WorkbenchError("square \(square) is off the board: squares are 0...63 (8*row + col)")
        }
        guard !centreSquares.contains(square) else {
            throw WorkbenchError("square \(square) (\(SquareNotation.othelloGPT.label(square))) is a centre square and has no token: it is occupied from the start")
        }
        return tokenUnchecked(forSquare: square)
    }

    /// The square of move token `token` (1...60), throwing for the padding token and values out of range.
    public static func square(forToken token: Int) throws -> Int {
        guard token != padding else {
            throw WorkbenchError("token 0 is padding/pass and names no square")
        }
        guard (1...60).contains(token) else {
            throw WorkbenchError("token \(token) is out of range: move tokens are 1...60 (0 is padding)")
        }
        return squareUnchecked(forToken: token)
    }

    /// The token of a playable square, without checks (branch-free: for hot loops on validated data).
    /// Squares below 27 keep their index plus one; each pair of centre squares passed shifts by two.
    @inlinable @inline(__always)
    public static func tokenUnchecked(forSquare square: Int) -> Int {
        square + 1 - (square > 28 ? 2 : 0) - (square > 36 ? 2 : 0)
    }

    /// The square of a move token (1...60), without checks (branch-free: for hot loops on validated data).
    @inlinable @inline(__always)
    public static func squareUnchecked(forToken token: Int) -> Int {
        token - 1 + (token >= 28 ? 2 : 0) + (token >= 34 ? 2 : 0)
    }
}
