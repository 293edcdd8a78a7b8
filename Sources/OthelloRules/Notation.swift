import WorkbenchSupport

/// The three ways squares are written in the Othello-GPT literature and in recorded games.
///
/// Inside the workbench a square is an `Int` index `8*row + col`, row 0...7 from the top, col 0...7 from
/// the left, as in Li et al.'s `othello_world` (the starting discs are white on 27 and 36, black on 28
/// and 35). The notations differ in which coordinate the letter names:
///
/// | notation       | square 37 | letter | number          | used by                                 |
/// |----------------|-----------|--------|-----------------|-----------------------------------------|
/// | `.othelloGPT`  | `E5`      | row    | column, 0...7   | TransformerLens / Nanda's notebooks     |
/// | `.li`          | `e6`      | row    | column, 1...8   | Li et al.'s `othello_world`             |
/// | `.standard`    | `f5`      | column | row, 1...8      | tournament play, WTHOR, PGN             |
///
/// Standard notation maps to squares with **no transposition**: the letter is the column and the digit
/// the row, so `f5` is row 4, column 5, square 37. The standard start position (white d4 e5, black d5 e4)
/// is then exactly the model's, and black's four openings d3, c4, f5, e6 are squares 19, 26, 37, 44.
///
/// Parsing ignores case; printing uses upper case for `.othelloGPT` and lower case otherwise.
///
///     SquareNotation.standard.label(37)          // "f5"
///     try SquareNotation.othelloGPT.square("E5") // 37
///     SquareNotation.li.square(ifValid: "z9")    // nil
public enum SquareNotation: String, CaseIterable, Sendable {
    /// Row letter A...H and 0-indexed column: `A0`...`H7` (TransformerLens notebooks).
    case othelloGPT
    /// Row letter a...h and 1-indexed column: `a1`...`h8` (Li et al.'s `othello_world`).
    case li
    /// Column letter a...h and row digit 1...8: `a1`...`h8` (tournament notation, WTHOR, PGN).
    case standard

    /// A short name for messages.
    public var name: String {
        switch self {
        case .othelloGPT: return "Othello-GPT (row letter A-H, column 0-7, e.g. E5)"
        case .li: return "Li et al. (row letter a-h, column 1-8, e.g. e6)"
        case .standard: return "standard (column letter a-h, row 1-8, e.g. f5)"
        }
    }

    /// The label of `square` (0...63); a value off the board prints as `#value`.
    public func label(_ square: Int) -> String {
        guard (0..<64).contains(square) else { return "#\(square)" }
        let row = square >> 3, col = square & 7
        let letters = Array("abcdefgh")
        switch self {
        case .othelloGPT: return "\(letters[row].uppercased())\(col)"
        case .li: return "\(letters[row])\(col + 1)"
        case .standard: return "\(letters[col])\(row + 1)"
        }
    }

    /// The square a label names, or nil when `label` is not a square in this notation.
    public func square<S: StringProtocol>(ifValid label: S) -> Int? {
        square(utf8: label.utf8)
    }

    /// The square named by the UTF-8 bytes of a label, or nil.
    func square<C: Collection>(utf8 label: C) -> Int? where C.Element == UInt8 {
        guard label.count == 2, let first = label.first, let second = label.dropFirst().first else { return nil }
        let letter = Int(first | 0x20) - Int(UInt8(ascii: "a"))   // lower-cased
        let digit = Int(second) - Int(UInt8(ascii: "0"))
        guard (0..<8).contains(letter) else { return nil }
        switch self {
        case .othelloGPT:
            guard (0..<8).contains(digit) else { return nil }
            return 8 * letter + digit
        case .li:
            guard (1...8).contains(digit) else { return nil }
            return 8 * letter + digit - 1
        case .standard:
            guard (1...8).contains(digit) else { return nil }
            return 8 * (digit - 1) + letter
        }
    }

    /// The square a label names; throws a `WorkbenchError` naming the notation otherwise.
    public func square<S: StringProtocol>(_ label: S) throws -> Int {
        guard let square = square(ifValid: label) else {
            throw WorkbenchError("'\(label)' is not a square in \(name) notation")
        }
        return square
    }
}

/// The conventional printed form of a square for messages: Othello-GPT label, index and standard label.
///
///     describeSquare(37)   // "E5 (square 37, standard f5)"
func describeSquare(_ square: Int) -> String {
    "\(SquareNotation.othelloGPT.label(square)) (square \(square), standard \(SquareNotation.standard.label(square)))"
}
