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
        let fixture = try SmallModelFixture()
        let (model, games, hooks, probes) = (fixture.model, fixture.games, fixture.hooks, fixture.probes)
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
        let gradient = try study.evaluate(EditPlan(method: .gradient(GradientEdit(learningRate: 0.05, steps: 50)),
                                                   hooks: hooks.map { $0.point! }, positions: .fromEdit))
        XCTAssertGreaterThan(gradient.readingChange[hooks[1].name]!, 0.02)
        XCTAssertEqual(gradient.cases, 12)
    }
}
