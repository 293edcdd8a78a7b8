import Foundation
@testable import OthelloSAEs
import OthelloModel
import OthelloRules
import OthelloTraining
import WorkbenchSupport
import XCTest

/// The SAE's forward and backward passes and the board metrics against PyTorch/NumPy (scripts/make_sae_fixtures.py),
/// hand-worked cases, files, training and its resume, and the evaluation end to end.
final class SparseAutoencoderTests: XCTestCase {
    func fixture(_ name: String) throws -> [String: Any] {
        let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures")!
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    func floats(_ any: Any?) -> [Float] { (any as! [Double]).map(Float.init) }

    func assertClose(_ a: [Float], _ b: [Float], _ tolerance: Float, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThan(worst, tolerance, "\(what): largest difference \(worst)", file: file, line: line)
    }

    func testForwardBackwardAndAdamStepMatchPyTorch() throws {
        let all = try fixture("sae-step")
        defer { SAEMath.sparseDensity = 0.05 }
        // Both paths of the decoder's products: dense (BLAS) and over the active features only.
        // ReLU with the L1 penalty and with p-annealing's λ·Σ f^p at p 0.5; TopK.
        // TopK with Gao et al.'s auxiliary loss (AuxK) over the dead features.
        for (name, density) in [("relu", 0.0), ("relu-p0.5", 0.0), ("topk", 0.0), ("topk-auxk", 0.0),
                                ("relu", 1.0), ("relu-p0.5", 1.0), ("topk", 1.0), ("topk-auxk", 1.0)] {
            SAEMath.sparseDensity = density
            let c = all[name] as! [String: Any]
            let (d, n, rows) = (c["d_in"] as! Int, c["d_sae"] as! Int, c["rows"] as! Int)
            let kind: SparseAutoencoder.Kind = name.hasPrefix("relu") ? .relu(l1: Float(c["l1"] as! Double)) : .topK(c["k"] as! Int)
            var sae = SparseAutoencoder(dIn: d, dSAE: n, kind: kind, hook: "blocks.0.hook_resid_post", parameters: floats(c["parameters"]))
            let x = floats(c["x"])
            var layout = sae.layout
            layout.sparsityExponent = Float(c["p"] as! Double)
            assertClose(sae.encode(x, rows: rows), floats(c["activations"]), 1e-5, "\(name) activations")
            assertClose(sae.decode(sae.encode(x, rows: rows), rows: rows), floats(c["reconstruction"]), 1e-5, "\(name) reconstruction")
            let workspace = SparseAutoencoder.Workspace(dIn: d, dSAE: n, rows: rows)
            var grad = [Float](repeating: 0, count: sae.parameterCount)
            let auxiliary = (c["aux_k"] as? Int).map {
                SAEMath.AuxiliaryK(candidates: (c["aux_candidates"] as! [Int]).map(Int32.init), k: $0, coefficient: 1.0 / 32)
            }
            let loss = x.withUnsafeBufferPointer { x in
                sae.parameters.withUnsafeBufferPointer { p in
                    grad.withUnsafeMutableBufferPointer { g -> SAEMath.Loss in
                        let loss = SAEMath.forwardBackward(p.baseAddress!, layout, x: x.baseAddress!, rows: rows, workspace: workspace, grad: g.baseAddress!,
                                                           auxiliary: auxiliary)
                        SAEMath.projectDecoderGradient(p.baseAddress!, layout, grad: g.baseAddress!)
                        return loss
                    }
                }
            }
            XCTAssertEqual(loss.squaredError / Double(rows), c["mse"] as! Double, accuracy: 1e-4, name)
            XCTAssertEqual((loss.squaredError + loss.l1) / Double(rows) + loss.auxiliary, c["loss"] as! Double, accuracy: 1e-4, name)
            if let expected = c["aux_loss"] as? Double { XCTAssertEqual(loss.auxiliary, expected, accuracy: 1e-6, "\(name): the auxiliary loss") }
            assertClose(grad, floats(c["gradients"]), 1e-5, "\(name) gradients")
            var adam = AdamW(parameterCount: sae.parameterCount, decayed: [], settings: .init(beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0))
            sae.parameters.withUnsafeMutableBufferPointer { p in
                adam.step(parameters: p.baseAddress!, gradients: grad, learningRate: 1e-2)
                SAEMath.normaliseDecoder(p.baseAddress!, layout)
            }
            assertClose(sae.parameters, floats(c["after_step"]), 2e-5, "\(name) after one Adam step")
        }
    }

    func testTopKKeepsTheLargestAndNothingNegative() {
        let sae = SparseAutoencoder(dIn: 1, dSAE: 5, kind: .topK(2), hook: "h",
                                    parameters: [1, -1, 2, 0.5, 3] + [0, 0, 0, 0, 0] + [1, 1, 1, 1, 1] + [0])
        // pre = x · W_enc: for x = 1 → [1, -1, 2, 0.5, 3]: keep 3 and 2; for x = -1 → [-1, 1, -2, -0.5, -3]: keep 1 and -0.5 → ReLU 0.
        XCTAssertEqual(sae.encode([1, -1], rows: 2), [0, 0, 2, 0, 3, 0, 1, 0, 0, 0])
    }

    func testBoardMetricsMatchTheReference() throws {
        let c = try fixture("board-metrics")
        let n = c["features"] as! Int
        func sparse(_ key: String) -> SparseActivations {
            var s = SparseActivations()
            let dense = floats(c[key])
            dense.withUnsafeBufferPointer { s.append(dense: $0.baseAddress!, rows: dense.count / n, width: n) }
            return s
        }
        let metrics = BoardFeatureMetrics.evaluate(train: sparse("train_activations"), trainActive: c["train_active"] as! [[Int]],
                                                   test: sparse("test_activations"), testActive: c["test_active"] as! [[Int]], features: n)
        let coverage = c["coverage"] as! [String: Double]
        for (name, value) in coverage { XCTAssertEqual(metrics.coverage[name]!, value, accuracy: 1e-9, name) }
        XCTAssertEqual(metrics.reconstructionF1, c["reconstruction_f1"] as! Double, accuracy: 1e-9)
        XCTAssertEqual(Double(metrics.reconstructionThreshold), c["reconstruction_threshold"] as! Double, accuracy: 1e-6)
    }

    /// One feature fires exactly where element 0 holds: its F1 is 1, the coverage of the board is 1/192.
    func testAPerfectDetectorByHand() {
        var train = SparseActivations()
        let dense: [Float] = [2, 0, 0, 0, 1, 0]   // 3 rows, 2 features; element 0 holds in rows 0 and 2
        dense.withUnsafeBufferPointer { train.append(dense: $0.baseAddress!, rows: 3, width: 2) }
        let active = [[0], [], [0]]
        let metrics = BoardFeatureMetrics.evaluate(train: train, trainActive: active, test: train, testActive: active, features: 2)
        XCTAssertEqual(metrics.alive, 1)
        XCTAssertEqual(metrics.coverage["board"]!, 1.0 / 192, accuracy: 1e-12)
        XCTAssertEqual(metrics.bestElement, [0])
        XCTAssertEqual(metrics.bestF1, [1])
        // Fewer than 10 true positives: no feature gets a label, nothing is reconstructed.
        XCTAssertEqual(metrics.reconstructionF1, 0)
    }

    /// Karvonen et al.'s headline reconstruction scores mine / theirs only: an "empty" detector counts on the full board,
    /// not there.
    func testMineTheirsReconstructionLeavesEmptySquaresOut() {
        // 20 rows; feature 0 fires exactly where A0 (square 0) is empty (element 0), feature 1 exactly where B0 is mine
        // (element 1 × 3 + 2 = 5); every row also has B1 (square 9) empty (element 27), which both features are then
        // labelled with too (precision 1 wherever they fire).
        var x = SparseActivations()
        var active: [[Int]] = []
        for r in 0..<20 {
            let row: [Float] = [r % 2 == 0 ? 1 : 0, r % 4 < 2 ? 1 : 0]
            row.withUnsafeBufferPointer { x.append(dense: $0.baseAddress!, rows: 1, width: 2) }
            active.append((r % 2 == 0 ? [0] : []) + (r % 4 < 2 ? [5] : []) + [27])
        }
        let metrics = BoardFeatureMetrics.evaluate(train: x, trainActive: active, test: x, testActive: active, features: 2)
        // Full board: A0 empty 10 and B0 mine 10 true positives; B1 empty predicted in the 15 rows where either fires,
        // missed in the other 5 → F1 = 2 · 35 / (2 · 35 + 5).
        XCTAssertEqual(metrics.reconstructionF1, 70.0 / 75, accuracy: 1e-12)
        // Mine / theirs only: B0 mine, 10 true positives and nothing else to find → 1.
        XCTAssertEqual(metrics.reconstructionF1MineTheirs, 1, accuracy: 1e-12)
        // Coverage over the 128 mine / theirs elements: one element covered perfectly.
        XCTAssertEqual(metrics.coverage["mine_theirs"]!, 1.0 / 128, accuracy: 1e-12)
    }

    func testBoardPropertiesOfTheFirstMove() throws {
        let step = try GameReplay(moves: [37]).steps[0]   // black plays E5, flipping E4 (36); white moves next
        let active = BoardProperty.active(at: .init(game: 0, position: 0, step: step))
        XCTAssertTrue(active.contains(37 * 3 + 1), "E5 is black's: theirs for white, who moves next")
        XCTAssertTrue(active.contains(27 * 3 + 2), "D3 is white's: mine")
        XCTAssertTrue(active.contains(0 * 3 + 0), "A0 empty")
        XCTAssertTrue(active.contains(256 + 36), "E4 was flipped")
        XCTAssertEqual(active.filter { (192..<256).contains($0) }.map { $0 - 192 }, Bitboard.squares(step.legalMoves))
    }

    func testFilesRoundTripInSAELensLayout() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sae-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var sae = SparseAutoencoder(dIn: 4, dSAE: 6, kind: .topK(2), hook: "blocks.1.hook_resid_post", seed: 3)
        sae.metadata["model"] = "m"
        let url = folder.appendingPathComponent("s.safetensors")
        try SAEFile.save(sae, to: url)
        let back = try SAEFile.load(from: url)
        XCTAssertEqual(back.parameters, sae.parameters)
        XCTAssertEqual(back.kind, .topK(2))
        XCTAssertEqual(back.hook, sae.hook)
        XCTAssertEqual(back.metadata["model"], "m")
        let file = try SafetensorsFile.read(from: url)
        XCTAssertEqual(file.entry("W_enc")?.shape, [4, 6])
        XCTAssertEqual(file.entry("W_dec")?.shape, [6, 4])
        // A SAELens folder: the same tensors without our metadata, the hook and kind in cfg.json.
        let saeLens = folder.appendingPathComponent("saelens")
        try FileManager.default.createDirectory(at: saeLens, withIntermediateDirectories: true)
        try SafetensorsFile.write(["W_enc", "b_enc", "W_dec", "b_dec"].map { (name: $0, tensor: try file.tensor($0)) }, to: saeLens.appendingPathComponent("sae_weights.safetensors"))
        try Data(#"{"d_in": 4, "d_sae": 6, "hook_name": "blocks.1.hook_resid_post", "activation_fn": "topk", "activation_fn_kwargs": {"k": 2}}"#.utf8)
            .write(to: saeLens.appendingPathComponent("cfg.json"))
        let fromSAELens = try SAEFile.load(from: saeLens)
        XCTAssertEqual(fromSAELens.parameters, sae.parameters)
        XCTAssertEqual(fromSAELens.kind, .topK(2))
        // SAELens 6's layout: the hook under `metadata`, the kind as `architecture` with a top-level k (read as TopK,
        // not silently as ReLU).
        try Data(#"{"d_in": 4, "d_sae": 6, "architecture": "topk", "k": 2, "normalize_activations": "none", "metadata": {"hook_name": "blocks.1.hook_resid_post"}}"#.utf8)
            .write(to: saeLens.appendingPathComponent("cfg.json"))
        let six = try SAEFile.load(from: saeLens)
        XCTAssertEqual(six.kind, .topK(2))
        XCTAssertEqual(six.hook, "blocks.1.hook_resid_post")
        XCTAssertEqual(try SAEFile.saeLensConfig(Data(#"{"architecture": "standard", "hook_name": "h"}"#.utf8), source: "c"), ["hook": "h", "kind": "relu"])
        // Settings the workbench does not implement are refused, naming the key.
        for (cfg, key) in [(#"{"architecture": "topk", "metadata": {"hook_name": "h"}}"#, "without k"),
                           (#"{"architecture": "standard", "hook_name": "h", "normalize_activations": "expected_average_only_in"}"#, "normalize_activations"),
                           (#"{"architecture": "standard", "hook_name": "h", "rescale_acts_by_decoder_norm": true}"#, "rescale_acts_by_decoder_norm"),
                           (#"{"architecture": "standard", "hook_name": "h", "reshape_activations": "hook_z"}"#, "reshape_activations"),
                           (#"{"architecture": "standard", "hook_name": "h", "hook_head_index": 3}"#, "hook_head_index"),
                           (#"{"architecture": "topk", "activation_fn": "relu", "k": 2, "hook_name": "h"}"#, "contradicts"),
                           (#"{"architecture": "batchtopk", "k": 2, "hook_name": "h"}"#, "batchtopk")] {
            XCTAssertThrowsError(try SAEFile.saeLensConfig(Data(cfg.utf8), source: "cfg.json")) { XCTAssertTrue("\($0)".contains(key), "\($0)") }
        }
        // Written as a SAELens 6 folder and read back: the same SAE, and the cfg.json keys SAELens reads.
        let written = folder.appendingPathComponent("written-saelens")
        try SAEFile.saveSAELens(sae, to: written)
        let reread = try SAEFile.load(from: written)
        XCTAssertEqual(reread.parameters, sae.parameters)
        XCTAssertEqual(reread.kind, .topK(2))
        XCTAssertEqual(reread.hook, sae.hook)
        let cfg = try JSONSerialization.jsonObject(with: Data(contentsOf: written.appendingPathComponent("cfg.json"))) as! [String: Any]
        XCTAssertEqual(cfg["architecture"] as? String, "topk")
        XCTAssertEqual(cfg["k"] as? Int, 2)
        XCTAssertEqual(cfg["d_in"] as? Int, 4)
        XCTAssertEqual(cfg["d_sae"] as? Int, 6)
        XCTAssertEqual(cfg["apply_b_dec_to_input"] as? Bool, true)
        XCTAssertEqual(cfg["normalize_activations"] as? String, "none")
        XCTAssertEqual((cfg["metadata"] as? [String: Any])?["hook_name"] as? String, "blocks.1.hook_resid_post")
        try SAEFile.saveSAELens(SparseAutoencoder(dIn: 4, dSAE: 6, kind: .relu(l1: 1), hook: "blocks.1.hook_resid_post", seed: 1), to: written)
        XCTAssertEqual(try SAEFile.load(from: written).kind, .relu(l1: 0), "a standard SAE reads as ReLU (SAELens keeps no L1 in cfg.json)")
        // SAELens architectures the workbench does not compute are refused, not read as ReLU.
        try Data(#"{"d_in": 4, "d_sae": 6, "hook_name": "blocks.1.hook_resid_post", "architecture": "jumprelu"}"#.utf8)
            .write(to: saeLens.appendingPathComponent("cfg.json"))
        XCTAssertThrowsError(try SAEFile.load(from: saeLens)) { XCTAssertTrue("\($0)".contains("jumprelu"), "\($0)") }
        // Bad files: a one-line error each.
        try SafetensorsFile.write([(name: "W_enc", tensor: Tensor(shape: [4, 6], values: [Float](repeating: 0, count: 24)))], metadata: ["hook": "x"], to: url)
        XCTAssertThrowsError(try SAEFile.load(from: url)) { XCTAssertTrue("\($0)".contains("no tensor b_enc"), "\($0)") }
        var wide = SparseAutoencoder(dIn: 5, dSAE: 6, kind: .relu(l1: 1), hook: "blocks.1.hook_resid_post", seed: 1)
        XCTAssertThrowsError(try wide.check(fits: try ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 32), source: "s")) {
            XCTAssertTrue("\($0)".contains("5-wide activations, but blocks.1.hook_resid_post of this model is 16 wide"), "\($0)")
        }
        wide.hook = "blocks.7.hook_resid_post"
        XCTAssertThrowsError(try wide.check(fits: try ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 32), source: "s"))
        XCTAssertThrowsError(try SparseAutoencoder(dIn: 4, dSAE: 6, kind: .topK(7), hook: "h", seed: 1).validate())
    }

    func model() throws -> HookedTransformer {
        HookedTransformer.random(config: try ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 32), seed: 4, std: 0.3)
    }

    func settings() -> SAETrainingSettings {
        var s = SAETrainingSettings()
        s.features = 32
        s.batchSize = 256
        s.positions = 256 * 12
        s.l1 = 0.01
        s.learningRate = 1e-2
        s.chunkGames = 8
        s.deadWindow = 256 * 4
        s.resampleEvery = 256 * 4
        return s
    }

    func testTrainingLowersTheLossAndResumesExactly() throws {
        let model = try model()
        var statuses: [SAETrainingStatus] = []
        let whole = try SAETrainer(model: model, hook: "blocks.1.hook_resid_post", settings: settings())
        try whole.train { statuses.append($0) }
        XCTAssertLessThan(statuses.last!.mse, statuses.first!.mse)
        XCTAssertEqual(whole.step, 12)
        // Stopped after 6 steps (a checkpoint), then resumed: the same weights as the run without a stop.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sae-train-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: folder) }
        var half = settings()
        half.positions = 256 * 6
        let first = try SAETrainer(model: model, hook: "blocks.1.hook_resid_post", settings: half)
        try first.train()
        try first.saveCheckpoint(to: folder)
        // The checkpoint's settings say 6 steps; resuming continues a run whose target is rewritten to 12.
        var file = try SafetensorsFile.read(from: folder)
        var metadata = file.metadata
        metadata["settings"] = String(decoding: try JSONEncoder().encode(settings()), as: UTF8.self)
        try SafetensorsFile.write(file.names.map { (name: $0, tensor: try file.tensor($0)) }, metadata: metadata, to: folder)
        file = try SafetensorsFile.read(from: folder)
        let resumed = try SAETrainer(model: model, resuming: folder)
        try resumed.train()
        XCTAssertEqual(resumed.sae.parameters, whole.sae.parameters)
    }

    /// p-annealing: p's schedule, the L1 coefficient's rescaling at a change of p (the penalty on that batch stays
    /// the same), and a run stopped between two changes resumes to the same weights.
    func testPAnnealingByHandAndItsResume() throws {
        var s = settings()
        (s.l1, s.pEnd, s.annealStartFraction, s.annealUpdates) = (0.05, 0.5, 0.25, 2)   // 12 steps: p changes at 3 and 8
        XCTAssertEqual((0..<12).map { s.sparsityExponent(at: $0) }, [1, 1, 1, 0.75, 0.75, 0.75, 0.75, 0.75, 0.5, 0.5, 0.5, 0.5])
        var topK = s
        topK.kind = .topk
        XCTAssertThrowsError(try topK.validate()) { XCTAssertTrue("\($0)".contains("--p-end (p-annealing) is for ReLU SAEs"), "\($0)") }
        var zero = s
        zero.pEnd = 0
        XCTAssertThrowsError(try zero.validate()) { XCTAssertTrue("\($0)".contains("above 0"), "\($0)") }

        let model = try model(), hook = "blocks.1.hook_resid_post"
        let stream = try ActivationStream(model: model, hook: hook, seed: s.seed, chunkGames: s.chunkGames)
        let state = try SAETrainingState(hook: hook, width: stream.width, settings: s)
        let batch = UnsafeMutablePointer<Float>.allocate(capacity: s.batchSize * stream.width)
        defer { batch.deallocate() }
        for _ in 0..<3 { try stream.next(s.batchSize, into: batch); _ = try state.train(on: batch) }
        XCTAssertEqual(state.sparsityScale, 1)
        // Step 3 changes p from 1 to 0.75: λ is multiplied by Σ f / Σ f^0.75 over this batch's activations.
        try stream.next(s.batchSize, into: batch)
        let f = state.sae.encode(Array(UnsafeBufferPointer(start: batch, count: s.batchSize * stream.width)), rows: s.batchSize)
        let ratio = f.filter { $0 > 0 }.reduce(0.0) { $0 + Double($1) } / f.filter { $0 > 0 }.reduce(0.0) { $0 + Double(powf($1, 0.75)) }
        _ = try state.train(on: batch)
        XCTAssertEqual(Double(state.sparsityScale), ratio, accuracy: 1e-4 * ratio)
        XCTAssertEqual(state.sae.kind, .relu(l1: 0.05 * state.sparsityScale))
        try stream.next(s.batchSize, into: batch); _ = try state.train(on: batch)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("panneal-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try state.saveCheckpoint(to: url, chunk: stream.chunk, row: stream.row)
        let resumed = try SAETrainer(model: model, resuming: url)
        XCTAssertEqual(resumed.state.sparsityScale, state.sparsityScale)
        try resumed.train()
        let whole = try SAETrainer(model: model, hook: hook, settings: s)
        try whole.train()
        XCTAssertEqual(resumed.sae.parameters, whole.sae.parameters)
        XCTAssertEqual(resumed.state.sparsityScale, whole.state.sparsityScale)
        XCTAssertNotEqual(whole.state.sparsityScale, state.sparsityScale)   // the change at step 8 rescaled again
    }

    func testGamesWithoutPositionsAreAnErrorNotAnEndlessStream() throws {
        XCTAssertThrowsError(try SAETrainer(model: try model(), hook: "blocks.1.hook_resid_post", settings: settings(), games: try GameDataset(games: [[]]))) {
            XCTAssertTrue("\($0)".contains("holds no positions"), "\($0)")
        }
    }

    func testEvaluationOnASmallModel() throws {
        let model = try model()
        let trainer = try SAETrainer(model: model, hook: "blocks.1.hook_resid_post", settings: settings())
        try trainer.train()
        let games = RandomGames.generate(count: 12, seed: 5)
        let evaluation = try SAEEvaluation.evaluate(trainer.sae, model: model, games: games)
        XCTAssertEqual(evaluation.positions, games.lengths.map { min($0, 59) }.reduce(0, +))
        XCTAssertGreaterThan(evaluation.explainedVariance, 0)
        XCTAssertLessThanOrEqual(evaluation.explainedVariance, 1)
        XCTAssertGreaterThan(evaluation.l0, 0)
        XCTAssertEqual(evaluation.frequencies.count, 32)
        XCTAssertEqual(evaluation.dead, evaluation.frequencies.filter { $0 == 0 }.count)
        XCTAssertGreaterThanOrEqual(evaluation.frequencyBelow["10%"]!, evaluation.frequencyBelow["1%"]!)
        XCTAssertTrue((0...1).contains(evaluation.board.coverage["board"]!))
        XCTAssertTrue((0...1).contains(evaluation.legalTop1.spliced))
        XCTAssertThrowsError(try SAEEvaluation.evaluate(SparseAutoencoder(dIn: 32, dSAE: 8, kind: .relu(l1: 1), hook: "blocks.1.hook_resid_post", seed: 1),
                                                        model: model, games: games))
    }
}

extension SparseAutoencoderTests {
    /// Activations so large the loss overflows: training stops with an error, and the checkpoint written before stays.
    func testANonFiniteLossStopsTrainingAndKeepsTheCheckpoint() throws {
        let huge = HookedTransformer.random(config: try ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 32), seed: 4, std: 1e18)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sae-nan-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data("previous checkpoint".utf8).write(to: url)
        let trainer = try SAETrainer(model: huge, hook: "blocks.1.hook_resid_post", settings: settings())
        XCTAssertThrowsError(try trainer.train(checkpoint: url, every: 0)) { XCTAssertTrue("\($0)".contains("the loss became"), "\($0)") }
        XCTAssertEqual(try String(contentsOf: url), "previous checkpoint")
    }
}

/// The positive control: an SAE trained on activations made of known sparse directions finds them.
final class KnownFeaturesControlTests: XCTestCase {
    func testTheTrainerRecoversKnownDirections() throws {
        var control = KnownFeaturesControl()
        (control.dIn, control.features, control.active, control.samples, control.steps, control.batch) = (32, 64, 4, 8000, 2000, 128)
        let result = try control.run()
        XCTAssertGreaterThanOrEqual(result.meanMaxCosine, 0.95)
        XCTAssertEqual(result.l0, 4, accuracy: 1e-9, "TopK keeps exactly k")
        XCTAssertGreaterThan(result.explainedVariance, 0.8)
        // Chance level for comparison: an untrained SAE's decoder rows are random directions.
        control.steps = 1
        XCTAssertLessThan(try control.run().meanMaxCosine, 0.7)
    }
}
