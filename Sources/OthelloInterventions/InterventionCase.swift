import Foundation
import OthelloRules
import WorkbenchSupport

/// What an edit does to the board: flip the square's disc (mine ↔ theirs), take it off (`empty`), or put a disc on an
/// empty square — of the player to move after the prefix (`mine`) or of the opponent (`theirs`). Only the square
/// changes; nothing is flipped around it.
public enum BoardEdit: String, CaseIterable, Sendable {
    case flip, empty, mine, theirs

    /// Whether the edit needs a disc on the square (flip, empty) rather than an empty square (mine, theirs).
    public var needsDisc: Bool { self == .flip || self == .empty }
}

/// One intervention: a game prefix and an occupied square whose disc the edit flips (mine ↔ theirs) — or removes,
/// with `edit: .empty` — in the model's board after the prefix's last move.
///
/// Case files are JSON Lines, one case a line: `{"moves": [19, 18, 17], "square": 37}` — `moves` the prefix as
/// square indices 0…63 or Othello-GPT labels ("C3"), ending with the move after which the edit is made; `square`
/// an index or a label; optional `"edit": "flip"` (default) or `"empty"`. Other fields are ignored.
public struct InterventionCase: Equatable, Sendable {
    public var moves: [Int]
    public var square: Int
    public var edit: BoardEdit

    public init(moves: [Int], square: Int, edit: BoardEdit = .flip) {
        self.moves = moves
        self.square = square
        self.edit = edit
    }

    /// The token position of the edit: the prefix's last move.
    public var position: Int { moves.count - 1 }
}

/// A case checked against the rules and made ready to score: the boards, the legal moves before and after the
/// edit, and the positions an edit may touch.
public struct PreparedCase: Sendable {
    public let base: InterventionCase
    /// The positions of the prefix (`steps[p]` is the board after move `p`).
    public let steps: [GameStep]
    /// Who moves next after the prefix: the player whose legal moves the model predicts.
    public let player: Player
    /// The legal moves of `player` on the real board, and on the board with the square's disc flipped.
    public let legalBefore: UInt64
    public let legalAfter: UInt64
    /// The first position from which the square has its current disc (the move that placed or last flipped it).
    public let editStart: Int

    public var position: Int { base.position }
    public var square: Int { base.square }

    /// Checks the case: a legal prefix within `maxPositions`, a game that goes on, an occupied square.
    public init(_ base: InterventionCase, maxPositions: Int, source: String) throws {
        guard !base.moves.isEmpty else { throw WorkbenchError("\(source): the prefix has no moves") }
        guard base.moves.count <= maxPositions else {
            throw WorkbenchError("\(source): the prefix has \(base.moves.count) moves; the model reads at most \(maxPositions)")
        }
        guard (0..<64).contains(base.square) else { throw WorkbenchError("\(source): square \(base.square) is not a square (0…63)") }
        let replay = try GameReplay(moves: base.moves, source: source)
        let last = replay.steps.last!
        guard let player = last.next else {
            throw WorkbenchError("\(source): the game is over after the prefix; nobody moves, so there is nothing to predict")
        }
        let bit = UInt64(1) << UInt64(base.square)
        let label = SquareNotation.othelloGPT.label(base.square)
        if base.edit.needsDisc && last.board.empty & bit != 0 {
            throw WorkbenchError("\(source): square \(label) is empty after the prefix; a mine/theirs flip (or making it empty) needs a disc there")
        }
        if !base.edit.needsDisc && last.board.empty & bit == 0 {
            throw WorkbenchError("\(source): square \(label) is occupied after the prefix; putting a disc there (\"edit\": \"\(base.edit.rawValue)\") needs an empty square")
        }
        let edited = Self.edit(last.board, square: base.square, base.edit, player: player)
        self.base = base
        steps = replay.steps
        self.player = player
        legalBefore = last.legalMoves
        legalAfter = edited.legalMoves(player)
        guard legalAfter != 0 else {
            throw WorkbenchError("\(source): after the edit of \(label) the player to move has no legal move, so there is nothing to score; choose another square")
        }
        // A centre disc never played or flipped has had its colour since the start: every position.
        editStart = replay.steps.lastIndex { $0.move == base.square || $0.flipped & bit != 0 } ?? 0
    }

    /// The board after move `position` with the square's disc flipped or removed (for positions from `editStart` on).
    /// (A placed disc has the colour of `player`, or of the opponent, at every position.)
    public func editedBoard(at position: Int) -> Board { Self.edit(steps[position].board, square: square, base.edit, player: player) }

    /// The colour of the disc a `mine` / `theirs` edit puts on the square (nil for the other edits).
    public var placedColour: Player? { base.edit == .mine ? player : base.edit == .theirs ? player.opponent : nil }

    /// `board` with `edit` applied to `square`; `player` is the player to move after the prefix.
    static func edit(_ board: Board, square: Int, _ edit: BoardEdit, player: Player) -> Board {
        var board = board
        let bit = UInt64(1) << UInt64(square)
        switch edit {
        case .mine, .theirs:
            if (edit == .mine) == (player == .black) { board.black |= bit } else { board.white |= bit }
        case .flip:
            board.black ^= bit
            board.white ^= bit
        case .empty:
            board.black &= ~bit
            board.white &= ~bit
        }
        return board
    }
}

public enum InterventionCases {
    /// Reads a JSON Lines case file; a malformed line is an error naming the file and the line.
    public static func read(from url: URL) throws -> [InterventionCase] {
        try read(data: readFile(url), source: url.path)
    }

    /// Reads the bytes of a case file (see `read(from:)`); `source` names the file in errors.
    public static func read(data: Data, source: String) throws -> [InterventionCase] {
        let text = try utf8Text(data, source: source)
        var cases: [InterventionCase] = []
        // Lines end in "\n" or "\r\n" (one Character, which "\n" alone would not split).
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            let place = "\(source), line \(index + 1)"
            guard let object = (try? JSONSerialization.jsonObject(with: Data(trimmed.utf8))) as? [String: Any] else {
                throw WorkbenchError("\(place): not a JSON object; each line is {\"moves\": [...], \"square\": ...}")
            }
            cases.append(try parse(object, place: place))
        }
        guard !cases.isEmpty else { throw WorkbenchError("\(source): no cases in the file") }
        return cases
    }

    /// One case from a decoded JSON object `{"moves": [...], "square": ..., "edit": ...}` (a case file's line, or a
    /// request of the live explorer); `place` names it in errors.
    public static func parse(_ object: [String: Any], place: String) throws -> InterventionCase {
        guard let moveValues = object["moves"] as? [Any] else { throw WorkbenchError("\(place): no \"moves\" list") }
        guard let squareValue = object["square"] else { throw WorkbenchError("\(place): no \"square\"") }
        var edit = BoardEdit.flip
        if let name = object["edit"] {
            guard let text = name as? String, let value = BoardEdit(rawValue: text) else {
                throw WorkbenchError("\(place): \"edit\" must be \"flip\", \"empty\", \"mine\" or \"theirs\", got \(name)")
            }
            edit = value
        }
        return InterventionCase(moves: try moves(moveValues, place: place), square: try square(squareValue, place: place), edit: edit)
    }

    /// A list of moves as square indices or labels.
    public static func moves(_ values: [Any], place: String) throws -> [Int] {
        try values.map { try square($0, place: place) }
    }

    /// A square as an index 0…63 or a label (A0…H7).
    public static func square(_ value: Any, place: String) throws -> Int {
        if let label = value as? String {
            guard let square = SquareNotation.othelloGPT.square(ifValid: label) else {
                throw WorkbenchError("\(place): \"\(label)\" is not a square label (A0…H7, row letter and 0-based column)")
            }
            return square
        }
        guard let number = value as? NSNumber, let square = Int(exactly: number.doubleValue), (0..<64).contains(square) else {
            throw WorkbenchError("\(place): \(value) is not a square (0…63 or a label such as C3)")
        }
        return square
    }

    /// Writes cases as JSON Lines (squares as indices, with labels beside them for people), atomically.
    public static func write(_ cases: [InterventionCase], to url: URL) throws {
        var text = ""
        for c in cases {
            let edit = c.edit == .flip ? "" : ", \"edit\": \"\(c.edit.rawValue)\""
            text += "{\"moves\": [\(c.moves.map(String.init).joined(separator: ", "))], \"square\": \(c.square), \"label\": \"\(SquareNotation.othelloGPT.label(c.square))\"\(edit)}\n"
        }
        try AtomicFile.write(Data(text.utf8), to: url)
    }

    /// `count` cases drawn with `seed` from `games`: a game, a position within the model's `maxPositions` after which
    /// the game goes on, and an occupied square other than the last move whose flip changes the legal-move set of
    /// the player to move (and leaves that player a legal move); with `edit: .empty`, whose removal does; with
    /// `.mine` / `.theirs`, an empty square on which such a disc does.
    public static func generate(from games: GameDataset, count: Int, seed: UInt64, maxPositions: Int,
                                edit: BoardEdit = .flip) throws -> [InterventionCase] {
        guard count >= 1 else { throw WorkbenchError("--count must be at least 1") }
        guard games.count > 0 else { throw WorkbenchError("no games to draw cases from; give a games file with games in it") }
        var random = SeededRandom(seed: seed, stream: 31)
        var cases: [InterventionCase] = []
        var attempts = 0
        while cases.count < count {
            attempts += 1
            guard attempts <= 100 * count + 1000 else {
                throw WorkbenchError("found only \(cases.count) of \(count) cases whose flip changes the legal moves in \(attempts) tries; give more or longer games")
            }
            let game = games[random.next(below: games.count)]
            let positions = min(game.count, maxPositions)
            guard positions >= 1 else { continue }
            let prefix = Array(game.prefix(random.next(below: positions) + 1))
            guard let steps = try? GameReplay(moves: prefix).steps, let last = steps.last, let player = last.next else { continue }
            let candidates = edit.needsDisc ? Bitboard.squares(~last.board.empty).filter { $0 != last.move } : Bitboard.squares(last.board.empty)
            let useful = candidates.filter { square in
                let after = PreparedCase.edit(last.board, square: square, edit, player: player).legalMoves(player)
                return after != last.legalMoves && after != 0
            }
            guard !useful.isEmpty else { continue }
            cases.append(InterventionCase(moves: prefix, square: useful[random.next(below: useful.count)], edit: edit))
        }
        return cases
    }
}
