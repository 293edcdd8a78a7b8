import OthelloRules
import WorkbenchSupport

/// What a probe reads off the residual stream: for each of the 64 squares one of a few classes, computed by
/// the rules engine from the position after the move at that token position.
///
/// | basis | classes (in order) | the question |
/// |---|---|---|
/// | `colour` | empty, black, white | Li et al.'s board |
/// | `relative` | empty, theirs, mine — "mine" = the player who moves **next** | Nanda's board |
/// | `mover` | empty, theirs, mine — "mine" = the player who **just moved** | the same from the other side |
/// | `empty` | occupied, empty | is the square empty? |
/// | `flipped` | no, yes | did this move flip the square? |
/// | `legal` | no, yes | is the square a legal next move? |
/// | `played` | no, yes | is the square the move just played? |
///
/// Passes are inferred from the rules (never from move parity): after a pass "the player who moves next" is
/// the one who just moved. At the end of a game (nobody moves) it is the opponent of the last mover.
public enum ProbeBasis: String, CaseIterable, Codable, Sendable {
    case colour, relative, mover, empty, flipped, legal, played

    /// The class names in class-index order.
    public var classNames: [String] {
        switch self {
        case .colour: return ["empty", "black", "white"]
        case .relative, .mover: return ["empty", "theirs", "mine"]
        case .empty: return ["occupied", "empty"]
        case .flipped, .legal, .played: return ["no", "yes"]
        }
    }

    /// The number of classes per square.
    public var classCount: Int { classNames.count }

    /// Whether the basis reads the whole board in three classes (colour, relative, mover).
    public var isBoard: Bool { classCount == 3 }

    /// A basis from its name; throws a one-line error listing the choices.
    public init(name: String) throws {
        let aliases = ["color": "colour", "mine-theirs": "relative", "mine_theirs": "relative", "flip": "flipped"]
        guard let basis = ProbeBasis(rawValue: aliases[name] ?? name) else {
            throw WorkbenchError("unknown probe basis \"\(name)\"; choose one of \(ProbeBasis.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = basis
    }

    /// Writes the 64 class indices of `position` into `labels`.
    @inlinable
    public func labels(of position: ProbePosition, into labels: UnsafeMutablePointer<UInt8>) {
        let board = position.board
        switch self {
        case .colour:
            for square in 0..<64 {
                let bit = UInt64(1) << UInt64(square)
                labels[square] = board.black & bit != 0 ? 1 : board.white & bit != 0 ? 2 : 0
            }
        case .relative, .mover:
            let mine = self == .relative ? position.perspective : position.mover
            let (own, other) = mine == .black ? (board.black, board.white) : (board.white, board.black)
            for square in 0..<64 {
                let bit = UInt64(1) << UInt64(square)
                labels[square] = own & bit != 0 ? 2 : other & bit != 0 ? 1 : 0
            }
        case .empty: Self.writeBits(board.empty, into: labels)
        case .flipped: Self.writeBits(position.flipped, into: labels)
        case .legal: Self.writeBits(position.legalMoves, into: labels)
        case .played: Self.writeBits(UInt64(1) << UInt64(position.move), into: labels)
        }
    }

    @inlinable
    static func writeBits(_ bits: UInt64, into labels: UnsafeMutablePointer<UInt8>) {
        for square in 0..<64 { labels[square] = UInt8(truncatingIfNeeded: (bits >> UInt64(square)) & 1) }
    }
}

/// One probed position: token position `position` of game `game` (the model has read moves 0…position), and
/// the rules engine's account of the position after that move.
public struct ProbePosition: Hashable, Sendable {
    /// The game's index in the dataset.
    public var game: Int
    /// The token position (= the index of the move just played).
    public var position: Int
    /// The square just played.
    public var move: Int
    public var board: Board
    public var flipped: UInt64
    public var legalMoves: UInt64
    /// Who just moved.
    public var mover: Player
    /// Who moves next (passes inferred), nil at the end of the game.
    public var next: Player?

    /// "Mine" of the relative basis: the player who moves next, or at the end the opponent of the last mover.
    public var perspective: Player { next ?? mover.opponent }

    public init(game: Int, position: Int, step: GameStep) {
        self.game = game
        self.position = position
        move = step.move
        board = step.board
        flipped = step.flipped
        legalMoves = step.legalMoves
        mover = step.player
        next = step.next
    }
}
