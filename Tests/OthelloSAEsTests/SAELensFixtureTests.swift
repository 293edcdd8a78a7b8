import Foundation
import OthelloModel
@testable import OthelloSAEs
import WorkbenchSupport
import XCTest

/// SAEs written by SAELens itself (`scripts/make_saelens_fixtures.py`, SAELens 6.54.12) read as SAELens computes them,
/// with SAELens' own MSE, explained variance and L0; and a folder the workbench writes, which SAELens loads.
final class SAELensFixtureTests: XCTestCase {
    func folder(_ name: String) -> URL {
        Bundle.module.url(forResource: "saelens", withExtension: nil, subdirectory: "Fixtures")!.appendingPathComponent(name)
    }

    func reference() throws -> (file: SafetensorsFile, metrics: [String: [String: Double]]) {
        let file = try SafetensorsFile.read(from: folder("reference.safetensors"))
        let metrics = try JSONDecoder().decode([String: [String: Double]].self, from: Data(file.metadata["metrics"]!.utf8))
        return (file, metrics)
    }

    /// The SAEs the workbench writes as `workbench-topk/` and `workbench-batchtopk/` (seeded weights, non-zero biases).
    func workbenchSAE(_ kind: SparseAutoencoder.Kind) -> SparseAutoencoder {
        var sae = SparseAutoencoder(dIn: 16, dSAE: 32, kind: kind, hook: "blocks.1.hook_resid_post", seed: 5)
        for i in 0..<32 { sae.parameters[sae.encoderBias + i] = 0.01 * Float(i) - 0.1 }
        for j in 0..<16 { sae.parameters[sae.decoderBias + j] = 0.05 * Float(j) - 0.3 }
        sae.metadata["model"] = "othello-gpt fixture"
        return sae
    }

    func testSAELensSAEsReadAndComputeAsSAELensDoes() throws {
        let (file, metrics) = try reference()
        let x = try file.tensor("x")
        let rows = x.shape[0]
        let expected: [String: SparseAutoencoder.Kind] = ["standard": .relu(l1: 0), "topk": .topK(4), "jumprelu": .batchTopK(k: 0, threshold: 0.3)]
        for name in ["standard", "topk", "jumprelu", "workbench-topk", "workbench-batchtopk"] {
            let sae = try SAEFile.load(from: folder(name))
            XCTAssertEqual(sae.hook, "blocks.1.hook_resid_post", name)
            if let kind = expected[name] { XCTAssertEqual(sae.kind, kind, name) }
            let acts = sae.encode(x.values, rows: rows), out = sae.decode(acts, rows: rows)
            assertClose(acts, try file.tensor(name + ".acts").values, 1e-5, "\(name) feature activations")
            assertClose(out, try file.tensor(name + ".out").values, 1e-5, "\(name) reconstruction")
            var score = ReconstructionScore(width: 16)
            score.add(x: x.values, reconstruction: out, features: acts, rows: rows, width: sae.dSAE)
            let theirs = try XCTUnwrap(metrics[name], name)
            XCTAssertEqual(score.mse, theirs["mse"]!, accuracy: 1e-4 * theirs["mse"]!, "\(name) MSE")
            XCTAssertEqual(score.explainedVariance, theirs["explained_variance"]!, accuracy: 1e-5, "\(name) explained variance")
            XCTAssertEqual(score.l0, theirs["l0"]!, accuracy: 1e-9, "\(name) L0")
        }
    }

    /// The committed `workbench-topk/` and `workbench-batchtopk/` are what `SAEFile.saveSAELens` writes today (the
    /// same cfg.json and tensors), so SAELens' reading of them (in reference.safetensors) holds for the current writer.
    func testTheWorkbenchWritesTheFoldersSAELensLoaded() throws {
        let folders = [("workbench-topk", SparseAutoencoder.Kind.topK(4)), ("workbench-batchtopk", .batchTopK(k: 4, threshold: 0.05))]
        if let path = ProcessInfo.processInfo.environment["OTHELLO_WRITE_SAELENS_FIXTURE"] {
            for (name, kind) in folders { try SAEFile.saveSAELens(workbenchSAE(kind), to: URL(fileURLWithPath: path).appendingPathComponent(name)) }
        }
        for (name, kind) in folders {
            let written = FileManager.default.temporaryDirectory.appendingPathComponent("saelens-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: written) }
            try SAEFile.saveSAELens(workbenchSAE(kind), to: written)
            let committed = folder(name)
            let a = try JSONSerialization.jsonObject(with: Data(contentsOf: written.appendingPathComponent("cfg.json"))) as! NSDictionary
            let b = try JSONSerialization.jsonObject(with: Data(contentsOf: committed.appendingPathComponent("cfg.json"))) as! NSDictionary
            XCTAssertEqual(a, b, name)
            let mine = try SafetensorsFile.read(from: written.appendingPathComponent("sae_weights.safetensors"))
            let theirs = try SafetensorsFile.read(from: committed.appendingPathComponent("sae_weights.safetensors"))
            XCTAssertEqual(mine.names.sorted(), theirs.names.sorted(), name)
            for tensor in mine.names { XCTAssertEqual(try mine.tensor(tensor).values, try theirs.tensor(tensor).values, "\(name) \(tensor)") }
        }
    }

    func assertClose(_ a: [Float], _ b: [Float], _ tolerance: Float, _ label: String) {
        XCTAssertEqual(a.count, b.count, label)
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tolerance, "\(label): max |Δ| \(worst)")
    }
}
