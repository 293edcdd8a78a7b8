import Foundation
@testable import OthelloCircuits
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport
import XCTest

/// Head scores and ablations, with hand-worked cases: a model whose attention is uniform (W_Q = W_K = 0).
final class HeadAnalysisTests: XCTestCase {
    func uniformAttentionModel() throws -> HookedTransformer {
        let config = try ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 32)
        let model = HookedTransformer.random(config: config, seed: 2, std: 0.3)
        let layout = model.parameters.layout
        for block in layout.blocks {
            for offset in [block.W_Q, block.W_K, block.b_Q, block.b_K] {
                let count = offset == block.b_Q || offset == block.b_K ? config.nHeads * config.dHead : config.nHeads * config.dModel * config.dHead
                (model.parameters.base + offset).update(repeating: 0, count: count)
            }
        }
        return model
    }

    func testUniformAttentionScoresByHand() throws {
        let model = try uniformAttentionModel()
        let games = RandomGames.generate(count: 3, seed: 1, fullLength: true)
        let scores = try HeadScores.compute(model: model, games: games)
        // Position q attends 1/(q+1) to each of positions 0…q.
        let T = 59
        let previous = (1..<T).map { 1 / Double($0 + 1) }.reduce(0, +) / Double(T - 1)
        let first = (0..<T).map { 1 / Double($0 + 1) }.reduce(0, +) / Double(T)
        let n = T / 2
        let duplicate = (0..<n).map { 1 / Double(n + $0 + 1) }.reduce(0, +) / Double(n)
        for l in 0..<2 {
            for h in 0..<2 {
                XCTAssertEqual(scores.previousMove[l][h], previous, accuracy: 1e-5)
                XCTAssertEqual(scores.firstPosition[l][h], first, accuracy: 1e-5)
                XCTAssertEqual(scores.mine[l][h] + scores.theirs[l][h], 1, accuracy: 1e-5)
                XCTAssertEqual(scores.duplicateToken[l][h], duplicate, accuracy: 1e-5)
                // By distance k: the mean over the positions q ≥ k of 1/(q+1); k = 1 is the previous move.
                for k in [0, 1, 10, 58] {
                    let expected = (k..<T).map { 1 / Double($0 + 1) }.reduce(0, +) / Double(T - k)
                    XCTAssertEqual(scores.byDistance[l][h][k], expected, accuracy: 1e-5, "distance \(k)")
                }
                XCTAssertEqual(scores.byDistance[l][h][1], previous, accuracy: 1e-9)
            }
        }
        // Mine by hand: at position q the moves of the player to move next, over q + 1 positions.
        var mine = 0.0
        for g in 0..<3 {
            let steps = try GameReplay(moves: games[g]).steps
            for q in 0..<T { mine += Double((0...q).filter { steps[$0].player == steps[q].perspective }.count) / Double(q + 1) }
        }
        XCTAssertEqual(scores.mine[0][0], mine / Double(3 * T), accuracy: 1e-5)
    }

    func testPrefixAttentionByHand() {
        // Moves by black, white, black; rows are queries, nil above the diagonal.
        let pattern: [[Double?]] = [[1, nil, nil], [0.25, 0.75, nil], [0.5, 0.2, 0.3]]
        let summary = PrefixAttention(pattern: pattern, players: [.black, .white, .black])
        XCTAssertEqual(summary.previousMove, (0.25 + 0.2) / 2, accuracy: 1e-12)
        XCTAssertEqual(summary.samePlayer, (0.75 + (0.5 + 0.3)) / 2, accuracy: 1e-12)
    }

    func testNextMoveScoreByHand() throws {
        // Equal logits: the loss is log 61 everywhere, and the top token (the first, padding) is never legal.
        let games = try GameDataset(games: [[37, 43, 34]])
        var score = NextMoveScore()
        try score.add(logits: [Float](repeating: 0, count: 59 * 61), games: games, batch: [0], positions: 59, vocabulary: 61, source: "g")
        XCTAssertEqual(score.positions, 2, "after moves 1 and 2; the last move has no next move")
        XCTAssertEqual(score.loss, log(61), accuracy: 1e-9)
        XCTAssertEqual(score.legalTop1, 0)
    }

    func testAblationsChangeTheScoreAndMeanAblationOfAConstantHeadChangesNothing() throws {
        let model = try uniformAttentionModel()
        let games = RandomGames.generate(count: 4, seed: 2)
        let zero = try HeadAblation.run(model: model, games: games, mean: false)
        XCTAssertEqual(zero.lossChange.count, 2)
        XCTAssertEqual(zero.lossChange[0].count, 2)
        XCTAssertEqual(zero.clean.loss, try NextMoveScore.measure(model, games: games).loss, accuracy: 1e-9)
        XCTAssertTrue(zero.lossChange.joined().contains { abs($0) > 1e-6 })
        // One game, mean-ablated: the mean over the games of z is that game's z, so nothing changes.
        let one = try GameDataset(games: [games[0]])
        let mean = try HeadAblation.run(model: model, games: one, mean: true)
        for change in mean.lossChange.joined() { XCTAssertEqual(change, 0, accuracy: 1e-4) }
        for change in mean.layerLossChange { XCTAssertEqual(change, 0, accuracy: 1e-4) }
    }
}

extension HeadAnalysisTests {
    func testEmptyCircuitOnASmallModel() throws {
        let model = HookedTransformer.random(config: try ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 32), seed: 4, std: 0.3)
        let games = RandomGames.generate(count: 12, seed: 6)
        let circuit = try EmptyCircuit.run(model: model, games: games, layer: 1, topHeads: 1, topNeurons: 3)
        XCTAssertEqual(circuit.hook, "blocks.1.hook_resid_post")
        XCTAssertEqual(circuit.heads.count, 2)
        XCTAssertEqual(circuit.headAblationEffect.count, 2)
        XCTAssertEqual(circuit.occupiedLogitAttribution.count, 2)
        XCTAssertEqual(circuit.neurons.count, 3)
        // Applying the probe by hand to the un-ablated run gives the probe evaluator's accuracy.
        XCTAssertEqual(circuit.ablations[0].what, "none")
        XCTAssertEqual(circuit.ablations[0].accuracy, circuit.probeAccuracy, accuracy: 1e-9)
        XCTAssertTrue(circuit.surviving(circuit.probeAccuracy) == 1 || circuit.probeAccuracy <= circuit.trivialAccuracy)
        XCTAssertThrowsError(try EmptyCircuit.run(model: model, games: games, layer: 2))
    }
}

/// Every neuron's statistics against a brute-force pass over the cache, on a small random model.
final class NeuronStatisticsTests: XCTestCase {
    func testStatisticsMatchABruteForcePass() throws {
        let config = try ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 32)
        let model = HookedTransformer.random(config: config, seed: 7, std: 0.3)
        let games = RandomGames.generate(count: 7, seed: 2)
        let stats = try NeuronStatistics.compute(model: model, games: games, topCount: 3, batchSize: 3, keep: { $0.game == 4 })
        let T = config.nCtx
        let cache = try model.runWithCache(tokens: games.tokenBatch(Array(0..<7), positions: T), games: 7, positions: T,
                                           points: [HookPoint(.mlpPost, layer: 1)])
        let values = try cache.values(HookPoint(.mlpPost, layer: 1))
        var positions: [(Int, Int, GameStep)] = []
        for g in 0..<7 { for (p, step) in try GameReplay(moves: games[g]).steps.enumerated() where p < T { positions.append((g, p, step)) } }
        XCTAssertEqual(stats.positions, positions.count)
        for n in [0, 5, 31] {
            let acts = positions.map { values[($0.0 * T + $0.1) * 32 + n] }
            XCTAssertEqual(Double(stats.layers[1].mean[n]), acts.map(Double.init).reduce(0, +) / Double(acts.count), accuracy: 1e-5)
            XCTAssertEqual(stats.layers[1].maximum[n], acts.max()!, accuracy: 1e-5, "batches of 3 against one of 7: float noise only")
            XCTAssertEqual(stats.layers[1].frequency[n], Float(acts.filter { $0 > 0 }.count) / Float(acts.count), accuracy: 1e-6)
            for (a, b) in zip(stats.layers[1].top[n].map(\.activation), acts.sorted(by: >).prefix(3)) { XCTAssertEqual(a, b, accuracy: 1e-5) }
            XCTAssertEqual(stats.layers[1].top[n].count, 3)
            // The mean given "mine" on square 27 (a centre square), by hand.
            let mine = positions.indices.filter { i in
                let position = ProbePosition(game: positions[i].0, position: positions[i].1, step: positions[i].2)
                return position.board[27] != .empty && (position.board[27] == .black) == (position.perspective == .black)
            }
            let expected = mine.map { Double(acts[$0]) }.reduce(0, +) / Double(mine.count)
            XCTAssertEqual(Double(stats.layers[1].conditionedMean(unit: n, condition: .mine)[27]), expected, accuracy: 1e-4)
            XCTAssertEqual(stats.layers[1].conditionCounts[27], mine.count)
        }
        // The sample holds game 4's positions whole.
        let sample = try XCTUnwrap(stats.sample)
        let game4 = positions.indices.filter { positions[$0].0 == 4 }
        XCTAssertEqual(sample.positions, game4.map { GamePosition(game: 4, position: positions[$0].1) })
        for (r, i) in game4.enumerated() { XCTAssertEqual(sample.activations[1][r * 32 + 5], values[(4 * T + positions[i].1) * 32 + 5], accuracy: 1e-6) }
        // Every position is in exactly one of mine, theirs, empty for each square.
        for s in 0..<64 { XCTAssertEqual(stats.layers[1].conditionCounts[s] + stats.layers[1].conditionCounts[64 + s] + stats.layers[1].conditionCounts[128 + s], positions.count) }
    }
}

/// Neuron weights in the unembedding and probe bases, by hand on a small random model.
final class NeuronWeightsTests: XCTestCase {
    func testLogitEffectAndCosinesByHand() throws {
        let config = try ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 32)
        let model = HookedTransformer.random(config: config, seed: 9, std: 0.3)
        var probe = Probe(kind: .linear, basis: .relative, hook: "blocks.1.hook_resid_post", modes: [.all], inputWidth: 16)
        var random = SeededRandom(seed: 4)
        for i in probe.parameters[0].indices { probe.parameters[0][i] = random.nextGaussian() }
        let weights = try NeuronWeights.compute(model: model, probes: [HookPoint(.residPost, layer: 1): [probe]])
        let layout = model.parameters.layout, base = model.parameters.base
        let wOut = base + layout.blocks[1].W_out, wU = base + layout.W_U
        let (n, square) = (7, 37), token = Vocabulary.tokenUnchecked(forSquare: square)
        var effect: Float = 0
        for i in 0..<16 { effect += wOut[n * 16 + i] * wU[i * 61 + token] }
        XCTAssertEqual(weights.logitEffect[1][n * 64 + square], effect, accuracy: 1e-5)
        XCTAssertEqual(weights.logitEffect[1][n * 64 + 27], 0, "a centre square is never a move")
        let directions = try ProbeDirections(probe: probe)
        let row = (0..<16).map { wOut[n * 16 + $0] }, norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let cosine = zip(row, directions.mineMinusTheirs[square]).reduce(Float(0)) { $0 + $1.0 * $1.1 } / norm
        XCTAssertEqual(weights.output[1][.mineTheirs]![n * 64 + square], cosine, accuracy: 1e-5)
        XCTAssertTrue(weights.output[0].isEmpty && weights.input[1].isEmpty, "no probe, no cosines")
    }
}

/// The rule trees: a hand-worked activation is recovered exactly; random activations give R² ≈ 0.
final class RegressionTreeTests: XCTestCase {
    func testRecoversAnActivationThatIsARuleOverBoardFeatures() throws {
        // Activation 1 exactly where E4 is mine and F5 is empty (0 elsewhere), on real positions.
        let games = RandomGames.generate(count: 60, seed: 3)
        var x: [Float] = [], y: [Float] = []
        let C = BoardConditions.count
        let e4Mine = BoardConditions.Condition.mine.rawValue * 64 + 36, f5Empty = BoardConditions.Condition.empty.rawValue * 64 + 45
        XCTAssertEqual(BoardConditions.name(e4Mine), "E4 mine")
        XCTAssertEqual(BoardConditions.name(f5Empty), "F5 empty")
        var random = SeededRandom(seed: 5)
        for g in 0..<games.count {
            for (p, step) in try GameReplay(moves: games[g]).steps.enumerated() {
                var row = [Float](repeating: 0, count: C)
                row.withUnsafeMutableBufferPointer { BoardConditions.indicators(of: ProbePosition(game: g, position: p, step: step), into: $0.baseAddress!) }
                x += row
                y += [row[e4Mine] * row[f5Empty], Float(random.nextGaussian())]
            }
        }
        let m = y.count / 2, train = m * 2 / 3
        let trees = RegressionTree.fit(features: x, rows: train, width: C, targets: y, count: 2, depth: 3, minLeaf: 5)
        let r2 = x.withUnsafeBufferPointer { xs in
            y.withUnsafeBufferPointer { ys in
                RegressionTree.rSquared(trees, features: xs.baseAddress! + train * C, rows: m - train, width: C, targets: ys.baseAddress! + train * 2)
            }
        }
        XCTAssertEqual(r2[0], 1, accuracy: 1e-9, trees[0].describe(name: BoardConditions.name).joined(separator: "\n"))
        XCTAssertLessThan(abs(r2[1]), 0.05, "noise has no rule")
        let text = trees[0].describe(name: BoardConditions.name)
        XCTAssertTrue(text.contains { $0.contains("E4 mine") } && text.contains { $0.contains("F5 empty") }, text.joined(separator: "\n"))
        XCTAssertLessThanOrEqual(trees[1].nodes.count, 15, "depth 3 at most")
    }
}
