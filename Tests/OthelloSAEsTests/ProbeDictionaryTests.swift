import Foundation
import OthelloProbes
import OthelloSAEs
import WorkbenchSupport
import XCTest

/// The probe dictionary by hand: feature square × 3 + state is ReLU(logit − the square's mean logit) of the probe.
final class ProbeDictionaryTests: XCTestCase {
    func testFeaturesAreTheProbesCentredLogits() throws {
        var probe = Probe(kind: .linear, basis: .relative, hook: "blocks.1.hook_resid_post", modes: [.all], inputWidth: 8)
        var random = SeededRandom(seed: 3)
        for i in probe.parameters[0].indices { probe.parameters[0][i] = random.nextGaussian() }
        let sae = try ProbeDictionary.sae(from: probe)
        XCTAssertEqual(sae.dSAE, 192)
        XCTAssertEqual(sae.hook, "blocks.1.hook_resid_post")
        let x = (0..<(5 * 8)).map { _ in Float(random.nextGaussian()) }
        let f = sae.encode(x, rows: 5)
        var logits = [Float](repeating: 0, count: 5 * 192)
        x.withUnsafeBufferPointer { xs in logits.withUnsafeMutableBufferPointer { probe.logits(mode: 0, inputs: xs.baseAddress!, rows: 5, into: $0.baseAddress!) } }
        for r in 0..<5 {
            for s in 0..<64 {
                let z = (0..<3).map { logits[r * 192 + s * 3 + $0] }, mean = z.reduce(0, +) / 3
                for k in 0..<3 { XCTAssertEqual(f[r * 192 + s * 3 + k], max(0, z[k] - mean), accuracy: 1e-4) }
                // The probe's predicted state is always a firing feature.
                let predicted = z.indices.max { z[$0] < z[$1] }!
                XCTAssertGreaterThan(f[r * 192 + s * 3 + predicted], 0)
            }
        }
        var mlp = probe
        mlp.kind = .mlp
        XCTAssertThrowsError(try ProbeDictionary.sae(from: mlp))
    }
}
