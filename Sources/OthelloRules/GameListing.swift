import Foundation
import WorkbenchSupport

/// One game of a game file as `games show` lists it: its moves in both notations (passes marked), tags and
/// recorded score (WTHOR, PGN), the final board and its score.
public enum GameListing {
    public struct Move: Codable, Sendable {
        public var number: Int
        public var player: String
        public var square: Int
        public var label: String
        public var standard: String
        public var afterPass: Bool
    }

    public struct Report: Codable, Sendable {
        public var file: String
        public var game: Int
        /// The number of games in the file.
        public var games: Int
        public var tags: [String: String]
        public var moves: [Move]
        public var complete: Bool
        /// Who moves next, nil when the game is over.
        public var next: String?
        public var black: Int
        public var white: Int
        public var recordedBlack: Int?
        /// The final board, rows A...H (standard rows 1...8), columns left to right: X black, O white, . empty.
        public var board: [String]
    }

    /// The game's moves, final board and score, as printed; and the final board.
    public static func read(file: String, game: Int) throws -> (report: Report, board: Board) {
        let url = URL(fileURLWithPath: file)
        // The moves of every game, and for recorded games the tags and black's recorded score.
        let games: [[Int]]
        var tags: [[String: String]] = []
        var recorded: [Int?] = []
        switch try GameFileFormat(url: url) {
        case .wtb:
            let records = try WTHORFile.read(from: url).games
            games = records.map(\.moves)
            recorded = records.map(\.blackDiscs)
            tags = records.map { ["Tournament index": "\($0.tournament)", "Black player index": "\($0.blackPlayer)",
                                  "White player index": "\($0.whitePlayer)"] }
        case .pgn:
            let records = try PGNFile.read(from: url)
            games = records.map(\.moves)
            recorded = records.map { $0.recordedScore?.black }
            tags = records.map(\.tags)
        case .npy, .txt:
            games = try GameDataset.read(from: url).games
        }
        guard (0..<games.count).contains(game) else {
            throw WorkbenchError("\(file): no game \(game); the file has \(games.count) games, numbered from 0")
        }
        let replay = try GameReplay(moves: games[game], source: "\(file): game \(game)")
        let moves = replay.steps.enumerated().map { index, step in
            Move(number: index + 1, player: "\(step.player)", square: step.move,
                 label: SquareNotation.othelloGPT.label(step.move), standard: SquareNotation.standard.label(step.move),
                 afterPass: index > 0 && replay.steps[index - 1].player == step.player)
        }
        let final = replay.finalPosition
        let score = final.isOver ? final.board.finalScore : (black: final.board.count(.black), white: final.board.count(.white))
        let report = Report(file: file, game: game, games: games.count, tags: tags.isEmpty ? [:] : tags[game],
                            moves: moves, complete: final.isOver, next: final.next.map { "\($0)" },
                            black: score.black, white: score.white, recordedBlack: recorded.isEmpty ? nil : recorded[game],
                            board: final.board.rows())
        return (report, final.board)
    }
}
