import Foundation
import OthelloModel
import OthelloRules
@testable import OthelloSAEs
import WorkbenchSupport
import XCTest

/// BatchTopK, the training schedule and the sweep.
final class SAESweepTests: XCTestCase {
    func testBatchTopKSelectionByHand() {
        // 2 rows × 4 features; keep 3 of the batch: 0.9, 0.8 and 0.7 (one row gets two, the other one).
        var f: [Float] = [0.9, 0, 0.2, 0.7,   0.8, 0.1, -0, 0.3]
        var scratch = [Float](repeating: 0, count: 8)
        let cut = SAEMath.selectBatchTopK(&f, count: 8, keep: 3, scratch: &scratch)
        XCTAssertEqual(cut, 0.7)
        XCTAssertEqual(f, [0.9, 0, 0, 0.7,   0.8, 0, 0, 0])
        // Ties at the cut: only as many as fit are kept.
        var tied: [Float] = [0.5, 0.5, 0.5, 1]
        XCTAssertEqual(SAEMath.selectBatchTopK(&tied, count: 4, keep: 2, scratch: &scratch), 0.5)
        XCTAssertEqual(tied.filter { $0 > 0 }.count, 2)
        // Fewer positive than kept: all stay, the smallest is returned.
        var few: [Float] = [0, 0.4, 0, 0.6]
        XCTAssertEqual(SAEMath.selectBatchTopK(&few, count: 4, keep: 3, scratch: &scratch), 0.4)
        XCTAssertEqual(few, [0, 0.4, 0, 0.6])
        // At inference a BatchTopK SAE keeps what is above its threshold.
        let sae = SparseAutoencoder(dIn: 1, dSAE: 3, kind: .batchTopK(k: 1, threshold: 0.5), hook: "h",
                                    parameters: [1, 2, 3,   0, 0, 0,   1, 1, 1,   0])
        let encoded = sae.encode([0.3], rows: 1)
        XCTAssertEqual(encoded[0], 0)
        XCTAssertEqual(encoded[1], 0.6, accuracy: 1e-6)
        XCTAssertEqual(encoded[2], 0.9, accuracy: 1e-6)
    }

    func testScheduleByHand() throws {
        var s = SAETrainingSettings()
        (s.positions, s.batchSize, s.learningRate, s.l1) = (1000, 10, 1, 4)   // 100 steps
        (s.warmupSteps, s.decayFraction, s.l1WarmupFraction) = (4, 0.2, 0.1)
        XCTAssertEqual(s.learningRate(at: 0), 0.25)
        XCTAssertEqual(s.learningRate(at: 3), 1)
        XCTAssertEqual(s.learningRate(at: 79), 1)
        XCTAssertEqual(s.learningRate(at: 80), 1)      // 20 steps left of 20
        XCTAssertEqual(s.learningRate(at: 90), 0.5)
        XCTAssertEqual(s.learningRate(at: 99), 0.05)
        XCTAssertEqual(s.l1(at: 0), 0.4)
        XCTAssertEqual(s.l1(at: 9), 4)
        XCTAssertEqual(s.l1(at: 50), 4)
        // Settings written before the schedule existed read with it off.
        let old = #"{"features": 8, "kind": "topk", "k": 2, "l1": 5, "learningRate": 0.001, "batchSize": 16, "positions": 64, "seed": 1, "deadWindow": 100, "resampleEvery": 0, "chunkGames": 4}"#
        let read = try SAETrainingSettings.decode(from: Data(old.utf8))
        XCTAssertEqual(read.warmupSteps, 0)
        XCTAssertEqual(read.decayFraction, 0)
        XCTAssertEqual(read.learningRate(at: 3), 0.001)
    }

    func testPAnnealingEntriesAndPlansWrittenBeforeThem() throws {
        var plan = SAESweepPlan()
        (plan.kinds, plan.l1s, plan.pEnds) = ([.relu], [5], [1, 0.2])
        XCTAssertEqual(plan.entries.map(\.name), ["blocks.5.hook_resid_post-relu-l1-5-f2048", "blocks.5.hook_resid_post-relu-l1-5-p0.2-f2048"])
        XCTAssertEqual(plan.entries.map { plan.settings(for: $0).pEnd }, [1, 0.2])
        // A plan.json written before --p-end existed reads as L1 only, and equals today's default plan.
        let old = try SAESweepPlan.writtenWithout(key: "p_ends")
        XCTAssertEqual(old, SAESweepPlan())
        plan.pEnds = [0]
        XCTAssertThrowsError(try plan.validate(config: try ModelConfig(nLayers: 8, dModel: 16, nHeads: 2, dMLP: 32))) { XCTAssertTrue("\($0)".contains("--p-end"), "\($0)") }
    }

    func testBatchTopKFilesRoundTripAndSAELensJumpReLU() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("batchtopk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var sae = SparseAutoencoder(dIn: 4, dSAE: 6, kind: .batchTopK(k: 2, threshold: 0.25), hook: "blocks.1.hook_resid_post", seed: 3)
        let url = folder.appendingPathComponent("s.safetensors")
        try SAEFile.save(sae, to: url)
        XCTAssertEqual(try SAEFile.load(from: url).kind, .batchTopK(k: 2, threshold: 0.25))
        // As SAELens saves a BatchTopK SAE for inference: a JumpReLU folder with one threshold for every feature.
        let lens = folder.appendingPathComponent("lens")
        try SAEFile.saveSAELens(sae, to: lens)
        let cfg = try JSONSerialization.jsonObject(with: Data(contentsOf: lens.appendingPathComponent("cfg.json"))) as! [String: Any]
        XCTAssertEqual(cfg["architecture"] as? String, "jumprelu")
        let weights = try SafetensorsFile.read(from: lens.appendingPathComponent("sae_weights.safetensors"))
        XCTAssertEqual(try weights.tensor("threshold").values, [Float](repeating: 0.25, count: 6))
        let back = try SAEFile.load(from: lens)
        XCTAssertEqual(back.kind, .batchTopK(k: 0, threshold: 0.25))
        XCTAssertEqual(back.encode([1, 2, 3, 4], rows: 1), sae.encode([1, 2, 3, 4], rows: 1))
        // Per-feature thresholds are a JumpReLU SAE the workbench does not compute: refused.
        var tensors = try weights.names.map { (name: $0, tensor: try weights.tensor($0)) }
        tensors = tensors.map { $0.name == "threshold" ? (name: "threshold", tensor: Tensor(shape: [6], values: [0.1, 0.2, 0.3, 0.1, 0.1, 0.1])) : $0 }
        try SafetensorsFile.write(tensors, to: lens.appendingPathComponent("sae_weights.safetensors"))
        XCTAssertThrowsError(try SAEFile.load(from: lens)) { XCTAssertTrue("\($0)".contains("per-feature thresholds"), "\($0)") }
        sae.kind = .batchTopK(k: 2, threshold: -1)
        XCTAssertThrowsError(try sae.validate())
    }

    func model() throws -> HookedTransformer {
        HookedTransformer.random(config: try ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 32), seed: 4, std: 0.3)
    }

    func plan() -> SAESweepPlan {
        var plan = SAESweepPlan()
        plan.hooks = ["blocks.1.hook_resid_post"]
        plan.kinds = [.topk, .batchtopk, .relu]
        plan.features = [24]
        plan.ks = [3]
        plan.l1s = [0.05]
        plan.positions = 256 * 8
        plan.batchSize = 256
        plan.learningRate = 1e-2
        plan.evaluationGames = 8
        return plan
    }

    /// Each SAE of a sweep is the SAE `SAETrainer` trains alone with the same settings: sharing the stream changes nothing.
    func testSweepTrainsWhatTheTrainerTrainsAloneAndResumes() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try model(), plan = plan()
        let results = try SAESweep(model: model, modelName: "test", plan: plan, folder: folder).run()
        XCTAssertEqual(results.map(\.entry.name), ["blocks.1.hook_resid_post-topk-k3-f24", "blocks.1.hook_resid_post-batchtopk-k3-f24",
                                                   "blocks.1.hook_resid_post-relu-l1-0.05-f24"])
        for result in results {
            XCTAssertNotNil(result.control)
            XCTAssertTrue((0...1).contains(result.numbers.reconstructionF1))
            XCTAssertTrue(result.numbers.explainedVariance.isFinite && result.numbers.explainedVariance <= 1)
        }
        let entry = plan.entries[1]
        let alone = try SAETrainer(model: model, hook: entry.hook, settings: plan.settings(for: entry))
        try alone.train()
        let swept = try SAEFile.load(from: folder.appendingPathComponent(entry.name + ".safetensors"))
        XCTAssertEqual(swept.parameters, alone.sae.parameters)
        XCTAssertEqual(swept.kind, alone.sae.kind)
        if case .batchTopK(_, let threshold) = swept.kind { XCTAssertGreaterThan(threshold, 0) } else { XCTFail("not BatchTopK") }
        // Run again: nothing is retrained or rescored; the same results.
        let again = try SAESweep(model: model, modelName: "test", plan: plan, folder: folder).run()
        XCTAssertEqual(again.map(\.numbers.explainedVariance), results.map(\.numbers.explainedVariance))
        // Another plan in the same folder is refused.
        var other = plan
        other.ks = [4]
        XCTAssertThrowsError(try SAESweep(model: model, modelName: "test", plan: other, folder: folder)) { XCTAssertTrue("\($0)".contains("another plan"), "\($0)") }
        var bad = plan
        bad.hooks = ["blocks.9.hook_resid_post"]
        XCTAssertThrowsError(try SAESweep(model: model, modelName: "test", plan: bad, folder: folder.appendingPathComponent("x"))) { XCTAssertTrue("\($0)".contains("layers 0…1"), "\($0)") }
    }
}

final class SAEAuxKSettingsTests: XCTestCase {
    func testAuxKEntriesNamesAndRefusals() throws {
        var plan = SAESweepPlan()
        (plan.kinds, plan.ks, plan.auxKs) = ([.topk], [32], [0, 128])
        XCTAssertEqual(plan.entries.map(\.name), ["blocks.5.hook_resid_post-topk-k32-f2048", "blocks.5.hook_resid_post-topk-k32-aux128-f2048"])
        XCTAssertEqual(plan.entries.map { plan.settings(for: $0).auxK }, [0, 128])
        // A plan written before --aux-k existed reads with it off.
        XCTAssertEqual(try SAESweepPlan.writtenWithout(key: "aux_ks").auxKs, [0])
        var s = SAETrainingSettings()
        s.kind = .relu; s.auxK = 128
        XCTAssertThrowsError(try s.validate()) { XCTAssertTrue("\($0)".contains("--aux-k"), "\($0)") }
        s.kind = .topk; s.auxK = 4096
        XCTAssertThrowsError(try s.validate()) { XCTAssertTrue("\($0)".contains("--aux-k 4096"), "\($0)") }
        s.auxK = 128
        XCTAssertNoThrow(try s.validate())
        // A sweep asking for AuxK with no TopK or BatchTopK SAE says so.
        (plan.kinds, plan.auxKs) = ([.relu], [128])
        XCTAssertThrowsError(try plan.validate(config: try ModelConfig(nLayers: 8, dModel: 16, nHeads: 2, dMLP: 32))) { XCTAssertTrue("\($0)".contains("--aux-k"), "\($0)") }
    }
}

extension SAESweepPlan {
    /// Today's default plan as a plan.json written before `key` existed would read.
    static func writtenWithout(key: String) throws -> SAESweepPlan {
        var encoded = try JSONSerialization.jsonObject(with: try JSONOutput.encoder.encode(SAESweepPlan())) as! [String: Any]
        encoded.removeValue(forKey: key)
        return try SAESweepPlan.decode(from: try JSONSerialization.data(withJSONObject: encoded), decoder: JSONOutput.decoder)
    }
}
