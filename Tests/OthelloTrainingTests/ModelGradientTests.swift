import OthelloModel
import OthelloRules
@testable import OthelloTraining
import XCTest

/// The whole model's backward pass against finite differences of its loss, on a tiny config.
final class ModelGradientTests: XCTestCase {
    func testEveryWeightsGradientMatchesFiniteDifferences() throws {
        let config = try ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 32)
        let parameters = ModelParameters(config: config)
        parameters.initializeForTraining(seed: 3, initializerRange: 0.3)
        // Biases are zero at initialisation; give them values so their gradients are exercised in general position.
        for entry in parameters.layout.entries where !entry.isMatrix {
            let p = parameters.base + entry.offset
            for (i, x) in gaussian(entry.count, seed: UInt64(entry.offset), std: 0.1).enumerated() { p[i] = x }
        }
        // Three random games, two of them short, so padding is exercised.
        let games = RandomGames.generate(count: 3, seed: 5, threads: 1)
        let batch = TokenBatch(try GameDataset(games: [games[0], Array(games[1].prefix(12)), Array(games[2].prefix(40))]))
        let trainer = try Trainer(parameters: parameters, batchSize: 3, optimizer: AdamW.Settings(), threads: 1, gamesPerShard: 2)
        _ = try trainer.computeGradients(batch)
        let analytic = Array(UnsafeBufferPointer(start: trainer.gradientBuffer, count: parameters.count))
        for entry in parameters.layout.entries where !entry.name.hasSuffix("b_K") {   // b_K's gradient is exactly 0
            try checkGradient(entry.name, values: parameters.base + entry.offset, count: entry.count,
                              analytic: Array(analytic[entry.offset..<(entry.offset + entry.count)]),
                              samples: 6, h: 5e-3, tolerance: 2e-2, floor: 2e-5, seed: UInt64(entry.offset)) {
                try trainer.computeGradients(batch)
            }
        }
    }

    /// An attention-only model (no MLP weights) on a token stream that is not Othello's: 10 tokens, sequences of 9.
    func testAttentionOnlyGradientsOnAnotherTokenStream() throws {
        let config = try ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 0, dVocab: 10, nCtx: 8, attnOnly: true)
        let parameters = ModelParameters(config: config)
        XCTAssertFalse(parameters.layout.entries.contains { $0.name.contains("mlp") || $0.name.contains("ln2") })
        parameters.initializeForTraining(seed: 4, initializerRange: 0.3)
        for entry in parameters.layout.entries where !entry.isMatrix {
            let p = parameters.base + entry.offset
            for (i, x) in gaussian(entry.count, seed: UInt64(entry.offset), std: 0.1).enumerated() { p[i] = x }
        }
        let tokens: [Int32] = [3, 1, 4, 1, 5, 9, 2, 6, 5,   2, 7, 1, 8, 2, 8, 0, 0, 0,   1, 1, 2, 3, 5, 8, 3, 1, 4]
        let batch = try TokenBatch(tokens: tokens, games: 3, width: 9, vocabulary: 10)
        let trainer = try Trainer(parameters: parameters, batchSize: 3, optimizer: AdamW.Settings(), threads: 1, gamesPerShard: 2, positions: 8)
        _ = try trainer.computeGradients(batch)
        let analytic = Array(UnsafeBufferPointer(start: trainer.gradientBuffer, count: parameters.count))
        for entry in parameters.layout.entries where !entry.name.hasSuffix("b_K") {
            try checkGradient(entry.name, values: parameters.base + entry.offset, count: entry.count,
                              analytic: Array(analytic[entry.offset..<(entry.offset + entry.count)]),
                              samples: 6, h: 5e-3, tolerance: 2e-2, floor: 2e-5, seed: UInt64(entry.offset)) {
                try trainer.computeGradients(batch)
            }
        }
        // Sequences of another width, and tokens outside the vocabulary, are refused.
        XCTAssertThrowsError(try trainer.step(games: TokenBatch(RandomGames.generate(count: 3, seed: 1, threads: 1)), learningRate: 1e-3, maxGradNorm: 1))
        XCTAssertThrowsError(try TokenBatch(tokens: tokens.map { $0 == 9 ? 10 : $0 }, games: 3, width: 9, vocabulary: 10))
        XCTAssertThrowsError(try ModelConfig(nLayers: 1, dModel: 16, nHeads: 2, dMLP: 32, attnOnly: true))
    }

    func testStepIsTheSameOnAnyNumberOfThreads() throws {
        let config = try ModelConfig(nLayers: 1, dModel: 16, nHeads: 2, dMLP: 32)
        let batch = TokenBatch(RandomGames.generate(count: 10, seed: 9, threads: 1))
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            let parameters = ModelParameters(config: config)
            parameters.initializeForTraining(seed: 1)
            let trainer = try Trainer(parameters: parameters, batchSize: 10, optimizer: AdamW.Settings(), threads: threads, gamesPerShard: 3)
            for _ in 0..<2 { _ = try trainer.step(games: batch, learningRate: 1e-2, maxGradNorm: 1) }
            results.append(Array(parameters.buffer))
        }
        XCTAssertEqual(results[0], results[1])
        XCTAssertEqual(results[0], results[2])
    }
}
