import Foundation
import WorkbenchSupport

/// A WTHOR `.wtb` game database, the format of the Fédération Française d'Othello's archive of
/// recorded tournament games.
///
/// Layout (little-endian): a 16-byte header (creation date, `u32` game count, `u16` 0, `u16` year,
/// board size, game type, depth, reserved), then one 68-byte record per game: tournament, black and
/// white player indices (`u16`), black's final disc count (empties to the winner), the theoretical
/// score, and 60 move bytes `10*row + col` in standard notation (`56` = f5), 0 after the last move.
/// Passes are not recorded.
///
///     let file = try WTHORFile.read(from: URL(fileURLWithPath: "Games/WTH_2025.wtb"))
///     file.year                  // 2025
///     file.games[0].moves        // squares: [37, 43, ...]
///     file.games[0].blackDiscs   // black's recorded final score
public struct WTHORFile: Sendable {
    /// One recorded game.
    public struct Game: Sendable, Equatable {
        /// Index into the tournament list (`WTHOR.TRN`, not read here).
        public var tournament: Int
        /// Indices into the player list (`WTHOR.JOU`, not read here).
        public var blackPlayer: Int
        public var whitePlayer: Int
        /// Black's disc count at the end, empties counted for the winner.
        public var blackDiscs: Int
        /// Black's score with perfect play from the position searched by the database's tool.
        public var theoreticalScore: Int
        /// The moves as squares (standard `f5` is square 37), passes not included.
        public var moves: [Int]
    }

    /// The year of the games.
    public var year: Int
    public var games: [Game]

    static let headerSize = 16
    static let recordSize = 68

    /// Reads and checks the file's structure (size, move bytes); legality is checked by `GameDataset`
    /// or `GameReplay`.
    public static func read(from url: URL) throws -> WTHORFile {
        try parse([UInt8](readFile(url)), file: url.path)
    }

    /// Parses the bytes of a `.wtb` file; `file` names it in error messages.
    public static func parse(_ bytes: [UInt8], file: String) throws -> WTHORFile {
        guard bytes.count >= headerSize else {
            throw WorkbenchError("\(file): truncated WTHOR file: \(bytes.count) bytes, the header alone is 16")
        }
        func u16(_ offset: Int) -> Int { Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 }
        let count = u16(4) | u16(6) << 16
        let year = u16(10)
        let boardSize = Int(bytes[12])
        guard boardSize == 0 || boardSize == 8 else {
            throw WorkbenchError("\(file): board size \(boardSize) in the header; only 8×8 games are supported")
        }
        let expected = headerSize + recordSize * count
        guard bytes.count == expected else {
            throw WorkbenchError("\(file): \(bytes.count < expected ? "truncated" : "malformed") WTHOR file: the header announces \(count) games (\(expected) bytes), the file has \(bytes.count) bytes")
        }
        var games: [Game] = []
        games.reserveCapacity(count)
        for index in 0..<count {
            let base = headerSize + recordSize * index
            var moves: [Int] = []
            moves.reserveCapacity(60)
            for move in 0..<60 {
                let byte = Int(bytes[base + 8 + move])
                if byte == 0 {
                    if let late = (move..<60).first(where: { bytes[base + 8 + $0] != 0 }) {
                        throw WorkbenchError("\(file): game \(index), move \(late + 1): move byte \(bytes[base + 8 + late]) after the end of the game (byte 0 at move \(move + 1))")
                    }
                    break
                }
                let row = byte / 10, col = byte % 10
                guard (1...8).contains(row), (1...8).contains(col) else {
                    throw WorkbenchError("\(file): game \(index), move \(move + 1): byte \(byte) is not a square (expected 10*row + col, row and col 1-8)")
                }
                moves.append(8 * (row - 1) + (col - 1))
            }
            games.append(Game(tournament: u16(base), blackPlayer: u16(base + 2), whitePlayer: u16(base + 4),
                              blackDiscs: Int(bytes[base + 6]), theoreticalScore: Int(bytes[base + 7]), moves: moves))
        }
        return WTHORFile(year: year, games: games)
    }
}
