import Foundation
import WorkbenchSupport

/// Games read with the rules engine (every move checked legal) and turned into model tokens: the first
/// `positions` moves of each game, padded with token 0 (the TransformerLens Othello convention).
public struct TokenizedGames {
    public let dataset: GameDataset
    /// The dataset indices of the chosen games.
    public let indices: [Int]
    public let positions: Int
    /// `count × positions` tokens, row-major.
    public let tokens: [Int32]
    public var count: Int { indices.count }

    public init(path: String, positions: Int, limit: Int? = nil, only game: Int? = nil) throws {
        let dataset = try GameDataset.read(from: URL(fileURLWithPath: path))
        var indices = Array(0..<dataset.count)
        guard dataset.count > 0 else { throw WorkbenchError("\(path): the file holds no games; pass a games file with at least one") }
        if let game {
            guard indices.contains(game) else { throw WorkbenchError("--game \(game): \(path) has games 0…\(dataset.count - 1)") }
            indices = [game]
        }
        if let limit {
            guard limit >= 1 else { throw WorkbenchError("--limit must be at least 1") }
            indices = Array(indices.prefix(limit))
        }
        let tokens = dataset.tokenBatch(indices, positions: positions)
        self.dataset = dataset
        self.indices = indices
        self.positions = positions
        self.tokens = tokens
    }

    /// The moves (squares) of the `row`-th chosen game.
    public func moves(_ row: Int) -> [Int] { dataset[indices[row]] }
}
