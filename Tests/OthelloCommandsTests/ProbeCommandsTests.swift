import Foundation
@testable import OthelloCommands
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport
import XCTest

/// The probe commands end to end on a small random model and a small games file.
final class ProbeCommandsTests: CommandTestCase {
    var model: String { path("model.safetensors") }
    var games: String { path("games.npy") }

    override func setUpWithError() throws {
        try super.setUpWithError()
        let transformer = HookedTransformer.random(config: try ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 32), seed: 4, std: 0.3)
        try transformer.save(to: URL(fileURLWithPath: model))
        try RandomGames.generate(count: 20, seed: 3, fullLength: true).write(to: URL(fileURLWithPath: games))
    }

    func testTrainThenEvalThenConvert() throws {
        try run(["probe", "train", "--model", model, "--games", games, "--layer", "1", "--kind", "mlp", "--basis", "colour",
                 "--modes", "nanda", "--epochs", "1", "--hidden", "8", "--out", path("p.safetensors"), "--json"])
        let probe = try ProbeFile.load(from: URL(fileURLWithPath: path("p.safetensors")))
        XCTAssertEqual(probe.kind, .mlp)
        XCTAssertEqual(probe.modes, ProbeMode.nanda)
        XCTAssertEqual(probe.hook, "blocks.1.hook_resid_post")
        XCTAssertNotNil(probe.metadata["test_accuracy"])
        try run(["probe", "eval", "--model", model, "--games", games, "--probe", path("p.safetensors"), "--json"])
        try run(["probe", "train", "--model", model, "--count", "12", "--hook", "embed", "--basis", "colour", "--modes", "nanda",
                 "--epochs", "1", "--no-control", "--out", path("linear.safetensors")])
        try run(["probe", "convert", "--probe", path("linear.safetensors"), "--to", "relative", "--out", path("relative.safetensors")])
        XCTAssertEqual(try ProbeFile.load(from: URL(fileURLWithPath: path("relative.safetensors"))).basis, .relative)
    }

    func testSweepWritesTableJSONProbesAndFigures() throws {
        let out = path("sweep")
        try run(["probe", "sweep", "--model", model, "--games", games, "--epochs", "1", "--hidden", "8", "--out", out])
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: out))
        XCTAssertTrue(files.isSuperset(of: ["sweep.md", "sweep.json", "accuracy-by-layer.png", "per-square.png", "directions.png",
                                            "direction-cosines.png", "probes"]), "\(files)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/sweep.json"))) as! [String: Any]
        let results = json["results"] as! [[String: Any]]
        // 3 hooks × (2 kinds × 2 bases + linear flipped), each with its random-init control.
        XCTAssertEqual(results.count, 15)
        XCTAssertTrue(results.allSatisfy { $0["control_random_model_accuracy"] is Double })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out + "/probes").count, 15)
        XCTAssertNotNil(json["trivial_baseline"] as? [String: Double])
    }

    func testBadInputIsAOneLineErrorAndWritesNothing() throws {
        let base = ["probe", "train", "--model", model, "--games", games, "--out", path("p.safetensors")]
        XCTAssertTrue(try errorMessage(base + ["--layer", "2"])!.contains("layers 0…1"))
        XCTAssertTrue(try errorMessage(base + ["--hook", "blocks.0.attn.hook_pattern"])!.contains("one vector per position"))
        XCTAssertTrue(try errorMessage(base + ["--layer", "0", "--basis", "colours"])!.contains("unknown probe basis"))
        XCTAssertTrue(try errorMessage(base + ["--layer", "0", "--kind", "deep"])!.contains("choose linear or mlp"))
        XCTAssertTrue(try errorMessage(base + ["--layer", "0", "--limit", "1"])!.contains("cannot be split"))
        XCTAssertTrue(try errorMessage(base + ["--layer", "0", "--positions", "40-70"])!.contains("--positions 40-70"))
        XCTAssertTrue(try errorMessage(["probe", "train", "--model", model, "--games", games, "--layer", "0", "--out", path("missing/p.safetensors")])!
            .contains("does not exist"))
        XCTAssertFalse(leftovers.contains("p.safetensors"))
        // A probe for another width.
        let wide = Probe(kind: .linear, basis: .relative, hook: "blocks.0.hook_resid_post", modes: [.all], inputWidth: 512)
        try ProbeFile.save(wide, to: URL(fileURLWithPath: path("wide.safetensors")))
        let message = try errorMessage(["probe", "eval", "--model", model, "--games", games, "--probe", path("wide.safetensors")])!
        XCTAssertTrue(message.contains("wide.safetensors") && message.contains("512") && message.contains("16 wide"), message)
        // Not a probe at all.
        XCTAssertTrue(try errorMessage(["probe", "eval", "--model", model, "--games", games, "--probe", model])!.contains("not a probe file"))
    }
}
