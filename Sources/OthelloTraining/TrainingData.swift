import Foundation
import OthelloRules
import WorkbenchSupport

/// A batch of token sequences for the trainer: `count × width` tokens, row-major; position t predicts token t + 1,
/// and a target 0 (padding) is not counted. Othello games are sequences of 60 move tokens (1...60, 0 after the
/// game's end); other streams (the induction-head toy) choose their width and vocabulary, keeping 0 as padding.
///
///     let batch = TokenBatch(RandomGames.generate(count: 128, seed: 1))
///     batch.countedTargets      // the next-move predictions the batch trains on
public struct TokenBatch: Sendable {
    public let count: Int
    /// Tokens per sequence: the model reads `width - 1` positions.
    public let width: Int
    /// `count × width` tokens, row-major.
    public private(set) var tokens: [Int32]

    /// The games `indices` of `dataset` (all of them by default), in that order.
    public init(_ dataset: GameDataset, indices: [Int]? = nil) {
        let indices = indices ?? Array(0..<dataset.count)
        width = GameDataset.maxLength
        count = indices.count
        tokens = dataset.tokenBatch(indices, positions: width)
    }

    /// A batch of `tokens` (`sequences × width` tokens, each in `0..<vocabulary`, 0 for padding) that need not be
    /// legal games; by default Othello's 60 move tokens of its 61-token vocabulary.
    public init(tokens: [Int32], games sequences: Int, width: Int = GameDataset.maxLength, vocabulary: Int = Vocabulary.size) throws {
        guard sequences >= 0, width >= 2, tokens.count == sequences * width else {
            throw WorkbenchError("token batch: \(tokens.count) tokens is not \(sequences) sequences of \(width) (a width of at least 2)")
        }
        if let bad = tokens.firstIndex(where: { $0 < 0 || Int($0) >= vocabulary }) {
            throw WorkbenchError("token batch: token \(tokens[bad]) of sequence \(bad / width) is outside 0..<\(vocabulary)")
        }
        count = sequences
        self.width = width
        self.tokens = tokens
    }

    /// The largest token of the batch (0 for an empty one).
    public var maxToken: Int32 { tokens.max() ?? 0 }

    /// The number of counted predictions: targets (tokens 1..<width) that are not padding.
    public var countedTargets: Int {
        var counted = 0
        for row in 0..<count {
            for t in 1..<width where tokens[row * width + t] != 0 { counted += 1 }
        }
        return counted
    }

    /// Writes the model inputs (tokens 0..<width-1) and next-token targets (tokens 1..<width) of `sequences`,
    /// packed `[sequences.count, width - 1]` at the start of `tokens` and `targets`.
    func writeInputsAndTargets(games sequences: Range<Int>, tokens inputs: inout [Int32], targets: inout [Int32]) {
        let T = width - 1
        for (row, s) in sequences.enumerated() {
            for t in 0..<T {
                inputs[row * T + t] = tokens[s * width + t]
                targets[row * T + t] = tokens[s * width + t + 1]
            }
        }
    }
}

/// Held-out games and, at every input position, the legal moves of the side to move next
/// (0 where the game is over): what `Trainer.legalMoveAccuracy` scores predictions against.
public struct EvaluationSet: Sendable {
    public let games: TokenBatch
    /// `games.count × 59` bitboards: the legal moves after moves 0...t of each game.
    public let legalMoves: [UInt64]
    /// The number of positions with a legal move (the denominator of the accuracy).
    public let predictions: Int

    /// The games of `dataset` with the legal moves at every position (replayed; `source` names them in errors).
    public init(_ dataset: GameDataset, source: String = "evaluation games") throws {
        let T = GameDataset.maxLength - 1
        games = TokenBatch(dataset)
        var legal = [UInt64](repeating: 0, count: dataset.count * T)
        for game in 0..<dataset.count {
            var t = 0
            try GameReplay.replay(dataset[game], source: "\(source), game \(game)") { step in
                if t < T { legal[game * T + t] = step.legalMoves }
                t += 1
            }
        }
        legalMoves = legal
        predictions = legal.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
    }

    /// The mean cross-entropy (nats) of predicting each next move uniformly among the legal moves:
    /// the lowest loss a model can reach on uniformly random games (Li et al.'s synthetic data).
    public var uniformLegalMoveLoss: Double {
        let total = legalMoves.reduce(0.0) { $1 == 0 ? $0 : $0 + log(Double($1.nonzeroBitCount)) }
        return predictions > 0 ? total / Double(predictions) : 0
    }
}

/// Where the training games come from, and the held-out games the run is evaluated on.
///
/// - `.synthetic`: Li et al.'s uniformly random legal games, fresh every step: the games of step s
///   come from a seed derived from (seed, s), so a resumed run sees exactly the games it would have
///   seen; the evaluation games come from a seed of their own.
/// - `.file`: the games of a file; `evaluationGames` of them (chosen by the seed) are held out, the
///   rest is shuffled afresh every epoch (seeded by the epoch number).
///
///     let data = try TrainingGames(source: .synthetic, seed: 1, evaluationGames: 512)
///     let batch = data.batch(step: 0, size: 128)
public final class TrainingGames {
    public enum Source: Equatable, Codable {
        case synthetic
        case file(path: String)
    }

    public let source: Source
    public let seed: UInt64
    public let evaluation: EvaluationSet
    /// The games of a file source (nil for synthetic games), and the indices trained on.
    private let dataset: GameDataset?
    private let trainingIndices: [Int]
    private var epochOrder: (epoch: Int, order: [Int])?

    /// The games of `source`: for a file, read and split into training and `evaluationGames` held-out games
    /// (at most a tenth of the file); for synthetic games, `evaluationGames` held-out random games.
    public init(source: Source, seed: UInt64, evaluationGames: Int) throws {
        self.source = source
        self.seed = seed
        switch source {
        case .synthetic:
            dataset = nil
            trainingIndices = []
            let evaluationSeed = Self.derivedSeed(seed, stream: UInt64.max)
            evaluation = try EvaluationSet(RandomGames.generate(count: evaluationGames, seed: evaluationSeed, threads: 1))
        case .file(let path):
            let games = try GameDataset.read(from: URL(fileURLWithPath: path))
            guard games.count >= 2 else {
                throw WorkbenchError("\(path): \(games.count) game(s); training needs at least 2 (one held out for evaluation)")
            }
            let held = min(evaluationGames, max(1, games.count / 10))
            var random = SeededRandom(seed: seed, stream: UInt64.max - 1)
            let order = Self.shuffled(Array(0..<games.count), random: &random)
            dataset = games
            trainingIndices = Array(order[held...])
            evaluation = try EvaluationSet(games, indices: Array(order[..<held]), source: path)
        }
    }

    /// The number of games trained on per epoch (nil for synthetic games, which never repeat).
    public var epochSize: Int? { dataset == nil ? nil : trainingIndices.count }

    /// The `size` games of step `step` (0-based): the same for the same seed, step and source.
    public func batch(step: Int, size: Int) -> TokenBatch {
        guard let dataset else {
            let stepSeed = Self.derivedSeed(seed, stream: UInt64(step))
            return TokenBatch(RandomGames.generate(count: size, seed: stepSeed, threads: 1))
        }
        let n = trainingIndices.count
        let indices = (0..<size).map { j -> Int in
            let i = step * size + j
            return order(epoch: i / n)[i % n]
        }
        return TokenBatch(dataset, indices: indices)
    }

    /// The training games in the order of epoch `epoch`.
    private func order(epoch: Int) -> [Int] {
        if let cached = epochOrder, cached.epoch == epoch { return cached.order }
        var random = SeededRandom(seed: seed, stream: UInt64(1) << 62 + UInt64(epoch))
        let order = Self.shuffled(trainingIndices, random: &random)
        epochOrder = (epoch, order)
        return order
    }

    /// The seed of one step's games (stream = step) or of the evaluation games (stream = UInt64.max).
    static func derivedSeed(_ seed: UInt64, stream: UInt64) -> UInt64 {
        var random = SeededRandom(seed: seed, stream: stream)
        return random.next()
    }

    /// A Fisher–Yates shuffle driven by `random`.
    static func shuffled(_ values: [Int], random: inout SeededRandom) -> [Int] {
        var values = values
        for i in stride(from: values.count - 1, to: 0, by: -1) {
            values.swapAt(i, random.next(below: i + 1))
        }
        return values
    }
}

extension EvaluationSet {
    /// The games `indices` of `dataset`.
    init(_ dataset: GameDataset, indices: [Int], source: String) throws {
        try self.init(GameDataset(games: indices.map { dataset[$0] }, source: source), source: source)
    }
}
