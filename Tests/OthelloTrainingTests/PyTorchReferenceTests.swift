import Foundation
import OthelloModel
@testable import OthelloTraining
import XCTest

/// Training steps against PyTorch: TransformerLens HookedTransformer + torch.optim.AdamW on the same
/// weights and batch (Fixtures/training_step.safetensors, written by scripts/make_training_fixtures.py).
final class PyTorchReferenceTests: XCTestCase {
    struct Fixture {
        let file: SafetensorsFile
        let config: ModelConfig
        let batch: TokenBatch
        let learningRates: [Float]
        let losses: [Double]
        let maxGradNorm: Float
        let firstGradientNorm: Double
        let settings: AdamW.Settings

        init() throws {
            let url = try XCTUnwrap(Bundle.module.url(forResource: "training_step", withExtension: "safetensors", subdirectory: "Fixtures"))
            let file = try SafetensorsFile.read(from: url)
            func number<T: Decodable>(_ key: String, _ type: T.Type) throws -> T {
                try JSONDecoder().decode(T.self, from: Data(try XCTUnwrap(file.metadata[key]).utf8))
            }
            self.file = file
            let c = try number("config", [String: AnyDecodable].self)
            config = try ModelConfig(nLayers: c["n_layers"]!.int, dModel: c["d_model"]!.int, nHeads: c["n_heads"]!.int,
                                     dHead: c["d_head"]!.int, dMLP: c["d_mlp"]!.int, dVocab: c["d_vocab"]!.int, nCtx: c["n_ctx"]!.int)
            let tokens = try file.tensor("tokens")
            batch = try TokenBatch(tokens: tokens.values.map { Int32($0) }, games: tokens.shape[0])
            learningRates = try number("learning_rates", [Float].self)
            losses = try number("losses", [Double].self)
            maxGradNorm = try number("max_grad_norm", Float.self)
            firstGradientNorm = try number("first_grad_norm", Double.self)
            let betas = try number("betas", [Float].self)
            settings = AdamW.Settings(beta1: betas[0], beta2: betas[1], eps: try number("eps", Float.self),
                                      weightDecay: try number("weight_decay", Float.self))
            XCTAssertEqual(try number("decayed", [String].self), ["W_Q", "W_K", "W_V", "W_O", "W_in", "W_out", "W_U"])
        }

        func parameters(_ prefix: String) throws -> ModelParameters {
            let parameters = ModelParameters(config: config)
            for entry in parameters.layout.entries { try parameters.set(entry.name, try file.tensor(prefix + entry.name)) }
            return parameters
        }
    }

    /// The largest |a - b| per weight, failing where it exceeds `tolerance(entry)`.
    func assertClose(_ actual: UnsafePointer<Float>, _ expected: ModelParameters, _ what: String,
                     tolerance: (ParameterLayout.Entry, Float) -> Float, file: StaticString = #filePath, line: UInt = #line) {
        for entry in expected.layout.entries {
            let e = expected.base + entry.offset, a = actual + entry.offset
            var worst: Float = 0, scale: Float = 0
            for i in 0..<entry.count {
                worst = max(worst, abs(a[i] - e[i]))
                scale = max(scale, abs(e[i]))
            }
            XCTAssertLessThanOrEqual(worst, tolerance(entry, scale), "\(what) \(entry.name): max |Swift − PyTorch| = \(worst) (max |PyTorch| \(scale))",
                                     file: file, line: line)
        }
    }

    func testGradientsMatchPyTorch() throws {
        let fixture = try Fixture()
        for threads in [1, 2] {
            let trainer = try Trainer(parameters: try fixture.parameters("initial."), batchSize: fixture.batch.count,
                                      optimizer: fixture.settings, threads: threads, gamesPerShard: 4)
            let loss = try trainer.computeGradients(fixture.batch)
            XCTAssertEqual(loss, fixture.losses[0], accuracy: 2e-6)
            // Gradients agree to Float rounding: 1e-4 of each tensor's largest gradient.
            assertClose(trainer.gradientBuffer, try fixture.parameters("grad."), "gradient") { _, scale in 1e-4 * scale + 1e-8 }
        }
    }

    func testThreeAdamWStepsMatchPyTorch() throws {
        let fixture = try Fixture()
        let parameters = try fixture.parameters("initial.")
        let trainer = try Trainer(parameters: parameters, batchSize: fixture.batch.count, optimizer: fixture.settings, threads: 2, gamesPerShard: 4)
        // Adam moves each weight by about the learning rate per step whatever the gradient's size, so
        // weights are compared to a small fraction of it. b_K is left out: its gradient is exactly zero in
        // exact arithmetic (softmax ignores a constant added to every key's score), so both sides' b_K
        // gradients are rounding noise (~1e-10) that Adam turns into steps of random sign.
        let checked: (ParameterLayout.Entry, Float) -> Float = { entry, _ in entry.name.hasSuffix("b_K") ? .infinity : 2e-3 * fixture.learningRates[0] }
        for (step, lr) in fixture.learningRates.enumerated() {
            let result = try trainer.step(games: fixture.batch, learningRate: lr, maxGradNorm: fixture.maxGradNorm)
            XCTAssertEqual(result.loss, fixture.losses[step], accuracy: 1e-5, "loss of step \(step + 1)")
            if step == 0 {
                XCTAssertEqual(Double(result.gradientNorm), fixture.firstGradientNorm, accuracy: 1e-5)
                assertClose(parameters.base, try fixture.parameters("step1."), "after step 1", tolerance: checked)
            }
        }
        XCTAssertEqual(trainer.optimizer.step, 3)
        assertClose(parameters.base, try fixture.parameters("step3."), "after step 3") { entry, _ in
            entry.name.hasSuffix("b_K") ? .infinity : 2e-3 * fixture.learningRates.reduce(0, +)
        }
    }
}

/// A JSON number decoded from a heterogeneous object.
struct AnyDecodable: Decodable {
    let value: Double?
    var int: Int { Int(value ?? -1) }
    init(from decoder: Decoder) throws {
        value = try? decoder.singleValueContainer().decode(Double.self)
    }
}
