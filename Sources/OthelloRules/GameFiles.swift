import Foundation
import WorkbenchSupport

/// The game file formats, chosen by file extension.
///
/// - `.npy`: NumPy int8 array of shape `[N, 60]`, square indices 0...63, -1 after each game's end
///   (`numpy.load` reads it). Read and written.
/// - `.txt`: one game per line, Othello-GPT labels (`E5 F5 ...`) separated by spaces. Read and written.
/// - `.wtb`: WTHOR database of the Fédération Française d'Othello. Read only.
/// - `.pgn`: PGN with standard notation moves (`1. F5 D6 ...`). Read only.
public enum GameFileFormat: String, CaseIterable, Sendable {
    case npy, txt, wtb, pgn

    /// The format of `url` by its extension; throws naming the supported extensions otherwise.
    public init(url: URL, forWriting: Bool = false) throws {
        let formats: [GameFileFormat] = forWriting ? [.npy, .txt] : GameFileFormat.allCases
        guard let format = GameFileFormat(rawValue: url.pathExtension.lowercased()), formats.contains(format) else {
            let list = formats.map { "." + $0.rawValue }.joined(separator: ", ")
            throw WorkbenchError("\(url.path): cannot \(forWriting ? "write games to" : "read games from") a '.\(url.pathExtension)' file; use \(list)")
        }
        self = format
    }
}

extension GameDataset {
    /// Reads games from a `.npy`, `.txt`, `.wtb` or `.pgn` file (by extension), checking every move.
    ///
    ///     let games = try GameDataset.read(from: URL(fileURLWithPath: "Games/WTH_2025.wtb"))
    public static func read(from url: URL) throws -> GameDataset {
        let format = try GameFileFormat(url: url)
        return try read(data: readFile(url, mapped: format == .npy), format: format, source: url.path)
    }

    /// Reads games from the bytes of a file in `format`, checking every move; `source` names the file in errors.
    public static func read(data: Data, format: GameFileFormat, source: String) throws -> GameDataset {
        switch format {
        case .npy: return try readNPY(data, source: source)
        case .txt: return try readText(utf8Text(data, source: source), source: source)
        case .wtb: return try GameDataset(games: WTHORFile.parse([UInt8](data), file: source).games.map(\.moves), source: source)
        case .pgn: return try GameDataset(games: PGNFile.parse(utf8Text(data, source: source), file: source).map(\.moves), source: source)
        }
    }

    /// Writes the games as `.npy` or `.txt` (by extension), atomically, streaming (no copy of the whole dataset).
    public func write(to url: URL) throws {
        let format = try GameFileFormat(url: url, forWriting: true)
        try AtomicFile.write(to: url) { handle in
            switch format {
            case .npy:
                try handle.write(contentsOf: NPYArray.header(dtype: Int8.npyDType, shape: [count, Self.maxLength]))
                try squares.withUnsafeBytes { bytes in
                    let piece = 1 << 26
                    for start in stride(from: 0, to: bytes.count, by: piece) {
                        try handle.write(contentsOf: Data(UnsafeRawBufferPointer(rebasing: bytes[start..<min(start + piece, bytes.count)])))
                    }
                }
            default:
                let chunk = 10_000
                for first in stride(from: 0, to: count, by: chunk) {
                    let lines = (first..<min(first + chunk, count)).map { game in
                        self[game].map { SquareNotation.othelloGPT.label($0) }.joined(separator: " ") + "\n"
                    }
                    try handle.write(contentsOf: Data(lines.joined().utf8))
                }
            }
        }
    }

    private static func readNPY(_ data: Data, source: String) throws -> GameDataset {
        let array = try NPYArray.parse(data, file: source)
        guard array.dtype == Int8.npyDType else {
            throw WorkbenchError("\(source): expected dtype int8 (|i1), found \(array.dtype); convert with numpy: a.astype('int8')")
        }
        guard array.shape.count == 2, array.shape[1] == maxLength else {
            throw WorkbenchError("\(source): expected shape [N, 60] (one game per row, -1 after its end), found \(array.shape)")
        }
        return try GameDataset(squares: array.elements(of: Int8.self, file: source), source: source)
    }

    private static func readText(_ text: String, source: String) throws -> GameDataset {
        var games: [[Int]] = []
        // Lines end in "\n" or "\r\n" (one Character, which "\n" alone would not split).
        for (lineIndex, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let labels = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," })
            if labels.isEmpty { continue }
            var game: [Int] = []
            for (move, label) in labels.enumerated() {
                guard let square = SquareNotation.othelloGPT.square(ifValid: label) else {
                    throw WorkbenchError("\(source): line \(lineIndex + 1) (game \(games.count)), move \(move + 1): '\(label)' is not a square label A0...H7 (row letter, column 0-7)")
                }
                game.append(square)
            }
            games.append(game)
        }
        return try GameDataset(games: games, source: source)
    }
}
