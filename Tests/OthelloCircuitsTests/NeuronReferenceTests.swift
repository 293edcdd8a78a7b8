import Foundation
import OthelloCircuits
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport
import XCTest

/// The neuron pages' numbers against scripts/make_neuron_fixtures.py: a NumPy forward pass of a TransformerLens
/// model (itself checked against TransformerLens' logits) and an Othello engine written in Python, on 16 legal
/// games — conditioned means, frequencies, maxima, top positions, logit effects and probe cosines.
final class NeuronReferenceTests: XCTestCase {
    struct Reference: Decodable {
        struct Layer: Decodable {
            var mean: [Double], frequency: [Double], maximum: [Double]
            var top: [[[Int]]]
            var conditionCounts: [Int]
            var conditioned: [[Double]]
            var logitEffect: [[Double]]
            var outputMineTheirs: [[Double]], outputEmpty: [[Double]], inputMineTheirs: [[Double]], inputEmpty: [[Double]]
        }
        var games: [[Int]]
        var positions: Int
        var neurons: [Int]
        var probe: [Float]
        var layers: [Layer]
    }

    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

    func testStatisticsAndWeightsMatchTheNumPyReference() throws {
        let reference = try JSONOutput.decoder.decode(Reference.self, from: Data(contentsOf: Self.here.appendingPathComponent("Fixtures/neuron-reference.json")))
        let model = try HookedTransformer.load(from: Self.here.appendingPathComponent("../OthelloModelTests/Fixtures/tl_lnpre_bf16.safetensors"))
        let games = try GameDataset(games: reference.games)
        let stats = try NeuronStatistics.compute(model: model, games: games, topCount: 3, batchSize: 5)
        XCTAssertEqual(stats.positions, reference.positions)
        var probe = Probe(kind: .linear, basis: .relative, hook: "blocks.1.hook_resid_post", modes: [.all], inputWidth: 64)
        probe.parameters[0] = reference.probe
        let probes: [HookPoint: [Probe]] = [HookPoint(.residPost, layer: 1): [probe], HookPoint(.residMid, layer: 1): [probe],
                                            HookPoint(.residPost, layer: 0): [probe], HookPoint(.residMid, layer: 0): [probe]]
        let weights = try NeuronWeights.compute(model: model, probes: probes)
        for (l, expected) in reference.layers.enumerated() {
            let layer = stats.layers[l]
            XCTAssertEqual(layer.conditionCounts, expected.conditionCounts, "layer \(l): positions per square state")
            for (j, n) in reference.neurons.enumerated() {
                let where_ = "layer \(l) neuron \(n)"
                XCTAssertEqual(Double(layer.mean[n]), expected.mean[j], accuracy: 1e-4, where_)
                XCTAssertEqual(Double(layer.frequency[n]), expected.frequency[j], accuracy: 1e-6, where_)
                XCTAssertEqual(Double(layer.maximum[n]), expected.maximum[j], accuracy: 1e-4, where_)
                XCTAssertEqual(layer.top[n].map { [$0.game, $0.position] }, expected.top[j], where_ + ": top positions")
                for condition in BoardConditions.Condition.allCases {
                    let ours = layer.conditionedMean(unit: n, condition: condition)
                    for s in 0..<64 {
                        XCTAssertEqual(Double(ours[s]), expected.conditioned[j][condition.rawValue * 64 + s], accuracy: 1e-4, "\(where_): \(BoardConditions.name(condition.rawValue * 64 + s))")
                    }
                }
                for s in 0..<64 {
                    XCTAssertEqual(Double(weights.logitEffect[l][n * 64 + s]), expected.logitEffect[j][s], accuracy: 1e-4, "\(where_): logit effect at \(s)")
                    XCTAssertEqual(Double(weights.output[l][.mineTheirs]![n * 64 + s]), expected.outputMineTheirs[j][s], accuracy: 1e-5)
                    XCTAssertEqual(Double(weights.output[l][.empty]![n * 64 + s]), expected.outputEmpty[j][s], accuracy: 1e-5)
                    XCTAssertEqual(Double(weights.input[l][.mineTheirs]![n * 64 + s]), expected.inputMineTheirs[j][s], accuracy: 1e-5)
                    XCTAssertEqual(Double(weights.input[l][.empty]![n * 64 + s]), expected.inputEmpty[j][s], accuracy: 1e-5)
                }
            }
        }
    }
}
