import Foundation
@testable import OthelloCommands
import OthelloCircuits
import OthelloSAEs
import OthelloModel
import OthelloRules
import XCTest

/// `sae` and `heads` end to end on a small random model.
final class FeatureCommandsTests: CommandTestCase {
    var model: String { path("model.safetensors") }

    override func setUpWithError() throws {
        try super.setUpWithError()
        try HookedTransformer.random(config: try ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 32), seed: 4, std: 0.3)
            .save(to: URL(fileURLWithPath: model))
    }

    var train: [String] {
        ["sae", "train", "--model", model, "--hook", "blocks.1.hook_resid_post", "--features", "24", "--batch", "128", "--positions", "1280",
         "--chunk-games", "8", "--lr", "1e-2", "--l1", "0.01", "--out", path("s.safetensors")]
    }

    func testTrainEvalAndFeatures() throws {
        try run(train + ["--control"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("s-control.safetensors")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("s.ckpt.safetensors")), "the checkpoint goes once the SAE is written")
        let sae = try SAEFile.load(from: URL(fileURLWithPath: path("s.safetensors")))
        XCTAssertEqual(sae.dSAE, 24)
        XCTAssertEqual(sae.hook, "blocks.1.hook_resid_post")
        try run(["sae", "eval", "--model", model, "--sae", path("s.safetensors"), "--control", path("s-control.safetensors"), "--count", "6", "--json"])
        try run(["sae", "convert", "--sae", path("s.safetensors"), "--out", path("s-saelens")])
        XCTAssertEqual(try SAEFile.load(from: URL(fileURLWithPath: path("s-saelens"))).parameters, sae.parameters)
        try run(["sae", "control", "--d-in", "8", "--features", "8", "--active", "2", "--samples", "512", "--steps", "20", "--batch", "64", "--json"])
        try run(["sae", "features", "--model", model, "--sae", path("s.safetensors"), "--count", "6", "--top", "2", "--out", path("features")])
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: path("features")))
        XCTAssertEqual(files, ["correlations.png", "frequencies.png", "top-positions.png", "features.json"])
        try run(["bench", "sae", "--model", model, "--hook", "blocks.1.hook_resid_post", "--features", "8", "--batch", "16", "--steps", "2",
                 "--warmup", "2", "--games", "3", "--no-torch", "--json"])
        try run(["heads", "scores", "--model", model, "--count", "4", "--out", path("heads")])
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("heads/induction.png")))
        try run(["heads", "ablate", "--model", model, "--count", "3", "--mean", "--out", path("ablation")])
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("ablation/legal.png")))
    }

    func testBadInputIsAOneLineError() throws {
        XCTAssertTrue(try errorMessage(train + ["--kind", "topk", "--k", "30"])?.contains("--k 30 must be from 1 to the dictionary size --features 24") ?? false)
        XCTAssertTrue(try errorMessage(train.map { $0 == "blocks.1.hook_resid_post" ? "blocks.1.hook_nothing" : $0 }) != nil)
        XCTAssertTrue(try errorMessage(train.map { $0 == "blocks.1.hook_resid_post" ? "blocks.5.hook_resid_post" : $0 })?.contains("layers 0…1") ?? false)
        XCTAssertTrue(try errorMessage(["sae", "eval", "--model", model, "--sae", path("missing.safetensors")])?.contains("no such file") ?? false)
        // An SAE of another width than the hook's.
        try SAEFile.save(SparseAutoencoder(dIn: 8, dSAE: 4, kind: .relu(l1: 1), hook: "blocks.1.hook_resid_post", seed: 1), to: URL(fileURLWithPath: path("w.safetensors")))
        XCTAssertTrue(try errorMessage(["sae", "eval", "--model", model, "--sae", path("w.safetensors"), "--count", "4"])?.contains("8-wide activations") ?? false)
    }
}
