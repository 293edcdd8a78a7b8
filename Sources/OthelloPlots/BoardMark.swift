/// A disc on the board.
public enum Disc: Sendable, Hashable {
    case black
    case white
}

/// A highlighted square on a board figure. Each style looks different and gets a legend entry:
///
/// - `played`: solid amber frame — the move just played;
/// - `edited`: black-and-white dashed frame — a square changed by an intervention;
/// - `predicted`: black ring with a white halo — the model's predicted move;
/// - `legal`: small grey dot — a legal move for the side to move.
///
///     BoardMark(37, .played)        // E5 = 8 × 4 + 5
public struct BoardMark: Sendable, Hashable {
    public enum Style: Sendable, Hashable, CaseIterable {
        case played
        case edited
        case predicted
        case legal

        /// The legend text used unless a figure gives its own.
        public var defaultLabel: String {
            switch self {
            case .played: return "last move"
            case .edited: return "edited"
            case .predicted: return "predicted"
            case .legal: return "legal move"
            }
        }
    }

    /// Square index 0...63: 8 × row + column, row A...H top to bottom, column 0...7 left to right.
    public var square: Int
    public var style: Style

    public init(_ square: Int, _ style: Style) {
        self.square = square
        self.style = style
    }
}

/// The Othello-GPT square labels: row letter A...H, then column digit 0...7 (square 37 = "E5").
enum SquareLabel {
    static let rows = ["A", "B", "C", "D", "E", "F", "G", "H"]

    /// "E5" for 37; nil outside 0...63.
    static func label(_ square: Int) -> String? {
        guard (0..<64).contains(square) else { return nil }
        return rows[square / 8] + String(square % 8)
    }
}
