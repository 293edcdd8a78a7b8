import OthelloModel
import OthelloRules
import XCTest

/// The published-model check: its fixture (the TransformerLens demo's game and the published predictions) and
/// the comparison itself.
final class PublishedModelCheckTests: XCTestCase {
    func testTheFixtureIsALegalGameWithLegalPublishedPredictions() throws {
        let reference = try PublishedModelCheck.reference()
        XCTAssertEqual(reference.gameTokens.count, 59)
        XCTAssertEqual(reference.predictedTokens.count, 59)
        let moves = try reference.gameTokens.map { try Vocabulary.square(forToken: $0) }
        let steps = try GameReplay(moves: moves, source: "the demo's game").steps
        // The demo: "all 59 legal moves" — each published prediction is legal after the moves read so far.
        for (t, token) in reference.predictedTokens.enumerated() {
            let square = try Vocabulary.square(forToken: token)
            XCTAssertNotEqual(steps[t].legalMoves & (1 << UInt64(square)), 0, "position \(t)")
        }
    }

    func testCompareCountsMismatchesByPosition() throws {
        let reference = try PublishedModelCheck.reference()
        XCTAssertTrue(PublishedModelCheck.compare(reference.predictedTokens, with: reference).passed)
        var wrong = reference.predictedTokens
        wrong[3] = 1
        wrong[58] = 2
        let result = PublishedModelCheck.compare(wrong, with: reference)
        XCTAssertEqual(result.mismatches, [3, 58])
        XCTAssertEqual(result.matches, 57)
        XCTAssertTrue(result.summary.hasPrefix("57 of 59 predictions match the published model's; they differ at position 3, position 58"))
        XCTAssertEqual(PublishedModelCheck.compare(Array(reference.predictedTokens.prefix(10)), with: reference).mismatches.count, 49)
    }

    func testTheCheckRunsOnModelsOfThePublishedShapeOnly() throws {
        let published = try ModelConfig(nLayers: 8, dModel: 512, nHeads: 8, dMLP: 2048)
        XCTAssertTrue(PublishedModelCheck.applies(to: published))
        XCTAssertFalse(PublishedModelCheck.applies(to: try ModelConfig(nLayers: 8, dModel: 256, nHeads: 8, dMLP: 1024)))
        // A random model of the published shape: the check runs and, of course, fails.
        let result = try PublishedModelCheck.run(HookedTransformer.random(config: published, seed: 1))
        XCTAssertEqual(result.predicted.count, 59)
        XCTAssertFalse(result.passed)
    }
}
