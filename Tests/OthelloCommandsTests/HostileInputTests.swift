import Foundation
@testable import OthelloCommands
import OthelloModel
import OthelloRules
import OthelloTraining
import WorkbenchSupport
import XCTest

/// Damaged or hostile files and out-of-range options: each gives a one-line WorkbenchError, never a crash.
final class HostileInputTests: CommandTestCase {
    /// A version-1 `.npy` file with `header` (the dictionary text) and `payload`.
    func writeNPY(_ name: String, header: String, payload: Data) throws {
        var text = header
        text += String(repeating: " ", count: (64 - (10 + text.utf8.count + 1) % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.utf8.count & 0xFF), UInt8(text.utf8.count >> 8)])
        data.append(contentsOf: Array(text.utf8))
        data.append(payload)
        try data.write(to: folder.appendingPathComponent(name))
    }

    func testNPYShapeTooLargeForAnyFile() throws {
        try writeNPY("huge.npy", header: "{'descr': '|i1', 'fortran_order': False, 'shape': (4611686018427387904, 60), }",
                     payload: Data(count: 60))
        XCTAssertEqual(try errorMessage(["games", "show", path("huge.npy")]),
                       "\(path("huge.npy")): the .npy header's shape [4611686018427387904, 60] of |i1 is too large for any file; the header is damaged")
    }

    /// A safetensors file with the JSON `header` and `payload` bytes of data.
    func writeSafetensors(_ name: String, header: String, payload: Data) throws {
        var length = UInt64(header.utf8.count).littleEndian
        var data = Data(bytes: &length, count: 8)
        data.append(contentsOf: Array(header.utf8))
        data.append(payload)
        try data.write(to: folder.appendingPathComponent(name))
    }

    func testSafetensorsShapeTooLargeOrNotIntegers() throws {
        try writeSafetensors("huge.safetensors", header: #"{"embed.W_E": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 16]}}"#,
                             payload: Data(count: 16))
        XCTAssertEqual(try errorMessage(["run", "--model", path("huge.safetensors"), "--games", path("games.npy")]),
                       "\(path("huge.safetensors")): tensor embed.W_E: shape [4611686018427387904, 4] of F32 needs more bytes than any file holds, data_offsets give 16")
        try writeSafetensors("far.safetensors", header: #"{"embed.W_E": {"dtype": "F32", "shape": [4], "data_offsets": [1e30, 1e30]}}"#,
                             payload: Data(count: 16))
        XCTAssertEqual(try errorMessage(["run", "--model", path("far.safetensors"), "--games", path("games.npy")]),
                       "\(path("far.safetensors")): tensor embed.W_E: malformed header entry (needs dtype, shape and data_offsets, as integers)")
    }

    /// A safetensors file holding no tensor, only a model config in its metadata.
    func writeConfigOnly(_ name: String, nLayers: Int, dModel: Int, nHeads: Int, dHead: Int) throws {
        let config = #"{\"nLayers\":\#(nLayers),\"dModel\":\#(dModel),\"nHeads\":\#(nHeads),\"dHead\":\#(dHead),\"dMLP\":8,\"dVocab\":61,\"nCtx\":59,\"actFn\":\"gelu\",\"normalizationType\":\"LNPre\",\"eps\":1e-5}"#
        try writeSafetensors(name, header: #"{"__metadata__": {"config": "\#(config)"}}"#, payload: Data())
    }

    func testModelConfigInMetadataIsValidated() throws {
        try writeConfigOnly("negative.safetensors", nLayers: -1, dModel: 8, nHeads: 2, dHead: 4)
        XCTAssertEqual(try errorMessage(["run", "--model", path("negative.safetensors"), "--games", path("games.npy")]),
                       "\(path("negative.safetensors")): the config in the file's metadata is not valid (model config: n_layers must be positive, got -1)")
        try writeConfigOnly("huge.safetensors", nLayers: 1, dModel: 1 << 31, nHeads: 1, dHead: 1 << 31)
        XCTAssertEqual(try errorMessage(["run", "--model", path("huge.safetensors"), "--games", path("games.npy")]),
                       "\(path("huge.safetensors")): the config in the file's metadata is not valid (model config: the model is too large for this workbench (more than 2^34 weights))")
        // A config the tensors do not back is refused before the weights' buffer is allocated.
        try writeConfigOnly("empty.safetensors", nLayers: 8, dModel: 8192, nHeads: 8, dHead: 1024)
        XCTAssertEqual(try errorMessage(["run", "--model", path("empty.safetensors"), "--games", path("games.npy")]),
                       "\(path("empty.safetensors")): missing key embed.W_E (expected shape [61, 8192]); is this an Othello-GPT state dict?")
    }

    func testTrainingSizesOutOfRange() throws {
        XCTAssertEqual(try errorMessage(["train", "--games", "9223372036854775807", "--batch", "2", "--out", path("m.safetensors")]),
                       "training: --games 9223372036854775807 is more than this workbench counts (1000000000000); train on fewer games")
        XCTAssertEqual(try errorMessage(["train", "--eval-games", "9223372036854775807", "--out", path("m.safetensors")]),
                       "training: --eval-games 9223372036854775807 is out of range; use 1...100000")
        XCTAssertEqual(try errorMessage(["train", "--batch", "9223372036854775807", "--out", path("m.safetensors")]),
                       "training: the batch size must be between 1 and 65536, got 9223372036854775807")
        let memory = try XCTUnwrap(try errorMessage(["train", "--batch", "65536", "--games", "65536", "--out", path("m.safetensors")]))
        XCTAssertTrue(memory.hasPrefix("training: a batch of 65536 games needs about "), memory)
        XCTAssertEqual(try errorMessage(["train", "--final-lr-fraction=-5", "--out", path("m.safetensors")]),
                       "training: --final-lr-fraction must be between 0 and 1, got -5.0")
        XCTAssertEqual(try errorMessage(["train", "--weight-decay=-3", "--out", path("m.safetensors")]),
                       "training: --weight-decay must be zero or positive, got -3.0")
        XCTAssertEqual(try errorMessage(["train", "--checkpoint-every=-1", "--out", path("m.safetensors")]),
                       "train: --checkpoint-every must be a positive number of seconds, got -1.0")
        XCTAssertEqual(try errorMessage(["train", "--eval-every", "0", "--out", path("m.safetensors")]),
                       "train: --eval-every must be at least 1, got 0")
        XCTAssertEqual(leftovers, [])
    }

    func testCheckpointOptionsAreValidated() throws {
        let options = try TrainingOptions(config: ModelConfig(nLayers: 1, dModel: 8, nHeads: 2, dMLP: 8), games: 4, batchSize: 2,
                                          learningRate: 1e-3, seed: 1)
        var json = try XCTUnwrap(try JSONSerialization.jsonObject(with: JSONEncoder().encode(options)) as? [String: Any])
        json["batchSize"] = 0
        let text = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
        try SafetensorsFile.write([], metadata: ["format": Checkpoint.format, "training_options": text, "step": "0", "elapsed_seconds": "0"],
                                  to: folder.appendingPathComponent("bad.ckpt.safetensors"))
        XCTAssertEqual(try errorMessage(["train", "--resume", path("bad.ckpt.safetensors"), "--out", path("m.safetensors")]),
                       "\(path("bad.ckpt.safetensors")): training: the batch size must be between 1 and 65536, got 0; resume from a checkpoint written by `othello-gpt train`")
        try SafetensorsFile.write([], metadata: ["format": Checkpoint.format, "training_options": String(decoding: try JSONEncoder().encode(options), as: UTF8.self),
                                                 "step": "\(Int.max)", "elapsed_seconds": "0"], to: folder.appendingPathComponent("late.ckpt.safetensors"))
        XCTAssertEqual(try errorMessage(["train", "export", path("late.ckpt.safetensors"), "--out", path("m.safetensors")]),
                       "\(path("late.ckpt.safetensors")): step \(Int.max) or elapsed time 0.0 s does not fit a run of 2 steps; resume from a checkpoint written by `othello-gpt train`")
    }

    func testTrainingLogWithValuesTooFarApartToPlot() throws {
        let lines = [#"{"step":1,"games":10,"loss":1e308,"lr":0.001,"legal_top1":0.5,"games_per_second":1,"elapsed":1}"#,
                     #"{"step":2,"games":20,"loss":-1e308,"lr":0.001,"legal_top1":0.5,"games_per_second":1,"elapsed":2}"#]
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: folder.appendingPathComponent("run.jsonl"))
        XCTAssertEqual(try errorMessage(["train", "figure", path("run.jsonl"), "--out", path("f.png"), "--no-reference"]),
                       "line plot: the y values run from -1e+308 to 1e+308, too far apart to draw; check the data for overflowing values")
        XCTAssertEqual(leftovers, ["run.jsonl"])
    }

    func testBenchGamesTooManyGames() throws {
        XCTAssertEqual(try errorMessage(["bench", "games", "--games", "99999999999999", "--threads", "2"]),
                       "bench games: --games 99999999999999 per thread on 2 threads is too many games for one run; keep --games × --threads at most 10000000")
    }

    func testModelCommandsOnAFileWithoutGames() throws {
        let model = HookedTransformer.random(config: try ModelConfig(nLayers: 1, dModel: 8, nHeads: 2, dMLP: 8), seed: 1)
        try model.save(to: folder.appendingPathComponent("model.safetensors"))
        try Data("\n".utf8).write(to: folder.appendingPathComponent("none.txt"))
        let expected = "\(path("none.txt")): the file holds no games; pass a games file with at least one"
        for command in [["eval"], ["run"], ["cache", "--hooks", "blocks.0.hook_resid_post", "--out", path("acts")]] {
            XCTAssertEqual(try errorMessage(command + ["--model", path("model.safetensors"), "--games", path("none.txt")]), expected)
        }
        XCTAssertEqual(Set(leftovers), ["model.safetensors", "none.txt"])
    }

    func testCacheOfFinalHooksWithoutLogits() throws {
        let model = HookedTransformer.random(config: try ModelConfig(nLayers: 1, dModel: 8, nHeads: 2, dMLP: 8), seed: 1)
        try model.save(to: folder.appendingPathComponent("model.safetensors"))
        try GameDataset(games: RandomGames.generate(count: 2, seed: 1).games).write(to: folder.appendingPathComponent("games.npy"))
        let common = ["cache", "--model", path("model.safetensors"), "--games", path("games.npy"), "--no-logits"]
        // The final layer norm's and the unembedding's hooks need the logits computed, even when they are not written.
        XCTAssertNil(try errorMessage(common + ["--hooks", "**", "--out", path("acts")]))
        let written = try FileManager.default.contentsOfDirectory(atPath: path("acts"))
        XCTAssertTrue(written.contains("unembed.hook_out.npy") && !written.contains("logits.npy"), "\(written)")
        XCTAssertEqual(try NPYArray.read(from: folder.appendingPathComponent("acts/unembed.hook_out.npy")).shape, [2, 59, 61])
        XCTAssertEqual(try errorMessage(common + ["--hooks", "", "--out", path("nothing")]),
                       "--hooks names no hook and --no-logits drops the logits: nothing to write")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("nothing")))
    }

    func testThreadCountBeyondInt32() throws {
        let model = HookedTransformer.random(config: try ModelConfig(nLayers: 1, dModel: 8, nHeads: 2, dMLP: 8), seed: 1)
        try model.save(to: folder.appendingPathComponent("model.safetensors"))
        try GameDataset(games: RandomGames.generate(count: 1, seed: 1).games).write(to: folder.appendingPathComponent("games.npy"))
        let saved = Matmul.threads
        defer { Matmul.setThreads(saved) }
        XCTAssertNil(try errorMessage(["eval", "--model", path("model.safetensors"), "--games", path("games.npy"), "--threads", "99999999999"]))
    }

    func testMissingFilesAndFoldersFailAlike() throws {
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("dir.npy"), withIntermediateDirectories: true)
        for (arguments, file) in [(["games", "show"], "none.npy"), (["games", "show"], "dir.npy"),
                                  (["run", "--games", path("g.npy"), "--model"], "none.pth"),
                                  (["train", "figure", "--out", path("f.png")], "none.jsonl"),
                                  (["train", "export", "--out", path("m.safetensors")], "none.ckpt")] {
            let expected = file.hasPrefix("dir") ? "is a folder, not a file; pass a file" : "no such file; check the path"
            XCTAssertEqual(try errorMessage(arguments + [path(file)]), "\(path(file)): \(expected)")
        }
    }
}
