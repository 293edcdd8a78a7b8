import Foundation
@testable import OthelloCommands
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport
import XCTest

/// The intervention commands end to end on a small random model.
final class InterveneCommandsTests: CommandTestCase {
    var model: String { path("model.safetensors") }

    override func setUpWithError() throws {
        try super.setUpWithError()
        let transformer = HookedTransformer.random(config: try ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 32), seed: 4, std: 0.3)
        try transformer.save(to: URL(fileURLWithPath: model))
        try RandomGames.generate(count: 30, seed: 3).write(to: URL(fileURLWithPath: path("games.npy")))
    }

    func testCasesEvalAndSweep() throws {
        try run(["intervene", "cases", "--games", path("games.npy"), "--count", "10", "--out", path("cases.jsonl")])
        XCTAssertEqual(try String(contentsOfFile: path("cases.jsonl"), encoding: .utf8).split(separator: "\n").count, 10)
        let common = ["--model", model, "--cases", path("cases.jsonl"), "--probe-games", "20"]
        try run(["intervene", "eval"] + common + ["--hook", "blocks.1.hook_resid_mid", "--json"])
        try run(["intervene", "eval"] + common + ["--layers", "0-1", "--method", "gradient", "--steps", "5"])
        try run(["intervene", "sweep"] + common + ["--gradient-steps", "3", "--gradient-probe", "mlp", "--out", path("sweep")])
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: path("sweep")))
        XCTAssertEqual(files, ["intervene-sweep.md", "intervene-sweep.json", "intervene-sweep.png", "intervene-strength.png"])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("sweep/intervene-sweep.json")))) as! [String: Any]
        // 5 hooks (resid_pre of block 1 is resid_post of block 0) × 4 scales + 1 multi-layer start (from L0; from the last layer on is a single edit) × 3 scales
        // + 2 from-edit × 4 scales; scale-free gradient edits at 4 step sizes × (2 single, 2 from-edit, 1 multi-layer);
        // Li et al.'s at 2 single hooks and 1 multi-layer start.
        XCTAssertEqual((json["results"] as! [Any]).count, 20 + 3 + 8 + 20 + 3)
        // Every edit but Li et al.'s (one strength) is tuned on the validation half and scored on the test half.
        let tuned = json["tuned"] as! [[String: Any]]
        XCTAssertEqual(tuned.count, 5 + 1 + 2 + 5 + 3)
        XCTAssertTrue(tuned.allSatisfy { ($0["validation_errors"] as! [Double]).count == ($0["strengths"] as! [Double]).count })
        XCTAssertNotNil(json["best_tuned_single_hook"])
        try run(["intervene", "show"] + common + ["--case", "2", "--hook", "blocks.0.hook_resid_post", "--out", path("show"), "--json"])
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: path("show"))), ["components.png", "readings.png", "boards.png"])
        try run(["intervene", "show"] + common + ["--out", path("average")])
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("average/boards.png")), "no single board for an average")
        let game = try GameDataset.read(from: URL(fileURLWithPath: path("games.npy")))[0]
        try run(["intervene", "show", "--model", model, "--probe-games", "20", "--games", path("games.npy"), "--game", "0", "--move", "10",
                 "--square", SquareNotation.othelloGPT.label(game[0]), "--out", path("one")])
    }

    func testPatchSaliencyAttentionAttribution() throws {
        let prefix = ["--model", model, "--games", path("games.npy"), "--game", "1", "--moves", "12"]
        try run(["intervene", "patch"] + prefix + ["--hook", "z", "--corrupt-at", "11", "--out", path("patch.png"), "--json"])
        try run(["intervene", "patch"] + prefix + ["--pairs", "3", "--out", path("patch-3.png"), "--json"])
        XCTAssertTrue(try errorMessage(["intervene", "patch"] + prefix + ["--pairs", "3", "--target", "C4", "--out", path("p.png")])!.contains("--target takes one game"))
        try run(["intervene", "saliency"] + prefix + ["--probe-games", "20", "--hook", "blocks.1.hook_resid_post", "--out", path("saliency.png")])
        try run(["intervene", "attention"] + prefix + ["--layer", "1", "--head", "0", "--out", path("attention.png")])
        try run(["intervene", "attribution"] + prefix + ["--out", path("attribution")])
        for file in ["patch.png", "patch-3.png", "saliency.png", "attention.png", "attribution/heads.png", "attribution/neurons.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: path(file)), file)
        }
        XCTAssertTrue(try errorMessage(["intervene", "attention"] + prefix + ["--layer", "2", "--head", "0", "--out", path("a.png")])!.contains("layers 0…1"))
        XCTAssertTrue(try errorMessage(["intervene", "patch"] + prefix + ["--hook", "pattern", "--out", path("p.png")])!.contains("choose resid_pre"))
        XCTAssertTrue(try errorMessage(["intervene", "patch", "--model", model, "--games", path("games.npy"), "--moves", "70", "--out", path("p.png")])!.contains("--moves 70"))
    }

    func testBadInputIsAOneLineError() throws {
        try Data("{\"moves\": [37], \"square\": 37}\n{\"moves\": [37, 43], \"square\": 0}\n".utf8).write(to: URL(fileURLWithPath: path("bad.jsonl")))
        let base = ["intervene", "eval", "--model", model, "--probe-games", "20"]
        XCTAssertTrue(try errorMessage(base + ["--cases", path("bad.jsonl")])!.contains("case 1 (line 2)"))
        try Data("{\"moves\": [37, 19], \"square\": 36}\n".utf8).write(to: URL(fileURLWithPath: path("illegal.jsonl")))
        XCTAssertTrue(try errorMessage(base + ["--cases", path("illegal.jsonl")])!.contains("illegal"))
        try Data("{\"moves\": [37, 43], \"square\": 36}\nnot json\n".utf8).write(to: URL(fileURLWithPath: path("broken.jsonl")))
        XCTAssertTrue(try errorMessage(base + ["--cases", path("broken.jsonl")])!.contains("line 2: not a JSON object"))
        XCTAssertTrue(try errorMessage(base + ["--count", "5", "--layers", "0-3"])!.contains("--layers 0-3"))
        XCTAssertTrue(try errorMessage(base + ["--count", "5", "--method", "magic"])!.contains("choose direction or gradient"))
        XCTAssertTrue(try errorMessage(["intervene", "eval", "--model", model, "--probe-games=-5"])!.contains("--probe-games"))
        try Data().write(to: URL(fileURLWithPath: path("empty.txt")))
        XCTAssertNotNil(try errorMessage(["intervene", "cases", "--games", path("empty.txt"), "--out", path("c.jsonl")]))
        XCTAssertTrue(try errorMessage(["intervene", "patch", "--model", model, "--games", path("games.npy"), "--moves", "12", "--target", "D3",
                                        "--out", path("p.png")])!.contains("centre"))
        let wide = Probe(kind: .linear, basis: .relative, hook: "blocks.0.hook_resid_post", modes: [.all], inputWidth: 512)
        try ProbeFile.save(wide, to: URL(fileURLWithPath: path("wide.safetensors")))
        let message = try errorMessage(base + ["--count", "5", "--hook", "blocks.0.hook_resid_post", "--probe", path("wide.safetensors")])!
        XCTAssertTrue(message.contains("512") && message.contains("16 wide"), message)
    }
}
