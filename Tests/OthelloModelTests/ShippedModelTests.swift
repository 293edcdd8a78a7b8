import Foundation
import OthelloModel
import OthelloRules
import XCTest

/// The model shipped in OthelloModel's resources: every command's default `--model`.
final class ShippedModelTests: XCTestCase {
    static let games = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Games/synthetic-10k.npy").standardized

    func testShippedModelLoadsWithTheDocumentedConfiguration() throws {
        XCTAssertNotNil(HookedTransformer.shippedModelURL, "Sources/OthelloModel/Resources/shipped-model.safetensors is a resource")
        let model = try HookedTransformer.load(path: nil)
        // ModelConfig.shipped (the default shape of `train` and the benchmarks) is this file's shape.
        XCTAssertEqual(model.config, .shipped)
        XCTAssertEqual(ModelConfig.shipped.shapeDescription, "8 layers, d_model 256, 8 heads, d_mlp 1024")
        XCTAssertEqual(model.config.dVocab, 61)
        XCTAssertEqual(model.config.nCtx, 59)
    }

    /// The model card's figure, on the first 200 of the shipped synthetic games (held out: training drew
    /// its games from other seeds). The card reports the full held-out sets.
    func testShippedModelMostlyPredictsLegalMoves() throws {
        let model = try HookedTransformer.load(path: nil)
        let games = try GameDataset.read(from: Self.games)
        let score = try LegalMoveMetric.evaluate(model, on: games, games: Array(0..<200))
        XCTAssertEqual(score.positions, 200 * 59)
        XCTAssertGreaterThan(score.share, 0.97, "legal top-1 \(score.share)")
    }
}
