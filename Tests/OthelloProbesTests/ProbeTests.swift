import Foundation
import OthelloModel
import OthelloRules
@testable import OthelloProbes
import WorkbenchSupport
import XCTest

/// Hand-worked cases of the targets, the metrics and the baseline; data collection, files, modes, directions and
/// bad input on a small random model.
final class ProbeTests: XCTestCase {
    // MARK: Targets

    func testTargetsAfterTheFirstMoveByHand() throws {
        // Black plays F5 in standard notation = square 37 (E5): flips 36; white (27) moves next.
        let step = try GameReplay(moves: [37]).steps[0]
        let position = ProbePosition(game: 0, position: 0, step: step)
        func labels(_ basis: ProbeBasis) -> [UInt8] {
            var out = [UInt8](repeating: 9, count: 64)
            out.withUnsafeMutableBufferPointer { basis.labels(of: position, into: $0.baseAddress!) }
            return out
        }
        let colour = labels(.colour), relative = labels(.relative), mover = labels(.mover)
        for square in [28, 35, 36, 37] {
            XCTAssertEqual(colour[square], 1, "black on \(square)")
            XCTAssertEqual(relative[square], 1, "theirs (black) for white, who moves next")
            XCTAssertEqual(mover[square], 2, "mine for black, who just moved")
        }
        XCTAssertEqual(colour[27], 2)
        XCTAssertEqual(relative[27], 2)
        XCTAssertEqual(mover[27], 1)
        XCTAssertEqual(colour.filter { $0 == 0 }.count, 59)
        XCTAssertEqual(Set(labels(.flipped).indices.filter { labels(.flipped)[$0] == 1 }), [36])
        XCTAssertEqual(Set(labels(.played).indices.filter { labels(.played)[$0] == 1 }), [37])
        XCTAssertEqual(Set(labels(.legal).indices.filter { labels(.legal)[$0] == 1 }), Set(step.legalSquares))
        XCTAssertEqual(labels(.empty).filter { $0 == 1 }.count, 59)
    }

    func testRelativeBasisFollowsPassesNotParity() throws {
        // Find a random game with a pass: after it "mine" stays with the player who moved.
        let games = RandomGames.generate(count: 400, seed: 11)
        var checked = 0
        for game in games.games {
            let replay = try GameReplay(moves: game)
            for (i, step) in replay.steps.enumerated() where step.next == step.player {
                let position = ProbePosition(game: 0, position: i, step: step)
                XCTAssertEqual(position.perspective, step.player)
                var out = [UInt8](repeating: 0, count: 64)
                out.withUnsafeMutableBufferPointer { ProbeBasis.relative.labels(of: position, into: $0.baseAddress!) }
                XCTAssertEqual(out[step.move], 2, "the mover's own disc is 'mine' when the opponent must pass")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 0, "no pass in 400 random games")
    }

    // MARK: Metrics by hand

    func testScoreByHand() {
        var score = ProbeScore(classes: 3, positions: 4)
        var truth = [UInt8](repeating: 0, count: 64), predicted = [UInt8](repeating: 0, count: 64)
        truth[0] = 1; truth[1] = 2; truth[2] = 2
        predicted[0] = 1; predicted[1] = 1; predicted[63] = 2
        // Row 1 misses square 1 (white read as black), 2 (white read as empty) and 63 (empty read as white).
        score.add(predictions: predicted, labels: truth, position: 3)
        score.add(predictions: truth, labels: truth, position: 1)    // a perfect row
        XCTAssertEqual(score.correct, 125)
        XCTAssertEqual(score.total, 128)
        XCTAssertEqual(score.accuracy, 125.0 / 128.0)
        XCTAssertEqual(score.perSquare[1], 0.5)
        XCTAssertEqual(score.perSquare[2], 0.5)
        XCTAssertEqual(score.perSquare[63], 0.5)
        XCTAssertEqual(score.perSquare[0], 1)
        XCTAssertEqual(score.perPosition[3], 61.0 / 64.0)
        XCTAssertEqual(score.perPosition[1], 1)
        XCTAssertTrue(score.perPosition[0].isNaN)
        // Recall per true class: empty 121 of 122, black 2 of 2, white 2 of 4.
        XCTAssertEqual(score.perClass[0], 121.0 / 122.0)
        XCTAssertEqual(score.perClass[1], 1)
        XCTAssertEqual(score.perClass[2], 0.5)
        // Whole boards: one of the two rows has all 64 squares right (97.7% of squares, 50% of boards).
        XCTAssertEqual(score.wholeBoardAccuracy, 0.5)
        XCTAssertEqual(score.wholeBoardPerPosition[1], 1)
        XCTAssertEqual(score.wholeBoardPerPosition[3], 0)
        XCTAssertTrue(score.wholeBoardPerPosition[0].isNaN)
    }

    func testBalancedAccuracyAndF1ByHand() {
        // A two-class target (flipped: no/yes): "yes" at squares 0 and 1; the probe says yes at 0, 2 and 3.
        var score = ProbeScore(classes: 2, positions: 1)
        var truth = [UInt8](repeating: 0, count: 64), predicted = [UInt8](repeating: 0, count: 64)
        truth[0] = 1; truth[1] = 1
        predicted[0] = 1; predicted[2] = 1; predicted[3] = 1
        score.add(predictions: predicted, labels: truth, position: 0)
        // TP 1 (square 0), FN 1 (square 1), FP 2 (squares 2, 3), TN 60.
        XCTAssertEqual(score.accuracy, 61.0 / 64.0)
        XCTAssertEqual(score.balancedAccuracy, (1.0 / 2.0 + 60.0 / 62.0) / 2, accuracy: 1e-12)
        XCTAssertEqual(score.f1(), 0.4, accuracy: 1e-12)     // 2·TP / (2·TP + FP + FN) = 2 / 5: precision 1/3, recall 1/2
        // Always "no": high accuracy, balanced accuracy one half, F1 zero.
        var never = ProbeScore(classes: 2, positions: 1)
        never.add(predictions: [UInt8](repeating: 0, count: 64), labels: truth, position: 0)
        XCTAssertEqual(never.accuracy, 62.0 / 64.0)
        XCTAssertEqual(never.balancedAccuracy, 0.5)
        XCTAssertEqual(never.f1(), 0)
        // A class that never occurs is left out of the mean.
        var none = ProbeScore(classes: 2, positions: 1)
        none.add(predictions: [UInt8](repeating: 0, count: 64), labels: [UInt8](repeating: 0, count: 64), position: 0)
        XCTAssertEqual(none.balancedAccuracy, 1)
        XCTAssertEqual(none.f1(), 0)
    }

    func testProbeFolderServesResidPreFromTheHookItEquals() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("probe-folder-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        XCTAssertEqual(ProbeFolder.storedHook(for: "blocks.0.hook_resid_pre"), "embed")
        XCTAssertEqual(ProbeFolder.storedHook(for: "blocks.3.hook_resid_pre"), "blocks.2.hook_resid_post")
        XCTAssertEqual(ProbeFolder.storedHook(for: "blocks.3.hook_resid_mid"), "blocks.3.hook_resid_mid")
        XCTAssertEqual(ProbeFolder.fileName(hook: "embed", kind: .mlp, basis: .colour), "embed-mlp-colour.safetensors")
        var probe = Probe(kind: .linear, basis: .relative, hook: "blocks.3.hook_resid_pre", modes: [.all], inputWidth: 4)
        probe.parameters[0][0] = 0.5
        let probes = ProbeFolder(folder)
        XCTAssertEqual(try probes.save(probe), "blocks.2.hook_resid_post-linear-relative.safetensors")
        let stored = try ProbeFile.load(from: folder.appendingPathComponent("blocks.2.hook_resid_post-linear-relative.safetensors"))
        XCTAssertEqual(stored.hook, "blocks.2.hook_resid_post", "saved as the hook it equals")
        let served = try XCTUnwrap(try probes.load(hook: "blocks.3.hook_resid_pre"))
        XCTAssertEqual(served.hook, "blocks.3.hook_resid_pre", "relabelled to the hook asked for")
        XCTAssertEqual(served.parameters, probe.parameters)
        XCTAssertNil(try probes.load(hook: "blocks.5.hook_resid_pre"))
        var other = probe
        other.parameters[0][0] += 1
        try probes.save(other, replacing: false)
        XCTAssertEqual(try probes.load(hook: "blocks.2.hook_resid_post")?.parameters, probe.parameters, "replacing: false keeps the file")
    }

    func testTrivialBaselineByHand() throws {
        // Three positions at token position 0 (the four openings): black moved, the square played differs.
        let openings = [19, 26, 37]
        let data = ProbeData(positions: try openings.enumerated().map { ProbePosition(game: $0.offset, position: 0, step: try GameReplay(moves: [$0.element]).steps[0]) },
                             activations: [:])
        let baseline = TrivialBaseline(basis: .played, fittedOn: data, positions: 59)
        // Every square is "not played" in at least 2 of 3 rows: the baseline always says no.
        XCTAssertEqual(baseline.table[0..<64].filter { $0 != 0 }.count, 0)
        XCTAssertEqual(baseline.score(on: data).accuracy, (3.0 * 64 - 3) / (3 * 64))
        let colour = TrivialBaseline(basis: .colour, fittedOn: data, positions: 59)
        XCTAssertEqual(colour.table[28], 1, "D4 (28) is black after every opening")
        XCTAssertEqual(colour.table[27], 1, "D3 (27) is flipped to black by C3 (19) and D2 (26), stays white after E5 (37)")
        XCTAssertEqual(colour.table[36], 2, "E4 (36) stays white after C3 and D2")
    }

    // MARK: Data, training, files

    let config = try! ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 32)

    func smallModel() -> HookedTransformer { HookedTransformer.random(config: config, seed: 3, std: 0.3) }

    func testCollectedRowsAreTheCachedActivations() throws {
        let model = smallModel()
        var games = RandomGames.generate(count: 5, seed: 4).games
        games[2] = Array(games[2].prefix(12))
        let dataset = try GameDataset(games: games)
        let hooks = [try ProbeHook(name: "embed", config: config), try ProbeHook(layer: 1, config: config),
                     try ProbeHook(name: "blocks.0.mlp.hook_post", config: config)]
        let data = try ProbeData.collect(model: model, games: dataset, indices: [4, 2, 0], hooks: hooks, positionRange: 3...40, batchSize: 2)
        XCTAssertEqual(data.rows, 38 + 9 + 38)
        XCTAssertEqual(data.positions.first?.game, 4)
        XCTAssertEqual(data.positions.first?.position, 3)
        XCTAssertEqual(data.positions[38].game, 2)
        XCTAssertEqual(data.activations[hooks[2]]!.width, 32)
        var tokens = [Int32](repeating: 0, count: 3 * 59)
        tokens.withUnsafeMutableBufferPointer { buffer in
            for (row, game) in [4, 2, 0].enumerated() { dataset.writeTokens(ofGame: game, into: UnsafeMutableBufferPointer(rebasing: buffer[(row * 59)..<((row + 1) * 59)])) }
        }
        let cache = try model.runWithCache(tokens: tokens, games: 3, positions: 59,
                                           names: ["hook_embed", "hook_pos_embed", "blocks.1.hook_resid_post", "blocks.0.mlp.hook_post"])
        for (row, position) in data.positions.enumerated() {
            let g = [4, 2, 0].firstIndex(of: position.game)!, p = position.position
            for i in 0..<16 {
                let embed = cache["hook_embed"]!.values[(g * 59 + p) * 16 + i] + cache["hook_pos_embed"]!.values[(g * 59 + p) * 16 + i]
                XCTAssertEqual(data.activations[hooks[0]]!.row(row)[i], embed, accuracy: 1e-6)
                XCTAssertEqual(data.activations[hooks[1]]!.row(row)[i], cache["blocks.1.hook_resid_post"]!.values[(g * 59 + p) * 16 + i], accuracy: 1e-5)
            }
            XCTAssertEqual(data.activations[hooks[2]]!.row(row)[31], cache["blocks.0.mlp.hook_post"]!.values[(g * 59 + p) * 32 + 31], accuracy: 1e-5)
        }
    }

    func testModesTrainOnTheirOwnPositionsAndFilesRoundTrip() throws {
        let model = smallModel()
        let dataset = RandomGames.generate(count: 30, seed: 5)
        let hook = try ProbeHook(layer: 0, config: config)
        let train = try ProbeData.collect(model: model, games: dataset, indices: Array(0..<24), hooks: [hook])
        let test = try ProbeData.collect(model: model, games: dataset, indices: Array(24..<30), hooks: [hook])
        var settings = ProbeTrainingSettings()
        settings.epochs = 2
        settings.hidden = 8
        for kind in Probe.Kind.allCases {
            let probe = try ProbeTrainer.train(kind: kind, basis: .colour, hook: hook, modes: ProbeMode.nanda, on: train, settings: settings)
            let evaluation = try ProbeEvaluator.evaluate(probe, on: test, hook: hook, positions: 59)
            XCTAssertEqual(evaluation.perMode[0].total, test.rows(in: .blackToMove).count * 64)
            XCTAssertEqual(evaluation.perMode[1].total, test.rows(in: .whiteToMove).count * 64)
            XCTAssertEqual(evaluation.perMode[2].total, test.rows * 64)
            XCTAssertEqual(evaluation.matched?.total, test.rows * 64, "every position scored once by its matched mode")
            XCTAssertNotEqual(probe.parameters[0], probe.parameters[1], "each mode trained on its own rows")
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("probe-\(UUID().uuidString).safetensors")
            defer { try? FileManager.default.removeItem(at: url) }
            var saved = probe
            saved.metadata["note"] = "kept"
            try ProbeFile.save(saved, to: url)
            let loaded = try ProbeFile.load(from: url)
            XCTAssertEqual(loaded.kind, kind)
            XCTAssertEqual(loaded.basis, .colour)
            XCTAssertEqual(loaded.modes, ProbeMode.nanda)
            XCTAssertEqual(loaded.hook, hook.name)
            XCTAssertEqual(loaded.parameters, probe.parameters)
            XCTAssertEqual(loaded.metadata["note"], "kept")
        }
    }

    func testTrainingIsDeterministicForASeed() throws {
        let model = smallModel()
        let dataset = RandomGames.generate(count: 10, seed: 6)
        let hook = try ProbeHook(layer: 1, config: config)
        let data = try ProbeData.collect(model: model, games: dataset, indices: Array(0..<10), hooks: [hook])
        var settings = ProbeTrainingSettings()
        settings.epochs = 1
        settings.hidden = 8
        let a = try ProbeTrainer.train(kind: .mlp, basis: .relative, hook: hook, on: data, settings: settings)
        let b = try ProbeTrainer.train(kind: .mlp, basis: .relative, hook: hook, on: data, settings: settings)
        XCTAssertEqual(a.parameters, b.parameters)
        settings.seed = 2
        let c = try ProbeTrainer.train(kind: .mlp, basis: .relative, hook: hook, on: data, settings: settings)
        XCTAssertNotEqual(a.parameters, c.parameters)
        // Shards are summed in order: the same weights on one thread or two (batch 512 = 2 shards).
        settings.seed = 1
        let one = try ProbeTrainer.train(kind: .mlp, basis: .relative, hook: hook, on: data, settings: settings, threads: 1)
        let two = try ProbeTrainer.train(kind: .mlp, basis: .relative, hook: hook, on: data, settings: settings, threads: 2)
        XCTAssertEqual(one.parameters, two.parameters)
        XCTAssertEqual(one.parameters, a.parameters)
    }

    // MARK: Directions

    func testDirectionsByHand() throws {
        // d = 2: square 5's mine column is (3, 4), theirs (0, 0), empty (1, 1) → mine − theirs (0.6, 0.8).
        var probe = Probe(kind: .linear, basis: .relative, hook: "embed", modes: [.all], inputWidth: 2)
        func set(_ i: Int, _ square: Int, _ k: Int, _ v: Float) { probe.parameters[0][(i * 64 + square) * 3 + k] = v }
        set(0, 5, 2, 3); set(1, 5, 2, 4); set(0, 5, 0, 1); set(1, 5, 0, 1)
        let directions = try ProbeDirections(probe: probe)
        XCTAssertEqual(directions.mineMinusTheirs[5][0], 0.6, accuracy: 1e-6)
        XCTAssertEqual(directions.mineMinusTheirs[5][1], 0.8, accuracy: 1e-6)
        XCTAssertEqual(directions.norms[5], 5, accuracy: 1e-6)
        // empty − (mine + theirs)/2 = (1 − 1.5, 1 − 2) = (−0.5, −1) → normalised.
        XCTAssertEqual(directions.empty[5][0], -0.5 / Float(1.25).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(directions.mineMinusTheirs(5, perspective: .white), directions.mineMinusTheirs[5], "relative: same for both players")
        // A colour probe: black − white, flipped for white to move.
        var colour = Probe(kind: .linear, basis: .colour, hook: "embed", modes: [.all], inputWidth: 2)
        colour.parameters[0][(0 * 64 + 5) * 3 + 1] = 1
        let colourDirections = try ProbeDirections(probe: colour)
        XCTAssertEqual(colourDirections.mineMinusTheirs(5, perspective: .black), [1, 0])
        XCTAssertEqual(colourDirections.mineMinusTheirs(5, perspective: .white), [-1, 0])
        let cosines = ProbeDirections.cosineMatrix([[1, 0], [0.6, 0.8]], [[0, 1], [1, 0]])
        XCTAssertEqual(cosines[1][0], 0.8, accuracy: 1e-6)
        XCTAssertEqual(cosines[1][1], 0.6, accuracy: 1e-6)
    }

    func testCrossEntropyStaysFiniteWhenTheTrueClassIsFarBelow() {
        var logits: [Float] = [0, 200, 0] + [Float](repeating: 0, count: 63 * 3)
        let labels = [UInt8](repeating: 0, count: 64)
        let loss = ProbeMath.crossEntropyBackward(logits: &logits, labels: labels, rows: 1, classes: 3, batchRows: 1)
        XCTAssertEqual(loss, 200 + 63 * log(3.0), accuracy: 1e-3, "−log p = 200 for square 0 (exp underflows), log 3 for the others")
    }

    // MARK: Bad input

    func testBadInputIsAOneLineError() throws {
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(message { _ = try ProbeBasis(name: "colours") }.contains("choose one of colour, relative"))
        XCTAssertTrue(message { _ = try ProbeHook(layer: 2, config: config) }.contains("layers 0…1"))
        XCTAssertTrue(message { _ = try ProbeHook(name: "blocks.5.hook_resid_post", config: config) }.contains("layers 0…1"))
        XCTAssertTrue(message { _ = try ProbeHook(name: "blocks.0.attn.hook_pattern", config: config) }.contains("one vector per position"))
        XCTAssertTrue(message { _ = try ProbeHook(name: "ln_final.hook_normalized", config: config) }.contains("blocks.1.hook_resid_post"))
        XCTAssertTrue(message { _ = try GameSplit(count: 1, testFraction: 0.2, seed: 1, source: "g.npy") }.contains("g.npy: 1 game cannot be split"))
        let probe = Probe(kind: .linear, basis: .relative, hook: "embed", modes: [.all], inputWidth: 512)
        let text = message { try probe.check(fits: try ProbeHook(layer: 1, config: config), config: config, source: "p.safetensors") }
        XCTAssertTrue(text.contains("p.safetensors") && text.contains("512") && text.contains("16"), text)
        XCTAssertTrue(message { _ = try ProbeFile.load(from: fixture("not_a_probe.pth")) }.contains("neither a state dict"))
        XCTAssertTrue(message { _ = try ProbeFile.load(from: fixture("li_probe_logits.safetensors")) }.contains("not a probe file"))
    }
}
