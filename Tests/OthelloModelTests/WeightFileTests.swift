import Foundation
import OthelloModel
import WorkbenchSupport
import XCTest

/// Weight files against TransformerLens 3.9 references (scripts/make_model_fixtures.py).
final class WeightFileTests: XCTestCase {
    func testTorchStateDictLoadsWithInferredConfig() throws {
        let model = try HookedTransformer.load(from: Fixtures.url("tl_lnpre.pth"))
        let c = model.config
        XCTAssertEqual([c.nLayers, c.dModel, c.nHeads, c.dHead, c.dMLP, c.dVocab, c.nCtx], [2, 64, 4, 16, 128, 61, 59])
        XCTAssertEqual(c.normalizationType, .LNPre)
        let expected = try Fixtures.tensors("tl_lnpre_activations.safetensors").tensor("logits")
        assertClose(try fixtureLogits(model), expected, "logits")
    }

    func testFloat16TorchFileMatchesReference() throws {
        let model = try HookedTransformer.load(from: Fixtures.url("tl_lnpre_f16.pth"))
        let expected = try Fixtures.tensors("tl_lnpre_f16_logits.safetensors").tensor("logits")
        assertClose(try fixtureLogits(model), expected, "logits")
    }

    func testMinGPTCheckpointConvertedAndProcessedLikeTransformerLens() throws {
        let dict = try StateDict.read(from: Fixtures.url("mingpt.ckpt"))
        XCTAssertTrue(dict.isMinGPT)
        let model = try HookedTransformer(stateDict: dict, nHeads: 4)
        XCTAssertEqual(model.config.normalizationType, .LNPre)
        let reference = try Fixtures.tensors("mingpt_processed.safetensors")
        let cache = try model.runWithCache(tokens: Fixtures.tokens(), games: 2, positions: 59,
                                           names: ["blocks.0.attn.hook_v", "blocks.1.hook_resid_post"])
        assertClose(cache.logits!, try reference.tensor("logits"), "logits")
        assertClose(cache["blocks.0.attn.hook_v"]!, try reference.tensor("blocks.0.attn.hook_v"), "v (value biases folded)")
        assertClose(cache["blocks.1.hook_resid_post"]!, try reference.tensor("blocks.1.hook_resid_post"), "resid_post (centred)")
    }

    func testMinGPTCheckpointUnprocessedRunsWithLayerNorm() throws {
        let dict = try StateDict.read(from: Fixtures.url("mingpt.ckpt"))
        let model = try HookedTransformer(stateDict: dict, nHeads: 4, process: false)
        XCTAssertEqual(model.config.normalizationType, .LN)
        let reference = try Fixtures.tensors("mingpt_unprocessed.safetensors")
        let cache = try model.runWithCache(tokens: Fixtures.tokens(), games: 2, positions: 59,
                                           names: ["blocks.0.ln1.hook_scale", "blocks.0.ln1.hook_normalized"])
        assertClose(cache.logits!, try reference.tensor("logits"), "logits")
        assertClose(cache["blocks.0.ln1.hook_scale"]!, try reference.tensor("blocks.0.ln1.hook_scale"), "ln1 scale")
        assertClose(cache["blocks.0.ln1.hook_normalized"]!, try reference.tensor("blocks.0.ln1.hook_normalized"), "ln1 normalized (w, b applied)")
    }

    func testSafetensorsRoundTripKeepsWeightsAndConfig() throws {
        let model = try HookedTransformer.load(from: Fixtures.url("tl_lnpre.pth"))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("roundtrip-\(getpid()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.save(to: url)
        let again = try HookedTransformer.load(from: url)
        XCTAssertEqual(again.config, model.config)
        XCTAssertEqual(Array(again.parameters.buffer), Array(model.parameters.buffer))
    }

    func testForbiddenPickleGlobalIsRefusedByName() {
        XCTAssertThrowsError(try StateDict.read(from: Fixtures.url("forbidden_global.pth"))) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("forbidden_global.pth"), message)
            XCTAssertTrue(message.contains("posix.system") || message.contains("os.system"), message)
        }
    }

    func testTruncatedArchiveIsAnError() throws {
        let data = try Data(contentsOf: Fixtures.url("tl_lnpre.pth"))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("truncated-\(getpid()).pth")
        defer { try? FileManager.default.removeItem(at: url) }
        try data.prefix(data.count / 2).write(to: url)
        XCTAssertThrowsError(try HookedTransformer.load(from: url)) { error in
            XCTAssertTrue("\(error)".contains(url.path), "\(error)")
        }
    }

    func testWrongShapeNamesKeyAndExpectedShape() throws {
        let dict = try StateDict.read(from: Fixtures.url("tl_lnpre.pth"))
        var tensors = dict.tensors.filter { !$0.key.hasSuffix("mask") && !$0.key.hasSuffix("IGNORE") }
        tensors["blocks.1.mlp.b_out"] = Tensor(shape: [63])
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("wrong-shape-\(getpid()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafetensorsFile.write(tensors.sorted { $0.key < $1.key }.map { (name: $0.key, tensor: $0.value) }, to: url)
        XCTAssertThrowsError(try HookedTransformer.load(from: url)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("blocks.1.mlp.b_out") && message.contains("[64]") && message.contains(url.path), message)
        }
        tensors["blocks.1.mlp.b_out"] = nil
        try SafetensorsFile.write(tensors.sorted { $0.key < $1.key }.map { (name: $0.key, tensor: $0.value) }, to: url)
        XCTAssertThrowsError(try HookedTransformer.load(from: url)) { error in
            XCTAssertTrue("\(error)".contains("missing key blocks.1.mlp.b_out"), "\(error)")
        }
    }

    /// F16 storage: IEEE half floats, rounded to nearest (0.1 is 0x2E66 = 0.0999755859375, as NumPy's float16
    /// stores it); a value beyond ±65504 is an error that names the tensor, not an infinity.
    func testF16WritesHalfFloatsAndRefusesOverflow() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("half-\(getpid()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafetensorsFile.write([("w", Tensor(shape: [2, 2], values: [1, 0.1, -2.5, 65504]))], as: .f16, to: url)
        let file = try SafetensorsFile.read(from: url)
        XCTAssertEqual(file.entry("w")?.dtype, "F16")
        XCTAssertEqual(file.entry("w").map { $0.end - $0.begin }, 8)
        XCTAssertEqual(try file.tensor("w").values, [1, 0.0999755859375, -2.5, 65504])
        let data = try Data(contentsOf: url)
        XCTAssertEqual(Array(data.suffix(8)), [0x00, 0x3C, 0x66, 0x2E, 0x00, 0xC1, 0xFF, 0x7B])
        XCTAssertThrowsError(try SafetensorsFile.write([("big", Tensor(shape: [1], values: [70000]))], as: .f16, to: url)) { error in
            XCTAssertTrue("\(error)".contains("tensor big") && "\(error)".contains("F32"), "\(error)")
        }
    }

    /// BF16 storage: the upper 16 bits of the F32, rounded to nearest with ties to even (PyTorch's
    /// `.to(torch.bfloat16)`): 0.1 → 0x3DCD = 0.10009765625, 1e-10 (an AdamW second moment, below F16's range)
    /// → 0x2EDC, the ties 1 + 2⁻⁸ → 1 (0x3F80, even) and 1 + 3·2⁻⁸ → 1 + 2⁻⁶ (0x3F82).
    func testBF16WritesRoundedToNearestEven() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bf16-\(getpid()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let values: [Float] = [0.1, 1e-10, 1 + 1.0 / 256, 1 + 3.0 / 256, -2.5]
        try SafetensorsFile.write([("m", Tensor(shape: [5], values: values))], as: .bf16, to: url)
        let file = try SafetensorsFile.read(from: url)
        XCTAssertEqual(file.entry("m")?.dtype, "BF16")
        let data = try Data(contentsOf: url)
        XCTAssertEqual(Array(data.suffix(10)), [0xCD, 0x3D, 0xDC, 0x2E, 0x80, 0x3F, 0x82, 0x3F, 0x20, 0xC0])
        XCTAssertEqual(try file.tensor("m").values, [0.10009765625, Float(bitPattern: 0x2EDC_0000), 1, 1.015625, -2.5])
    }

    func testTruncatedSafetensorsIsAnError() throws {
        let data = try Data(contentsOf: Fixtures.url("tl_lnpre_bf16.safetensors"))
        XCTAssertThrowsError(try SafetensorsFile(data: data.prefix(data.count - 10), path: "cut.safetensors")) { error in
            XCTAssertTrue("\(error)".contains("cut.safetensors"))
        }
        XCTAssertThrowsError(try SafetensorsFile(data: Data([1, 2, 3]), path: "tiny.safetensors"))
    }
}

extension WeightFileTests {
    func testUnknownSafetensorsDtypeIsNamed() throws {
        let header = #"{"embed.W_E":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}"#
        var data = Data()
        var length = UInt64(header.utf8.count).littleEndian
        data.append(Data(bytes: &length, count: 8))
        data.append(Data(header.utf8))
        data.append(Data(count: 16))
        XCTAssertThrowsError(try SafetensorsFile(data: data, path: "ints.safetensors")) { error in
            XCTAssertTrue("\(error)".contains("embed.W_E") && "\(error)".contains("I64"), "\(error)")
        }
    }
}
