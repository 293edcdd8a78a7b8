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

extension BoardHeatmap {
    /// The position after `moves` moves of `game` as a figure: discs, the last move framed, the
    /// legal moves of the side to move dotted (with `marksLegalMoves`), a title saying who moves.
    public static func position(ofGame game: [Int], after moves: Int, name: String, title: String?,
                         marksLegalMoves: Bool, cellSize: Int = 52) throws -> BoardHeatmap {
        let replay = try GameReplay(moves: Array(game.prefix(moves)), source: name)
        let position = replay.finalPosition
        let last = replay.steps.last
        let defaultTitle: String
        if let next = position.next {
            defaultTitle = moves == 0 ? "\(name): start, black to move" : "\(name) after \(moves) moves: \(next) to move"
        } else {
            let score = position.board.finalScore
            defaultTitle = "\(name) after \(moves) moves: game over, black \(score.black), white \(score.white)"
        }
        var figure = BoardHeatmap.position(position.board, lastMove: last?.move,
                                           legalMoves: marksLegalMoves ? position.legalMoves : 0,
                                           title: title ?? defaultTitle, cellSize: cellSize)
        if let last {
            figure.markLabels[.played] = "last move (\(SquareNotation.othelloGPT.label(last.move)), \(last.player))"
        }
        if let next = position.next {
            figure.markLabels[.legal] = "legal move (\(next))"
        }
        return figure
    }
}
