import Foundation
import OthelloModel
import OthelloRules
@testable import OthelloProbes
import WorkbenchSupport
import XCTest

/// The probes against PyTorch: `scripts/make_probe_fixtures.py` trains a linear and an MLP probe with
/// `torch.optim.AdamW` on a small TransformerLens model's `blocks.1.hook_resid_post` and labels from its own
/// Python Othello replay; the workbench must compute the same labels, losses, weights and test accuracy.
final class ProbeReferenceTests: XCTestCase {
    static let games = 48, trainGames = 36, positions = 59, width = 64
    let config = try! ModelConfig(nLayers: 2, dModel: 64, nHeads: 4, dMLP: 128)

    func reference() throws -> SafetensorsFile { try SafetensorsFile.read(from: fixture("probe_reference.safetensors")) }

    /// The fixture's games and activations as probe data: train (games 0–35) and test (36–47).
    func data() throws -> (train: ProbeData, test: ProbeData, hook: ProbeHook) {
        let file = try reference()
        let games = try file.tensor("games").values.map { Int($0) }
        let activations = try file.tensor("activations").values
        let hook = try ProbeHook(name: "blocks.1.hook_resid_post", config: config)
        func make(_ range: Range<Int>) throws -> ProbeData {
            var positions: [ProbePosition] = []
            for game in range {
                let moves = games[(game * 60)..<((game + 1) * 60)].filter { $0 >= 0 }
                let replay = try GameReplay(moves: Array(moves))
                for p in 0..<Self.positions { positions.append(ProbePosition(game: game, position: p, step: replay.steps[p])) }
            }
            let matrix = try ActivationMatrix(rows: positions.count, width: Self.width)
            for (row, position) in positions.enumerated() {
                let from = (position.game * Self.positions + position.position) * Self.width
                for i in 0..<Self.width { matrix.row(row)[i] = activations[from + i] }
            }
            return ProbeData(positions: positions, activations: [hook: matrix])
        }
        return (try make(0..<Self.trainGames), try make(Self.trainGames..<Self.games), hook)
    }

    var settings: ProbeTrainingSettings {
        var settings = ProbeTrainingSettings()
        settings.learningRate = 1e-2
        settings.batchSize = 256
        settings.epochs = 3
        settings.hidden = 32
        settings.shuffle = false
        return settings
    }

    func testLabelsMatchThePythonReplay() throws {
        let file = try reference()
        let (train, test, _) = try data()
        for (basis, name) in [(ProbeBasis.colour, "colour_labels"), (.relative, "relative_labels")] {
            let expected = try file.tensor(name).values.map { UInt8($0) }
            XCTAssertEqual(train.labels(basis) + test.labels(basis), expected, "\(basis) labels")
        }
    }

    func testLinearProbeMatchesPyTorch() throws {
        let file = try reference()
        let (train, test, hook) = try data()
        var probe = Probe(kind: .linear, basis: .relative, hook: hook.name, modes: [.all], inputWidth: Self.width)
        let losses = try ProbeTrainer.fit(&probe, mode: 0, inputs: train.activations[hook]!, rows: Array(0..<train.rows),
                                          labels: train.labels(.relative), settings: settings)
        assertClose(losses, try file.tensor("linear.losses").values, tolerance: 2e-5, "losses")
        // nn.Linear keeps weight [out, in]; the probe keeps W [in, out].
        let weight = try file.tensor("linear.weight").transposed().values
        assertClose(probe.tensor("W", mode: 0), weight, tolerance: 1e-4, "W")
        assertClose(probe.tensor("b", mode: 0), try file.tensor("linear.bias").values, tolerance: 1e-4, "b")
        let score = try ProbeEvaluator.evaluate(probe, on: test, hook: hook, positions: Self.positions).headline
        XCTAssertEqual(score.accuracy, Double(try file.tensor("linear.accuracy").values[0]), accuracy: 2e-3)
        assertClose(score.perSquare.map(Float.init), try file.tensor("linear.per_square").values, tolerance: 0.02, "per square")
    }

    func testMLPProbeMatchesPyTorch() throws {
        let file = try reference()
        let (train, test, hook) = try data()
        var probe = Probe(kind: .mlp, basis: .relative, hook: hook.name, modes: [.all], inputWidth: Self.width, hidden: 32)
        let layout = probe.layout
        func set(_ name: String, _ values: [Float]) { probe.parameters[0].replaceSubrange(layout.offset(name)..<(layout.offset(name) + values.count), with: values) }
        set("W_hidden", try file.tensor("mlp.init.0.weight").transposed().values)
        set("b_hidden", try file.tensor("mlp.init.0.bias").values)
        set("W_out", try file.tensor("mlp.init.2.weight").transposed().values)
        set("b_out", try file.tensor("mlp.init.2.bias").values)
        let losses = try ProbeTrainer.fit(&probe, mode: 0, inputs: train.activations[hook]!, rows: Array(0..<train.rows),
                                          labels: train.labels(.relative), settings: settings)
        assertClose(losses, try file.tensor("mlp.losses").values, tolerance: 5e-5, "losses")
        assertClose(probe.tensor("W_hidden", mode: 0), try file.tensor("mlp.final.0.weight").transposed().values, tolerance: 2e-4, "W_hidden")
        assertClose(probe.tensor("W_out", mode: 0), try file.tensor("mlp.final.2.weight").transposed().values, tolerance: 2e-4, "W_out")
        let score = try ProbeEvaluator.evaluate(probe, on: test, hook: hook, positions: Self.positions).headline
        XCTAssertEqual(score.accuracy, Double(try file.tensor("mlp.accuracy").values[0]), accuracy: 2e-3)
    }

    func testNandasProbeLoadsAndConvertsAsTheTutorialDoes() throws {
        let probe = try ProbeFile.load(from: fixture("nanda_probe.pth"))
        XCTAssertEqual(probe.kind, .linear)
        XCTAssertEqual(probe.basis, .colour)
        XCTAssertEqual(probe.modes, ProbeMode.nanda)
        XCTAssertEqual(probe.hook, "blocks.6.hook_resid_post")
        XCTAssertEqual(probe.inputWidth, 8)
        let relative = try ProbeFile.relative(fromColour: probe)
        XCTAssertEqual(relative.basis, .relative)
        let expected = try SafetensorsFile.read(from: fixture("nanda_relative.safetensors")).tensor("relative")
        XCTAssertEqual(expected.shape, [8, 8, 8, 3])
        assertClose(relative.tensor("W", mode: 0), expected.values, tolerance: 1e-6, "relative W")
        XCTAssertEqual(relative.tensor("b", mode: 0), [Float](repeating: 0, count: 192))
    }

    func testLiProbesGiveTheirLogitsInTheColourOrder() throws {
        let logits = try SafetensorsFile.read(from: fixture("li_probe_logits.safetensors"))
        let inputs = try logits.tensor("inputs").values
        for (file, key, kind) in [("li_linear_probe.pth", "linear", Probe.Kind.linear), ("li_mlp_probe.pth", "mlp", .mlp)] {
            let probe = try ProbeFile.load(from: fixture(file))
            XCTAssertEqual(probe.kind, kind)
            XCTAssertEqual(probe.basis, .colour)
            var out = [Float](repeating: 0, count: 5 * 192)
            var hidden = [Float](repeating: 0, count: 5 * max(1, probe.hidden))
            inputs.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { o in
                    hidden.withUnsafeMutableBufferPointer { h in
                        probe.logits(mode: 0, inputs: x.baseAddress!, rows: 5, into: o.baseAddress!, hiddenScratch: h.baseAddress!)
                    }
                }
            }
            // Li's classes are white, empty, black; ours empty, black, white.
            let theirs = try logits.tensor(key).values
            var reordered = [Float](repeating: 0, count: theirs.count)
            for group in 0..<(5 * 64) {
                reordered[group * 3] = theirs[group * 3 + 1]
                reordered[group * 3 + 1] = theirs[group * 3 + 2]
                reordered[group * 3 + 2] = theirs[group * 3]
            }
            assertClose(out, reordered, tolerance: 1e-5, "\(file) logits")
        }
    }
}

func fixture(_ name: String) -> URL {
    Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")!
}

func assertClose(_ actual: [Float], _ expected: [Float], tolerance: Float, _ label: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(label): count", file: file, line: line)
    guard actual.count == expected.count else { return }
    let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
    XCTAssertLessThanOrEqual(worst, tolerance, "\(label): max |Δ| = \(worst)", file: file, line: line)
}

func assertClose(_ actual: [Double], _ expected: [Float], tolerance: Float, _ label: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    assertClose(actual.map(Float.init), expected, tolerance: tolerance, label, file: file, line: line)
}
