import WorkbenchSupport

/// One position of a replayed game: the board right after a move, and what the probes of the
/// Othello-GPT studies predict from it. All sets of squares are bitboards; the `…Squares` and
/// `…Colours` helpers expand them into arrays.
public struct GameStep: Hashable, Sendable {
    /// The square just played.
    public var move: Int
    /// Who played it.
    public var player: Player
    /// The discs after the move.
    public var board: Board
    /// The discs the move flipped.
    public var flipped: UInt64
    /// Who moves next, passes inferred: usually `player.opponent`, `player` again if the opponent must
    /// pass, nil once neither side can move.
    public var next: Player?
    /// The legal moves of `next` (0 at the end of the game).
    public var legalMoves: UInt64

    /// The player "mine" refers to: the player who moves next (Nanda's convention). At the end of the
    /// game, where nobody moves, it is the opponent of the player who made the last move.
    public var perspective: Player { next ?? player.opponent }

    /// Colour per square, 64 entries in square order (empty / black / white).
    public var colours: [SquareColour] { board.colours }

    /// Mine / theirs per square relative to `perspective`, the player who moves next.
    ///
    /// Nanda's notebooks flip colours by the parity of the move index instead; the two agree except
    /// after a pass, where this uses the player who actually moves next.
    public var relativeColours: [RelativeColour] { board.relativeColours(to: perspective) }

    /// The flipped squares in increasing order.
    public var flippedSquares: [Int] { Bitboard.squares(flipped) }

    /// The legal moves of the side to move next, in increasing order.
    public var legalSquares: [Int] { Bitboard.squares(legalMoves) }
}

/// A game replayed from its moves, every move checked, passes inferred (passes are not written in
/// move lists: when the side to move has no legal move the other side moves again).
///
/// `steps[i]` is the position after `moves[i]`, so it lines up with token position `i` of the
/// model's input (the model reading `moves[0...i]` predicts `steps[i].legalMoves`).
///
///     let game = try GameReplay(moves: [37, 43, 34], source: "my game")   // f5 d6 c5
///     game.steps[2].board.count(.black)      // 5
///     game.steps[2].relativeColours[35]      // .theirs: black's disc, white moves next
///     game.steps[2].legalSquares             // white's legal moves
public struct GameReplay: Sendable {
    /// The squares played, passes not included.
    public let moves: [Int]
    /// The position after each move.
    public let steps: [GameStep]

    /// Replays `moves`; throws a `WorkbenchError` naming `source`, the move number (from 1) and the
    /// square at the first illegal move, or a move after the end of the game.
    public init(moves: [Int], source: String = "game") throws {
        var steps: [GameStep] = []
        steps.reserveCapacity(moves.count)
        try GameReplay.replay(moves, source: source) { steps.append($0) }
        self.moves = moves
        self.steps = steps
    }

    /// The position after the last move (the start if there are no moves).
    public var finalPosition: Position {
        guard let last = steps.last else { return .start }
        return Position(board: last.board, next: last.next)
    }

    /// Whether the game ran to its end (neither side can move after the last move).
    public var isComplete: Bool { finalPosition.isOver }

    /// Replays `moves` without storing anything, calling `body` with each position: the check used to
    /// validate datasets.
    public static func replay<S: Sequence>(_ moves: S, source: String, _ body: (GameStep) -> Void = { _ in }) throws
    where S.Element == Int {
        var position = Position.start
        for (index, square) in moves.enumerated() {
            guard let mover = position.next else {
                throw WorkbenchError("\(source), move \(index + 1): \(describeMove(square)) comes after the end of the game (neither side can move after move \(index))")
            }
            guard (0..<64).contains(square) else {
                throw WorkbenchError("\(source), move \(index + 1): \(square) is not a square (squares are 0...63)")
            }
            let legal = position.legalMoves
            guard let flipped = position.play(square) else {
                let legalText = Bitboard.squares(legal).map { SquareNotation.othelloGPT.label($0) }.joined(separator: " ")
                throw WorkbenchError("\(source), move \(index + 1): \(describeSquare(square)) is illegal for \(mover) (legal: \(legalText))")
            }
            body(GameStep(move: square, player: mover, board: position.board, flipped: flipped,
                          next: position.next, legalMoves: position.legalMoves))
        }
    }

    private static func describeMove(_ square: Int) -> String {
        (0..<64).contains(square) ? describeSquare(square) : "\(square)"
    }
}
