import Foundation
@testable import OthelloInterventions
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport
import XCTest

/// Nanda's direction edit against TransformerLens: `scripts/make_intervention_fixtures.py` edits a small model's
/// blocks.1.hook_resid_post along a linear probe's mine − theirs direction (scale 2) with run_with_hooks, each case
/// alone and unpadded; the workbench (cases batched, padded) gives the same logits and Li et al.'s errors.
final class InterventionReferenceTests: XCTestCase {
    func testDirectionEditMatchesTransformerLens() throws {
        func fixture(_ name: String) -> URL { Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")! }
        let model = try HookedTransformer.load(from: fixture("model.safetensors"))
        let reference = try SafetensorsFile.read(from: fixture("reference.safetensors"))
        let hook = HookPoint(.residPost, layer: 1)
        var probe = Probe(kind: .linear, basis: .relative, hook: hook.name, modes: [.all], inputWidth: 64)
        let weight = try reference.tensor("probe.weight").transposed().values   // [64, 192]
        probe.parameters[0] = weight + (try reference.tensor("probe.bias").values)
        let moves = try reference.tensor("moves").values.map { Int($0) }
        let squares = try reference.tensor("squares").values.map { Int($0) }
        let cases = try squares.indices.map { i in
            try PreparedCase(InterventionCase(moves: moves[(i * 60)..<((i + 1) * 60)].filter { $0 >= 0 }, square: squares[i]),
                             maxPositions: 59, source: "case \(i)")
        }
        let study = try InterventionStudy(model: model, cases: cases, probes: [hook: probe], batchSize: 5)
        let plan = EditPlan(method: .direction(scale: 2), hooks: [hook])
        let edited = try study.logits(plan: plan).flatMap { $0 }, null = try study.logits(plan: nil).flatMap { $0 }
        let worstEdited = zip(edited, try reference.tensor("edited_logits").values).map { abs($0 - $1) }.max()!
        let worstNull = zip(null, try reference.tensor("null_logits").values).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(worstEdited, 1e-4)
        XCTAssertLessThan(worstNull, 1e-4)
        XCTAssertNotEqual(edited, null, "the edit changes the logits")
        let result = try study.evaluate(plan)
        let errors = try reference.tensor("errors").values, nullErrors = try reference.tensor("null_errors").values
        XCTAssertEqual(result.error, Double(errors.reduce(0, +)) / Double(errors.count), accuracy: 1e-9)
        XCTAssertEqual(result.nullError, Double(nullErrors.reduce(0, +)) / Double(nullErrors.count), accuracy: 1e-9)
    }
}
