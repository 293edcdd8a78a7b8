/// A side. Black moves first.
public enum Player: Int8, CaseIterable, Sendable {
    case black = 1
    case white = 2

    /// The other side.
    @inlinable public var opponent: Player { self == .black ? .white : .black }
}

/// What is on a square, by colour. Raw values are the probe-target classes.
public enum SquareColour: Int8, Sendable {
    case empty = 0
    case black = 1
    case white = 2
}

/// What is on a square relative to one player (Nanda's "mine/theirs" probe). Raw values are the
/// probe-target classes, in the order of Nanda's notebooks: empty, theirs, mine.
public enum RelativeColour: Int8, Sendable {
    case empty = 0
    case theirs = 1
    case mine = 2
}

/// The discs on the board: one bitboard per colour (bit `8*row + col`).
///
///     var board = Board.start
///     let flipped = board.play(37, by: .black)   // f5 in standard notation
///     board.count(.black)                         // 4
///     print(board.ascii())
public struct Board: Hashable, Sendable {
    public var black: UInt64
    public var white: UInt64

    /// The standard start: white on 27 (D3) and 36 (E4), black on 28 (D4) and 35 (E3).
    public static let start = Board(black: (1 << 28) | (1 << 35), white: (1 << 27) | (1 << 36))

    public init(black: UInt64, white: UInt64) {
        self.black = black
        self.white = white
    }

    /// The discs of `player`.
    @inlinable public func discs(_ player: Player) -> UInt64 { player == .black ? black : white }

    /// The empty squares.
    @inlinable public var empty: UInt64 { ~(black | white) }

    /// The number of discs of `player`.
    @inlinable public func count(_ player: Player) -> Int { discs(player).nonzeroBitCount }

    /// The legal moves of `player` as a bitboard.
    @inlinable public func legalMoves(_ player: Player) -> UInt64 {
        Bitboard.legalMoves(player: discs(player), opponent: discs(player.opponent))
    }

    /// Whether `player` may play on `square`.
    public func isLegal(_ square: Int, by player: Player) -> Bool {
        (0..<64).contains(square) && legalMoves(player) & (UInt64(1) << UInt64(square)) != 0
    }

    /// Places a disc of `player` on `square` and flips what it outflanks; returns the flipped discs.
    /// The move must be legal (check with `isLegal`); an illegal one leaves the board unchanged and returns 0.
    @discardableResult
    public mutating func play(_ square: Int, by player: Player) -> UInt64 {
        guard isLegal(square, by: player) else { return 0 }
        let flipped = Bitboard.flips(square: square, player: discs(player), opponent: discs(player.opponent))
        let placed = UInt64(1) << UInt64(square)
        if player == .black {
            black |= placed | flipped
            white &= ~flipped
        } else {
            white |= placed | flipped
            black &= ~flipped
        }
        return flipped
    }

    /// The colour on `square` (0...63).
    public subscript(square: Int) -> SquareColour {
        let bit = UInt64(1) << UInt64(square & 63)
        return black & bit != 0 ? .black : white & bit != 0 ? .white : .empty
    }

    /// The colour of every square, 64 entries in square order.
    public var colours: [SquareColour] { (0..<64).map { self[$0] } }

    /// Every square relative to `player`: `mine` where `player` has a disc, `theirs` where the opponent has.
    public func relativeColours(to player: Player) -> [RelativeColour] {
        let mine = discs(player), theirs = discs(player.opponent)
        return (0..<64).map { square in
            let bit = UInt64(1) << UInt64(square)
            return mine & bit != 0 ? .mine : theirs & bit != 0 ? .theirs : .empty
        }
    }

    /// The final score as recorded in WTHOR and PGN: disc counts with the empty squares given to the
    /// winner (split evenly on a draw).
    public var finalScore: (black: Int, white: Int) {
        let b = count(.black), w = count(.white), e = 64 - b - w
        if b > w { return (b + e, w) }
        if w > b { return (b, w + e) }
        return (b + e / 2, w + e / 2)
    }

    /// The side with more discs, nil on a draw.
    public var winner: Player? {
        let b = count(.black), w = count(.white)
        return b > w ? .black : w > b ? .white : nil
    }

    /// The board as 8 rows of text, rows A...H from the top: `X` black, `O` white, `.` empty, and `*` on
    /// the empty squares of `marks` (e.g. legal moves).
    public func rows(marks: UInt64 = 0) -> [String] {
        (0..<8).map { row in
            String((0..<8).map { col -> Character in
                let square = 8 * row + col
                switch self[square] {
                case .black: return "X"
                case .white: return "O"
                case .empty: return marks & (UInt64(1) << UInt64(square)) != 0 ? "*" : "."
                }
            })
        }
    }

    /// The board as a diagram (see `rows`) labelled in both notations: each row carries its Othello-GPT
    /// row letter A...H and standard row digit 1...8; the header the standard column letters a...h and
    /// the Othello-GPT column digits 0...7.
    ///
    ///         a b c d e f g h
    ///         0 1 2 3 4 5 6 7
    ///     A 1 . . . . . . . .
    public func ascii(marks: UInt64 = 0) -> String {
        let body = rows(marks: marks).enumerated().map { row, text in
            "\(Array("ABCDEFGH")[row]) \(row + 1) " + text.map(String.init).joined(separator: " ")
        }
        return (["    a b c d e f g h", "    0 1 2 3 4 5 6 7"] + body).joined(separator: "\n")
    }
}
