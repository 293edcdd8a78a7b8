import Foundation
@testable import OthelloCommands
import OthelloModel
import OthelloPlots
import OthelloTraining
import WorkbenchSupport
import XCTest

/// `othello-gpt train` (run, resume, export, figure) end to end on a tiny model.
final class TrainCommandsTests: CommandTestCase {
    let tiny = ["--layers", "1", "--d-model", "16", "--heads", "2", "--d-mlp", "32", "--batch", "8", "--eval-games", "8", "--threads", "2"]

    func testTrainExportFigureAndResume() throws {
        try run(["train"] + tiny + ["--games", "48", "--eval-every", "2", "--out", path("m.safetensors"), "--log", path("m.jsonl")])
        // The weights load as a model; the checkpoint sits next to them.
        let model = try HookedTransformer.load(from: URL(fileURLWithPath: path("m.safetensors")))
        XCTAssertEqual(model.config.dModel, 16)
        let checkpoint = try Checkpoint.read(from: URL(fileURLWithPath: path("m.ckpt.safetensors")))
        XCTAssertEqual(checkpoint.step, 6)
        XCTAssertEqual(try TrainingLog.read(URL(fileURLWithPath: path("m.jsonl"))).map(\.step), [2, 4, 6])

        try run(["train", "export", path("m.ckpt.safetensors"), "--out", path("w.safetensors")])
        let exported = try HookedTransformer.load(from: URL(fileURLWithPath: path("w.safetensors")))
        XCTAssertEqual(Array(exported.parameters.buffer), Array(model.parameters.buffer))
        // --dtype f16: every weight rounded to the nearest half float.
        try run(["train", "export", path("m.ckpt.safetensors"), "--dtype", "f16", "--out", path("h.safetensors")])
        let half = try HookedTransformer.load(from: URL(fileURLWithPath: path("h.safetensors")))
        XCTAssertEqual(Array(half.parameters.buffer), model.parameters.buffer.map { Float(Float16($0)) })

        // --with-optimizer: a compact checkpoint that resumes; --dtype beside it is a one-line error.
        try run(["train", "export", path("m.ckpt.safetensors"), "--with-optimizer", "--out", path("c.ckpt.safetensors")])
        let compact = try Checkpoint.read(from: URL(fileURLWithPath: path("c.ckpt.safetensors")))
        XCTAssertEqual(Array(compact.parameters.buffer), model.parameters.buffer.map { Float(Float16($0)) })
        let conflict = try errorMessage(["train", "export", path("m.ckpt.safetensors"), "--with-optimizer", "--dtype", "f16", "--out", path("x")])
        XCTAssertTrue(conflict?.contains("drop one of them") ?? false, conflict ?? "no error")

        try run(["train", "figure", path("m.jsonl"), "--out", path("curves.png")])
        let image = try PNG.read(from: URL(fileURLWithPath: path("curves.png")))
        XCTAssertGreaterThan(image.width, image.height)

        // Milestones add a second row of panels (the world model forming); a line that is not one names its line.
        let milestone = #"{"step": 4170, "games": 533760, "legal_top1": 0.951, "best_linear_relative": {"hook": "blocks.4.hook_resid_post", "accuracy": 0.889}, "best_linear_colour": 0.754, "best_mlp_colour": {"hook": "blocks.3.hook_resid_post", "accuracy": 0.868}, "null_error": 3.66, "best_single_direction_edit": {"label": "direction ×2 at blocks.4.hook_resid_mid", "error": 3.28}}"#
        let later = milestone.replacingOccurrences(of: "533760", with: "1033760").replacingOccurrences(of: "3.28", with: "2.9")
        try Data((later + "\n" + milestone + "\n").utf8).write(to: URL(fileURLWithPath: path("milestones.jsonl")))
        try run(["train", "figure", path("m.jsonl"), "--milestones", path("milestones.jsonl"), "--out", path("both.png")])
        let both = try PNG.read(from: URL(fileURLWithPath: path("both.png")))
        XCTAssertGreaterThanOrEqual(both.width, image.width)
        XCTAssertEqual(both.height, 2 * image.height)
        XCTAssertEqual(try TrainingMilestone.read(URL(fileURLWithPath: path("milestones.jsonl"))).map(\.games), [533760, 1033760])
        try Data((milestone + "\n{\"games\": 1}\n").utf8).write(to: URL(fileURLWithPath: path("bad.jsonl")))
        XCTAssertThrowsError(try run(["train", "figure", path("m.jsonl"), "--milestones", path("bad.jsonl"), "--out", path("bad.png")])) { error in
            XCTAssertTrue("\(error)".contains("bad.jsonl, line 2: not a milestone"), "\(error)")
        }

        // Resuming a finished run does nothing more; contradicting its settings is an error naming the flag.
        try run(["train", "--resume", path("m.ckpt.safetensors"), "--out", path("m.safetensors")])
        XCTAssertThrowsError(try run(["train", "--resume", path("m.ckpt.safetensors"), "--d-model", "32", "--out", path("x.safetensors")])) { error in
            XCTAssertTrue("\(error)".contains("--d-model 32 (the checkpoint has 16)"), "\(error)")
        }
    }

    func testBadInputIsAClearError() throws {
        XCTAssertThrowsError(try run(["train", "--d-model", "30", "--heads", "4", "--out", path("a.safetensors")])) { error in
            XCTAssertTrue("\(error)".contains("not divisible by n_heads"), "\(error)")
        }
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: path("bad.safetensors")))
        XCTAssertThrowsError(try run(["train", "--resume", path("bad.safetensors"), "--out", path("a.safetensors")])) { error in
            XCTAssertTrue("\(error)".contains(path("bad.safetensors")), "\(error)")
        }
        XCTAssertThrowsError(try run(["train"] + tiny + ["--games", "16", "--from-file", path("absent.npy"), "--out", path("a.safetensors")])) { error in
            XCTAssertTrue("\(error)".contains("absent.npy"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("a.safetensors")))
    }

    /// --init-from starts a new run from a model's weights (fresh optimiser): step 0 is the model itself.
    func testInitFromStartsFromTheModelsWeights() throws {
        let small = ["--batch", "8", "--eval-games", "8", "--threads", "2"]
        try run(["train", "--layers", "1", "--d-model", "16", "--heads", "2", "--d-mlp", "32"] + small
                + ["--games", "16", "--out", path("base.safetensors")])
        let base = try HookedTransformer.load(from: URL(fileURLWithPath: path("base.safetensors")))
        try run(["train", "--init-from", path("base.safetensors")] + small
                + ["--games", "16", "--lr", "1e-2", "--seed", "9", "--out", path("tuned.safetensors")])
        let tuned = try HookedTransformer.load(from: URL(fileURLWithPath: path("tuned.safetensors")))
        XCTAssertEqual(tuned.config, base.config, "the architecture comes from the model")
        // Two AdamW steps of lr 1e-2 move each weight by at most about 2e-2 from where it started.
        let distance = zip(Array(tuned.parameters.buffer), Array(base.parameters.buffer)).map { abs($0 - $1) }.max() ?? 0
        XCTAssertGreaterThan(distance, 0)
        XCTAssertLessThan(distance, 0.03)

        XCTAssertEqual(try errorMessage(["train", "--init-from", path("base.safetensors"), "--d-model", "32", "--out", path("x.safetensors")]),
                       "train: --init-from \(path("base.safetensors")) sets the architecture, but --d-model 32 (the model has 16); drop those flags")
        XCTAssertNotNil(try errorMessage(["train", "--init-from", path("base.safetensors"), "--resume", path("base.ckpt.safetensors"),
                                          "--out", path("x.safetensors")]))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("x.safetensors")))
    }

    /// `bench blas` checks a small model's products and says so; --json gives every result.
    func testBenchBLASChecksTheModelsProducts() throws {
        try run(["bench", "blas", "--layers", "1", "--d-model", "16", "--heads", "2", "--d-mlp", "32", "--games-per-shard", "1",
                 "--forward-games", "2", "--threads", "2", "--json"])
        XCTAssertEqual(try errorMessage(["bench", "blas", "--threads", "0"]),
                       "bench blas: --threads, --games-per-shard and --forward-games must be at least 1")
    }
}
