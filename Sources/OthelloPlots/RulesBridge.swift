import OthelloRules

extension Disc {
    /// The discs of a rules-engine `Board`, 64 entries in square order (nil = empty).
    ///
    ///     BoardHeatmap(values: probabilities, discs: Disc.discs(of: step.board), scale: .probability)
    public static func discs(of board: Board) -> [Disc?] {
        (0..<64).map { square in
            switch board[square] {
            case .empty: return nil
            case .black: return .black
            case .white: return .white
            }
        }
    }
}

extension BoardHeatmap {
    /// A rules-engine position on green felt: its discs, `lastMove` framed, each square of
    /// `legalMoves` (a bitboard, bit = square) dotted.
    ///
    ///     let step = try GameReplay(moves: game, source: "game 0").steps[19]
    ///     let figure = BoardHeatmap.position(step.board, lastMove: step.move, legalMoves: step.legalMoves,
    ///                                        title: "After 20 moves")
    public static func position(_ board: Board, lastMove: Int? = nil, legalMoves: UInt64 = 0,
                                title: String? = nil, cellSize: Int = 52) -> BoardHeatmap {
        var marks = Bitboard.squares(legalMoves).map { BoardMark($0, .legal) }
        if let lastMove { marks.insert(BoardMark(lastMove, .played), at: 0) }
        return position(discs: Disc.discs(of: board), marks: marks, title: title, cellSize: cellSize)
    }
}
