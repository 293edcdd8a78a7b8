import Foundation
@testable import OthelloInterventions
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport
import XCTest

final class PatchingAndAttributionTests: XCTestCase {
    let config = try! ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 32)

    func testPatchingRestoresExactlyWhereTheGamesDiffer() throws {
        let model = HookedTransformer.random(config: config, seed: 3, std: 0.3)
        let game = RandomGames.generate(count: 1, seed: 9, fullLength: true)[0]
        let clean = Array(game.prefix(20))
        let corrupted = try XCTUnwrap(ActivationPatching.corrupt(clean, at: 19))
        XCTAssertEqual(Array(corrupted.prefix(19)), Array(clean.prefix(19)))
        XCTAssertNotEqual(corrupted[19], clean[19])
        let result = try ActivationPatching.run(model: model, clean: clean, corrupted: corrupted, kind: .residPre, token: 5, batchSize: 7)
        XCTAssertEqual(result.rows, ["L0", "L1"])
        // resid_pre of block 0 at the last position is all that differs: patching it makes the clean run.
        XCTAssertEqual(result.normalised[0][19], 1, accuracy: 1e-4)
        // (To float noise: the patched runs are batched, the references are not, and sgemm sums batches of other
        // shapes in another order; the random model's metric spans little, so the normalised noise reaches 1e-5.)
        for p in 0..<19 { XCTAssertEqual(result.normalised[0][p], 0, accuracy: 1e-4, "earlier positions are the same in both runs") }
        let heads = try ActivationPatching.run(model: model, clean: clean, corrupted: corrupted, kind: .z, token: 5)
        XCTAssertEqual(heads.rows, ["L0H0", "L0H1", "L1H0", "L1H1"])
        XCTAssertThrowsError(try ActivationPatching.run(model: model, clean: clean, corrupted: Array(corrupted.prefix(10)), kind: .residPre, token: 5))
    }

    func testPatchingAnEarlierMoveAndAveragingOverPairs() throws {
        let model = HookedTransformer.random(config: config, seed: 3, std: 0.3)
        let games = RandomGames.generate(count: 3, seed: 9, fullLength: true)
        let index = ActivationPatching.defaultCorruptionIndex(count: 20)
        XCTAssertEqual(index, 14, "five moves before the last")
        XCTAssertEqual(ActivationPatching.defaultCorruptionIndex(count: 3), 0)
        let clean = Array(games[0].prefix(20))
        let corrupted = try XCTUnwrap(ActivationPatching.corrupt(clean, at: index))
        let result = try ActivationPatching.run(model: model, clean: clean, corrupted: corrupted, kind: .residPre, token: 5, batchSize: 9)
        // Block 0's input differs only at the corrupted move: patching it there restores the clean run exactly;
        // before it, and at the last position (whose embedding is the same), it changes nothing.
        // (To float noise, as above.)
        XCTAssertEqual(result.normalised[0][index], 1, accuracy: 1e-3)
        for p in 0..<index { XCTAssertEqual(result.normalised[0][p], 0, accuracy: 1e-3) }
        XCTAssertEqual(result.normalised[0][19], 0, accuracy: 1e-3)
        // The average of one pair is that pair (with its own default target); of two, the mean of the two.
        let pairs = ActivationPatching.pairs(from: games, count: 3, moves: 20, corruptAt: index)
        XCTAssertEqual(pairs.count, 3)
        XCTAssertEqual(pairs[0].clean, clean)
        XCTAssertEqual(pairs[0].corrupted, corrupted)
        let single = try ActivationPatching.run(model: model, clean: pairs[0].clean, corrupted: pairs[0].corrupted, kind: .residPre,
                                                token: try ActivationPatching.defaultTarget(model: model, clean: pairs[0].clean, corrupted: pairs[0].corrupted))
        let one = try ActivationPatching.average(model: model, pairs: [pairs[0]], kind: .residPre, minimumSpan: 0)
        XCTAssertEqual(one.pairs, 1)
        for (a, b) in zip(one.normalised.joined(), single.normalised.joined()) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        let second = try ActivationPatching.run(model: model, clean: pairs[1].clean, corrupted: pairs[1].corrupted, kind: .residPre,
                                                token: try ActivationPatching.defaultTarget(model: model, clean: pairs[1].clean, corrupted: pairs[1].corrupted))
        let two = try ActivationPatching.average(model: model, pairs: Array(pairs.prefix(2)), kind: .residPre, minimumSpan: 0)
        XCTAssertEqual(two.pairs, 2)
        let singleValues = Array(single.normalised.joined()), secondValues = Array(second.normalised.joined())
        for (i, mean) in two.normalised.joined().enumerated() { XCTAssertEqual(mean, (singleValues[i] + secondValues[i]) / 2, accuracy: 1e-12) }
        XCTAssertThrowsError(try ActivationPatching.average(model: model, pairs: pairs, kind: .residPre, minimumSpan: 1e9)) { error in
            XCTAssertTrue("\(error)".contains("--corrupt-at"), "\(error)")
        }
    }

    func testAttributionRanksNeuronsAndPatternsAreCausal() throws {
        let model = HookedTransformer.random(config: config, seed: 4, std: 0.3)
        let moves = Array(RandomGames.generate(count: 1, seed: 2)[0].prefix(12))
        let result = try DirectLogitAttribution.run(model: model, moves: moves, neurons: 3)
        XCTAssertEqual(result.heads.count, 2)
        XCTAssertEqual(result.neurons.count, 3)
        XCTAssertGreaterThanOrEqual(abs(result.neurons[0].attribution), abs(result.neurons[2].attribution))
        // A causal pattern: nothing above the diagonal, each row sums to 1.
        let pattern = try DirectLogitAttribution.pattern(model: model, moves: moves, layer: 1, head: 0)
        XCTAssertEqual(pattern.count, 12)
        XCTAssertNil(pattern[0][1])
        XCTAssertEqual(pattern[5].compactMap { $0 }.reduce(0, +), 1, accuracy: 1e-5)
    }

    func testSaliencyCoversTheOccupiedSquares() throws {
        let model = HookedTransformer.random(config: config, seed: 3, std: 0.3)
        let games = RandomGames.generate(count: 20, seed: 5, fullLength: true)
        let hook = try ProbeHook(layer: 1, config: config)
        let data = try ProbeData.collect(model: model, games: games, indices: Array(0..<20), hooks: [hook])
        let probe = try ProbeTrainer.train(kind: .linear, basis: .relative, hook: hook, on: data)
        let moves = Array(games[0].prefix(15))
        let result = try LatentSaliency.run(model: model, moves: moves, probes: [hook.point!: probe],
                                            plan: EditPlan(method: .direction(scale: 1), hooks: [hook.point!]))
        let board = try GameReplay(moves: moves).steps.last!.board
        XCTAssertEqual(result.drops.compactMap { $0 }.count, 64 - board.empty.nonzeroBitCount)
    }
}
