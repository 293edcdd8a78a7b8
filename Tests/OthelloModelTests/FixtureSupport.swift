import Foundation
import OthelloModel
import WorkbenchSupport
import XCTest

/// Access to the reference fixtures written by `scripts/make_model_fixtures.py` with TransformerLens 3.9.
enum Fixtures {
    static func url(_ name: String) -> URL {
        Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")!
    }

    /// The 2 games × 59 tokens every fixture model was run on.
    static func tokens() throws -> [Int32] {
        try NPYArray.read(from: url("tokens.npy")).elements(of: Int32.self)
    }

    static func tensors(_ name: String) throws -> SafetensorsFile {
        try SafetensorsFile.read(from: url(name))
    }
}

/// Asserts the largest absolute difference is within `tolerance` (shapes must agree).
func assertClose(_ actual: Tensor, _ expected: Tensor, tolerance: Float = 1e-4, _ label: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, expected.shape, "\(label): shape", file: file, line: line)
    guard actual.shape == expected.shape else { return }
    let difference = actual.maxAbsDifference(expected)
    XCTAssertLessThanOrEqual(difference, tolerance, "\(label): max |Δ| = \(difference)", file: file, line: line)
}

/// Runs `model` on the fixture tokens and returns the logits `[2, 59, 61]`.
func fixtureLogits(_ model: HookedTransformer) throws -> Tensor {
    let tokens = try Fixtures.tokens()
    let arena = ActivationArena(config: model.config, maxBatch: 2, mode: .inference)
    try model.forward(tokens: tokens, batch: 2, positions: 59, into: arena)
    return Tensor(shape: [2, 59, model.config.dVocab], copying: arena.logits)
}
