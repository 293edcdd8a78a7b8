import Foundation
import OthelloModel
import OthelloTraining
import WorkbenchSupport
import XCTest

/// Training logs and checkpoints from elsewhere: read as written, or refused with a one-line error naming the file
/// (inputs found while fuzzing the readers, scripts/fuzz).
final class TrainingFileTests: XCTestCase {
    /// Windows line ends ("\r\n" is one Character in Swift) end lines too; found by the fuzz target's seeds.
    func testLogWithWindowsLineEnds() throws {
        let line = #"{"elapsed":1.5,"games":128,"games_per_second":85.3,"legal_top1":0.25,"loss":4.1,"lr":1e-05,"step":1}"#
        let entries = try TrainingLog.read(data: Data((line + "\r\n" + line.replacingOccurrences(of: "\"step\":1", with: "\"step\":2") + "\r\n").utf8), source: "crlf.jsonl")
        XCTAssertEqual(entries.map(\.step), [1, 2])
        XCTAssertThrowsError(try TrainingLog.read(data: Data((line + "\n\n\nnot json\n").utf8), source: "gap.jsonl")) { error in
            XCTAssertEqual("\(error)", "gap.jsonl, line 4: not a training log entry; pass another --log file")
        }
    }

    /// Milestone lines are sorted by games; "\r\n" ends lines; an empty file and a line that is not a milestone are
    /// refused naming the file (and the line).
    func testMilestones() throws {
        let line = #"{"games": 890624, "legal_top1": 0.963, "best_linear_relative": {"hook": "blocks.4.hook_resid_post", "accuracy": 0.9}, "best_linear_colour": 0.751, "best_mlp_colour": {"accuracy": 0.881}, "null_error": 3.1, "best_single_direction_edit": {"error": 2.6}}"#
        let earlier = line.replacingOccurrences(of: "890624", with: "533760")
        let milestones = try TrainingMilestone.read(data: Data((line + "\r\n" + earlier + "\r\n").utf8), source: "m.jsonl")
        XCTAssertEqual(milestones.map(\.games), [533760, 890624])
        XCTAssertEqual(milestones[1].bestSingleDirectionEdit.error, 2.6)
        XCTAssertThrowsError(try TrainingMilestone.read(data: Data(), source: "empty.jsonl")) { error in
            XCTAssertEqual("\(error)", "empty.jsonl: no milestones in the file")
        }
        XCTAssertThrowsError(try TrainingMilestone.read(data: Data((line + "\n{}\n").utf8), source: "bad.jsonl")) { error in
            XCTAssertTrue("\(error)".hasPrefix("bad.jsonl, line 2: not a milestone"), "\(error)")
        }
        // A blank line is skipped but counted: the error names the line an editor shows.
        XCTAssertThrowsError(try TrainingMilestone.read(data: Data((line + "\n\n{}\n").utf8), source: "gap.jsonl")) { error in
            XCTAssertTrue("\(error)".hasPrefix("gap.jsonl, line 3: not a milestone"), "\(error)")
        }
    }

    /// The bytes of a checkpoint whose metadata holds `config` (valid, but as large as validation allows) and whose
    /// only tensor is `tensors`: nothing of the model may be allocated before the file is known to hold it.
    func hostileCheckpoint(_ config: ModelConfig, tensors: [(name: String, tensor: Tensor)]) throws -> Data {
        let options = try TrainingOptions(config: config, games: 128, batchSize: 128, learningRate: 1e-3, seed: 1)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafetensorsFile.write(tensors, metadata: [
            "format": Checkpoint.format, "training_options": String(decoding: try JSONEncoder().encode(options), as: UTF8.self),
            "step": "0", "elapsed_seconds": "0",
        ], to: url)
        return try Data(contentsOf: url)
    }

    func assertRefused(_ data: Data, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Checkpoint.read(data: data, source: "hostile.ckpt"), file: file, line: line) { error in
            XCTAssertEqual((error as? WorkbenchError)?.description,
                           "hostile.ckpt: \(expected); resume from a checkpoint written by `othello-gpt train`", file: file, line: line)
        }
    }

    /// d_model 40,000 asked for 25 GB of parameters before any tensor was looked at.
    func testHugeModelIsRefusedBeforeAllocating() throws {
        let data = try hostileCheckpoint(ModelConfig(nLayers: 1, dModel: 40_000, nHeads: 1, dMLP: 1),
                                         tensors: [("embed.W_E", Tensor(shape: [1])), ("blocks.0.attn.W_Q", Tensor(shape: [1]))])
        assertRefused(data, "tensor embed.W_E has shape [1], the model config says [61, 40000]")
    }

    /// 900 million layers: the parameter layout alone would not fit in memory.
    func testBillionLayersAreRefusedBeforeTheLayout() throws {
        let data = try hostileCheckpoint(ModelConfig(nLayers: 900_000_000, dModel: 1, nHeads: 1, dMLP: 1),
                                         tensors: [("blocks.0.attn.W_Q", Tensor(shape: [1]))])
        assertRefused(data, "tensor blocks.1.attn.W_Q is missing")
    }
}
