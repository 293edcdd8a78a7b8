import Foundation
import WorkbenchSupport

/// Where a command's games come from: a game file (.npy, .txt, .wtb, .pgn; its first `limit` games), or fresh
/// seeded random games. Every games option group loads through it, so every command checks games the same way.
///
///     let games = try GameSource.random(count: 500, seed: 3, fullLength: false).load()
public enum GameSource: CustomStringConvertible {
    case file(String, limit: Int? = nil)
    case random(count: Int, seed: UInt64, fullLength: Bool)

    public func load() throws -> GameDataset {
        switch self {
        case .file(let path, let limit):
            var dataset = try GameDataset.read(from: URL(fileURLWithPath: path))
            if let limit {
                guard limit >= 1 else { throw WorkbenchError("--limit must be at least 1") }
                dataset = try GameDataset(games: Array(dataset.games.prefix(limit)), source: path)
            }
            guard dataset.count > 0 else { throw WorkbenchError("\(path): the file holds no games") }
            return dataset
        case .random(let count, let seed, let fullLength):
            guard count >= 1 else { throw WorkbenchError("--count must be at least 1, got \(count)") }
            return RandomGames.generate(count: count, seed: seed, fullLength: fullLength)
        }
    }

    /// The file's path, or "N random games (seed S)".
    public var description: String {
        switch self {
        case .file(let path, _): return path
        case .random(let count, let seed, _): return "\(count) random games (seed \(seed))"
        }
    }
}
