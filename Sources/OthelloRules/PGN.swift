import Foundation
import WorkbenchSupport

/// Othello games in PGN: tag lines `[Name "value"]` (`Event`, `Date`, `Black`, `White`, `Result "B-W"`
/// with the final disc counts), then numbered moves in standard notation, `1. F5 D6 2. C3 ...`
/// (letter = column, digit = row; `f5` is square 37). Passes are not written. `{comments}`, move
/// numbers and a result token (`33-31`, `*`) in the move text are skipped.
///
///     let games = try PGNFile.read(from: URL(fileURLWithPath: "Games/WTH_2025.pgn"))
///     games[0].tags["Black"]      // "Ogura Ryutaro"
///     games[0].recordedScore      // (black: 31, white: 33)
///     games[0].moves              // [37, 43, 34, ...]
public enum PGNFile {
    /// One game of a PGN file.
    public struct Game: Sendable, Equatable {
        /// The tags, by name.
        public var tags: [String: String]
        /// The moves as squares, passes not included.
        public var moves: [Int]

        /// The final disc counts of the `Result` tag (`"31-33"`), if present and numeric.
        public var recordedScore: (black: Int, white: Int)? {
            guard let parts = tags["Result"]?.split(separator: "-"), parts.count == 2,
                  let black = Int(parts[0]), let white = Int(parts[1]) else { return nil }
            return (black, white)
        }
    }

    /// Reads every game of a PGN file; throws naming the file, line, game (from 0) and move (from 1)
    /// for an unknown square or a malformed tag.
    public static func read(from url: URL) throws -> [Game] {
        try parse(readTextFile(url), file: url.path)
    }

    /// Parses PGN text; `file` names it in error messages.
    public static func parse(_ text: String, file: String) throws -> [Game] {
        var games: [Game] = []
        var current = Game(tags: [:], moves: [])
        let bytes = Array(text.utf8)
        let newline = UInt8(ascii: "\n")
        func isSpace(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") || byte == newline
        }
        var line = 1
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if isSpace(byte) {
                if byte == newline { line += 1 }
                index += 1
            } else if byte == UInt8(ascii: "{") {   // a comment, up to the closing brace
                while index < bytes.count, bytes[index] != UInt8(ascii: "}") {
                    if bytes[index] == newline { line += 1 }
                    index += 1
                }
                index += 1
            } else if byte == UInt8(ascii: "[") {   // a tag, to the end of the line; after moves, a new game
                let end = bytes[index...].firstIndex(of: newline) ?? bytes.count
                if !current.moves.isEmpty {
                    games.append(current)
                    current = Game(tags: [:], moves: [])
                }
                let (name, value) = try tag(String(decoding: bytes[index..<end], as: UTF8.self), place: "\(file): line \(line)")
                current.tags[name] = value
                index = end
            } else {   // a move, a move number or a result
                var end = index
                while end < bytes.count, !isSpace(bytes[end]) { end += 1 }
                if let square = SquareNotation.standard.square(utf8: bytes[index..<end]) {
                    current.moves.append(square)
                } else {
                    let word = String(decoding: bytes[index..<end], as: UTF8.self)
                    guard isMoveNumber(word) || isResult(word) else {
                        throw WorkbenchError("\(file): line \(line) (game \(games.count), move \(current.moves.count + 1)): '\(word)' is not a square in standard notation (column a-h, row 1-8, e.g. F5)")
                    }
                }
                index = end
            }
        }
        if !current.moves.isEmpty { games.append(current) }
        return games
    }

    /// The name and value of a tag line `[Name "value"]`.
    private static func tag(_ text: String, place: String) throws -> (String, String) {
        let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard line.hasSuffix("\"]"), let quote = line.firstIndex(of: "\""), quote < line.index(line.endIndex, offsetBy: -2) else {
            throw WorkbenchError("\(place): malformed tag \(line); expected [Name \"value\"]")
        }
        let name = line[line.index(after: line.startIndex)..<quote].trimmingCharacters(in: .whitespaces)
        return (name, String(line[line.index(after: quote)..<line.index(line.endIndex, offsetBy: -2)]))
    }

    /// `12.` or `12...`
    private static func isMoveNumber(_ token: String) -> Bool {
        let digits = token.prefix(while: \.isNumber)
        return !digits.isEmpty && token.count > digits.count && token.dropFirst(digits.count).allSatisfy { $0 == "." }
    }

    /// `33-31`, `*`, `1-0`, `0-1`, `1/2-1/2`
    private static func isResult(_ token: String) -> Bool {
        token == "*" || token.split(separator: "-").count == 2 && token.allSatisfy { $0.isNumber || $0 == "-" || $0 == "/" }
    }
}
