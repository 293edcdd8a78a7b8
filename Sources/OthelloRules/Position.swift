/// A board and the side that moves next, with passes applied: after a move, the opponent moves next
/// if it has a legal move, otherwise the same player moves again (the opponent passes), and when
/// neither side can move the game is over (`next == nil`).
///
///     var position = Position.start
///     position.play(37)                    // black f5; flips 36
///     position.next                        // .white
///     Bitboard.squares(position.legalMoves) // [29, 43, 45]
public struct Position: Hashable, Sendable {
    public var board: Board
    /// The side to move, nil once neither side can move.
    public var next: Player?

    /// The start of every game: the standard board, black to move.
    public static let start = Position(board: .start, next: .black)

    public init(board: Board, next: Player?) {
        self.board = board
        self.next = next
    }

    /// Whether the game is over.
    public var isOver: Bool { next == nil }

    /// The legal moves of the side to move (0 once the game is over).
    public var legalMoves: UInt64 {
        guard let next else { return 0 }
        return board.legalMoves(next)
    }

    /// Plays `square` for the side to move and passes the turn on (see the type's description).
    /// Returns the flipped discs, or nil (leaving the position unchanged) if the move is illegal or
    /// the game is over.
    @discardableResult
    public mutating func play(_ square: Int) -> UInt64? {
        guard let mover = next, board.isLegal(square, by: mover) else { return nil }
        let flipped = board.play(square, by: mover)
        if board.legalMoves(mover.opponent) != 0 {
            next = mover.opponent
        } else if board.legalMoves(mover) != 0 {
            next = mover
        } else {
            next = nil
        }
        return flipped
    }
}
