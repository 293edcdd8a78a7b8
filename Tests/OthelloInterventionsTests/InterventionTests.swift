import Foundation
@testable import OthelloInterventions
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport
import XCTest

final class InterventionTests: XCTestCase {
    func testTopNErrorByHand() {
        // Legal {19, 26}: N = 2. Top-2 by logit are the tokens of squares 19 and 44 → one false positive (44) and
        // one false negative (26): error 2.
        var logits = [Float](repeating: 0, count: 61)
        logits[Vocabulary.tokenUnchecked(forSquare: 19)] = 5
        logits[Vocabulary.tokenUnchecked(forSquare: 44)] = 4
        logits[Vocabulary.tokenUnchecked(forSquare: 26)] = 3
        logits[0] = 10   // padding never counts
        let legal: UInt64 = (1 << 19) | (1 << 26)
        XCTAssertEqual(InterventionStudy.topNError(logits: logits, legal: legal), 2)
        logits[Vocabulary.tokenUnchecked(forSquare: 26)] = 4.5
        XCTAssertEqual(InterventionStudy.topNError(logits: logits, legal: legal), 0)
    }

    func testPreparedCaseByHand() throws {
        // After f5 (37) d6 (43): flip E4 (36)? It is black; flipping it to white changes black's... white moves? No:
        // after two moves black moves next.
        let c = try PreparedCase(InterventionCase(moves: [37, 43], square: 36), maxPositions: 59, source: "case")
        XCTAssertEqual(c.player, .black)
        XCTAssertEqual(c.editStart, 0, "E4 (36) was flipped by the first move and not since")
        var board = c.steps[1].board
        board.black &= ~(1 << 36)
        board.white |= 1 << 36
        XCTAssertEqual(c.legalAfter, board.legalMoves(.black))
        XCTAssertNotEqual(c.legalAfter, c.legalBefore)
        func message(_ body: () throws -> Void) -> String { do { try body(); return "" } catch { return "\(error)" } }
        XCTAssertTrue(message { _ = try PreparedCase(InterventionCase(moves: [37], square: 0), maxPositions: 59, source: "c") }.contains("empty"))
        XCTAssertTrue(message { _ = try PreparedCase(InterventionCase(moves: [37], square: 36, edit: .mine), maxPositions: 59, source: "c") }.contains("occupied"))
        XCTAssertTrue(message { _ = try PreparedCase(InterventionCase(moves: [37, 0], square: 37), maxPositions: 59, source: "c") }.contains("illegal"))
    }

    func testCaseFilesRoundTripAndNameTheBadLine() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cases-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        let games = RandomGames.generate(count: 50, seed: 2)
        let cases = try InterventionCases.generate(from: games, count: 40, seed: 3, maxPositions: 59)
        XCTAssertEqual(cases.count, 40)
        for c in cases {
            let prepared = try PreparedCase(c, maxPositions: 59, source: "generated")
            XCTAssertNotEqual(prepared.legalAfter, prepared.legalBefore)
            XCTAssertNotEqual(c.square, c.moves.last)
        }
        try InterventionCases.write(cases, to: url)
        XCTAssertEqual(try InterventionCases.read(from: url), cases)
        let empties = try InterventionCases.generate(from: games, count: 5, seed: 3, maxPositions: 59, edit: .empty)
        try InterventionCases.write(empties, to: url)
        XCTAssertEqual(try InterventionCases.read(from: url), empties)
        try Data("{\"moves\": [\"E5\", 43], \"square\": \"E4\", \"note\": 1}\n{\"moves\": [37], \"square\": \"Z9\"}\n".utf8).write(to: url)
        do {
            _ = try InterventionCases.read(from: url)
            XCTFail("a bad label must be refused")
        } catch {
            XCTAssertTrue("\(error)".contains("line 2") && "\(error)".contains("Z9"), "\(error)")
        }
        // Windows line ends ("\r\n" is one Character in Swift) end lines too; found by the fuzz target's seeds.
        let crlf = try InterventionCases.read(data: Data("{\"moves\": [37], \"square\": 20}\r\n\r\n{\"moves\": [\"E5\"], \"square\": 28}\r\n".utf8), source: "crlf.jsonl")
        XCTAssertEqual(crlf, [InterventionCase(moves: [37], square: 20), InterventionCase(moves: [37], square: 28)])
    }

    /// On a small random model: a scale −1 direction edit changes nothing; a reflection changes the reading of the
    /// edited square; gradient edits run through every later layer.
    func testEditsThroughHooks() throws {
        let config = try ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 32)
        let model = HookedTransformer.random(config: config, seed: 3, std: 0.3)
        let games = RandomGames.generate(count: 40, seed: 5, fullLength: true)
        let hooks = try (0..<2).map { try ProbeHook(layer: $0, config: config) }
        let data = try ProbeData.collect(model: model, games: games, indices: Array(0..<40), hooks: hooks)
        var probes: [HookPoint: Probe] = [:]
        for hook in hooks { probes[hook.point!] = try ProbeTrainer.train(kind: .linear, basis: .relative, hook: hook, on: data) }
        let cases = try InterventionCases.generate(from: games, count: 12, seed: 1, maxPositions: 59)
            .map { try PreparedCase($0, maxPositions: 59, source: "case") }
        let study = try InterventionStudy(model: model, cases: cases, probes: probes, batchSize: 5)
        let nothing = try study.evaluate(EditPlan(method: .direction(scale: -1), hooks: [hooks[0].point!]))
        XCTAssertEqual(nothing.error, nothing.nullError)
        XCTAssertEqual(nothing.readingChange[hooks[1].name]!, 0, accuracy: 1e-6)
        let reflect = try study.evaluate(EditPlan(method: .direction(scale: 4), hooks: [hooks[1].point!]))
        XCTAssertGreaterThan(reflect.readingChange[hooks[1].name]!, 0, "pushing along the direction raises the edited state's probability")
        // Making squares empty: the board loses the disc, the reflection runs along the empty direction.
        let emptyCases = try InterventionCases.generate(from: games, count: 8, seed: 2, maxPositions: 59, edit: .empty)
            .map { try PreparedCase($0, maxPositions: 59, source: "case") }
        XCTAssertTrue(emptyCases.allSatisfy { $0.editedBoard(at: $0.position).empty & (1 << UInt64($0.square)) != 0 })
        let emptied = try InterventionStudy(model: model, cases: emptyCases, probes: probes, batchSize: 5)
            .evaluate(EditPlan(method: .direction(scale: 4), hooks: [hooks[1].point!]))
        XCTAssertGreaterThan(emptied.readingChange[hooks[1].name]!, 0, "the probe reads the square as emptier")
        // Putting a disc of the player to move on an empty square.
        let placed = try InterventionCases.generate(from: games, count: 8, seed: 4, maxPositions: 59, edit: .mine)
            .map { try PreparedCase($0, maxPositions: 59, source: "case") }
        for c in placed {
            XCTAssertEqual(c.steps[c.position].board.empty & (1 << UInt64(c.square)), 1 << UInt64(c.square))
            XCTAssertEqual(c.editedBoard(at: c.position).discs(c.player) & (1 << UInt64(c.square)), 1 << UInt64(c.square))
        }
        let mine = try InterventionStudy(model: model, cases: placed, probes: probes, batchSize: 5)
            .evaluate(EditPlan(method: .direction(scale: 4), hooks: [hooks[1].point!]))
        XCTAssertGreaterThan(mine.readingChange[hooks[1].name]!, 0, "the probe reads the square as the mover's")
        let gradient = try study.evaluate(EditPlan(method: .gradient(learningRate: 0.05, steps: 50, otherWeight: 0.2),
                                                   hooks: hooks.map { $0.point! }, positions: .fromEdit))
        XCTAssertGreaterThan(gradient.readingChange[hooks[1].name]!, 0.02)
        XCTAssertEqual(gradient.cases, 12)
    }
}

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

/// Nanda's direction edit against TransformerLens: `scripts/make_intervention_fixtures.py` edits a small model's
/// blocks.1.hook_resid_post along a linear probe's mine − theirs direction (scale 2) with run_with_hooks, each case
/// alone and unpadded; the workbench (cases batched, padded) gives the same logits and Li et al.'s errors.
final class InterventionReferenceTests: XCTestCase {
    func testDirectionEditMatchesTransformerLens() throws {
        func fixture(_ name: String) -> URL { Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")! }
        let model = try HookedTransformer.load(from: fixture("model.safetensors"))
        let reference = try SafetensorsFile.read(from: fixture("reference.safetensors"))
        let hook = HookPoint(.residPost, layer: 1)
        var probe = Probe(kind: .linear, basis: .relative, hook: hook.name, modes: [.all], inputWidth: 64)
        let weight = try reference.tensor("probe.weight").transposed().values   // [64, 192]
        probe.parameters[0] = weight + (try reference.tensor("probe.bias").values)
        let moves = try reference.tensor("moves").values.map { Int($0) }
        let squares = try reference.tensor("squares").values.map { Int($0) }
        let cases = try squares.indices.map { i in
            try PreparedCase(InterventionCase(moves: moves[(i * 60)..<((i + 1) * 60)].filter { $0 >= 0 }, square: squares[i]),
                             maxPositions: 59, source: "case \(i)")
        }
        let study = try InterventionStudy(model: model, cases: cases, probes: [hook: probe], batchSize: 5)
        let plan = EditPlan(method: .direction(scale: 2), hooks: [hook])
        let edited = try study.logits(plan: plan).flatMap { $0 }, null = try study.logits(plan: nil).flatMap { $0 }
        let worstEdited = zip(edited, try reference.tensor("edited_logits").values).map { abs($0 - $1) }.max()!
        let worstNull = zip(null, try reference.tensor("null_logits").values).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(worstEdited, 1e-4)
        XCTAssertLessThan(worstNull, 1e-4)
        XCTAssertNotEqual(edited, null, "the edit changes the logits")
        let result = try study.evaluate(plan)
        let errors = try reference.tensor("errors").values, nullErrors = try reference.tensor("null_errors").values
        XCTAssertEqual(result.error, Double(errors.reduce(0, +)) / Double(errors.count), accuracy: 1e-9)
        XCTAssertEqual(result.nullError, Double(nullErrors.reduce(0, +)) / Double(nullErrors.count), accuracy: 1e-9)
    }
}
