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
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw WorkbenchError("\(url.path): cannot read the file as UTF-8 text (\(error.localizedDescription))")
        }
        return try parse(text, file: url.path)
    }

    /// Parses PGN text; `file` names it in error messages.
    public static func parse(_ text: String, file: String) throws -> [Game] {
        var games: [Game] = []
        var current: Game?
        var inComment = false
        for (lineIndex, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            let place = "\(file): line \(lineIndex + 1)"
            if !inComment, line.hasPrefix("[") {
                // A tag after moves starts the next game.
                if let game = current, !game.moves.isEmpty {
                    games.append(game)
                    current = nil
                }
                guard line.hasSuffix("]"), let quote = line.firstIndex(of: "\""), line.dropLast().hasSuffix("\"") else {
                    throw WorkbenchError("\(place): malformed tag \(line); expected [Name \"value\"]")
                }
                let name = line[line.index(after: line.startIndex)..<quote].trimmingCharacters(in: .whitespaces)
                let value = String(line[line.index(after: quote)..<line.index(line.endIndex, offsetBy: -2)])
                current = current ?? Game(tags: [:], moves: [])
                current?.tags[name] = value
                continue
            }
            for token in line.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
                if inComment {
                    if token.contains("}") { inComment = false }
                    continue
                }
                if token.hasPrefix("{") {
                    inComment = !token.contains("}")
                    continue
                }
                if isMoveNumber(token) || isResult(token) { continue }
                let gameIndex = games.count
                let moveNumber = (current?.moves.count ?? 0) + 1
                guard let square = SquareNotation.standard.square(ifValid: token) else {
                    throw WorkbenchError("\(place) (game \(gameIndex), move \(moveNumber)): '\(token)' is not a square in standard notation (column a-h, row 1-8, e.g. F5)")
                }
                current = current ?? Game(tags: [:], moves: [])
                current?.moves.append(square)
            }
        }
        if let game = current, !game.moves.isEmpty { games.append(game) }
        return games
    }

    /// `12.` or `12...`
    private static func isMoveNumber(_ token: Substring) -> Bool {
        let digits = token.prefix(while: \.isNumber)
        return !digits.isEmpty && token.dropFirst(digits.count).allSatisfy { $0 == "." }
            && token.count > digits.count
    }

    /// `33-31`, `*`, `1-0`, `0-1`, `1/2-1/2`
    private static func isResult(_ token: Substring) -> Bool {
        token == "*" || token.split(separator: "-").count == 2 && token.allSatisfy { $0.isNumber || $0 == "-" || $0 == "/" }
    }
}
