import Foundation
@testable import OthelloInterventions
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport
import XCTest

/// The scale-free gradient step, the stopping rule and the validation/test choice of an edit's strength.
final class EditStrengthTests: XCTestCase {
    let d = 8

    /// A linear relative probe on `d`-wide activations with seeded weights divided by `divisor`.
    func probe(divisor: Float) -> Probe {
        var probe = Probe(kind: .linear, basis: .relative, hook: "blocks.0.hook_resid_post", modes: [.all], inputWidth: d)
        var random = SeededRandom(seed: 11)
        let outputs = 64 * 3
        for i in 0..<(d * outputs) { probe.parameters[0][i] = random.nextGaussian() / divisor }
        for i in 0..<outputs { probe.parameters[0][d * outputs + i] = 0.1 * random.nextGaussian() }
        return probe
    }

    /// Two activations, each edited towards "mine" on square `squares[r]` (the other squares weighted 0).
    let squares = [19, 44]
    func activations(scale: Float) -> [Float] {
        var random = SeededRandom(seed: 5)
        return (0..<(2 * d)).map { _ in scale * random.nextGaussian() }
    }
    var targets: [UInt8] {
        var t = [UInt8](repeating: 0, count: 2 * 64)
        for (r, s) in squares.enumerated() { t[r * 64 + s] = 1 }
        return t
    }
    var weights: [Float] {
        var w = [Float](repeating: 0, count: 2 * 64)
        for (r, s) in squares.enumerated() { w[r * 64 + s] = 1 }
        return w
    }

    /// The probe's probability of each row's target class at its edited square.
    func readings(_ probe: Probe, _ x: [Float]) -> [Float] {
        var logits = [Float](repeating: 0, count: 2 * probe.outputs), hidden = [Float](repeating: 0, count: 1)
        x.withUnsafeBufferPointer { x in
            probe.logits(mode: 0, inputs: x.baseAddress!, rows: 2, into: &logits, hiddenScratch: &hidden)
        }
        return squares.enumerated().map { r, s in
            let base = r * probe.outputs + s * 3
            return Softmax.probability(of: base + 1, in: logits[base..<(base + 3)])
        }
    }

    /// Hand-worked: an activation 10× larger read by a probe with 10× smaller weights reads the same; the
    /// scale-free step moves both the same way, so they take the same steps to the same reading. Li et al.'s
    /// absolute step does not: it moves the large activation ten times less, relative to its size.
    func testScaledActivationTakesTheSameStepsWithRelativeSteps() throws {
        let small = probe(divisor: 1), large = probe(divisor: 10)
        var x = activations(scale: 1), y = activations(scale: 10)
        XCTAssertEqual(readings(small, x)[0], readings(large, y)[0], accuracy: 1e-5, "the same reading before the edit")
        let edit = GradientEdit(learningRate: 0.05, steps: 300, relative: true, stopAt: 0.95)
        let stepsSmall = ActivationEdit.gradient(probe: small, mode: 0, x: &x, rows: 2, targets: targets, weights: weights, squares: squares, edit: edit)
        let stepsLarge = ActivationEdit.gradient(probe: large, mode: 0, x: &y, rows: 2, targets: targets, weights: weights, squares: squares, edit: edit)
        XCTAssertEqual(stepsSmall, stepsLarge)
        XCTAssertTrue(stepsSmall.allSatisfy { $0 > 1 && $0 < 300 }, "\(stepsSmall)")
        for (a, b) in zip(readings(small, x), readings(large, y)) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        for i in x.indices { XCTAssertEqual(10 * x[i], y[i], accuracy: 1e-3 * max(1, abs(y[i]))) }

        var absolute = edit
        absolute.relative = false
        var xa = activations(scale: 1), ya = activations(scale: 10)
        absolute.stopAt = nil
        absolute.steps = 20
        absolute.learningRate = 0.05
        ActivationEdit.gradient(probe: small, mode: 0, x: &xa, rows: 2, targets: targets, weights: weights, squares: squares, edit: absolute)
        ActivationEdit.gradient(probe: large, mode: 0, x: &ya, rows: 2, targets: targets, weights: weights, squares: squares, edit: absolute)
        XCTAssertGreaterThan(abs(readings(small, xa)[0] - readings(large, ya)[0]), 0.01, "an absolute step depends on the activation's scale")
    }

    /// The stopping rule stops each row at the first step whose reading reaches the threshold: k steps without the
    /// rule give the same activation, reading at least the threshold, and k − 1 steps read less.
    func testStoppingRuleStopsWhereItSays() throws {
        let p = probe(divisor: 1)
        var x = activations(scale: 1)
        let edit = GradientEdit(learningRate: 0.02, steps: 500, relative: true, stopAt: 0.9)
        let taken = ActivationEdit.gradient(probe: p, mode: 0, x: &x, rows: 2, targets: targets, weights: weights, squares: squares, edit: edit)
        XCTAssertTrue(taken.allSatisfy { $0 > 1 && $0 < 500 }, "\(taken)")
        for r in 0..<2 {
            for (steps, reaches) in [(taken[r], true), (taken[r] - 1, false)] {
                var free = activations(scale: 1)
                var uncapped = edit
                uncapped.stopAt = nil
                uncapped.steps = steps
                ActivationEdit.gradient(probe: p, mode: 0, x: &free, rows: 2, targets: targets, weights: weights, squares: squares, edit: uncapped)
                XCTAssertEqual(readings(p, free)[r] >= 0.9, reaches, "row \(r) after \(steps) steps: \(readings(p, free)[r])")
                if reaches { for i in 0..<d { XCTAssertEqual(free[r * d + i], x[r * d + i]) } }
            }
        }
        // Without the rule, every step is taken.
        var all = activations(scale: 1)
        var never = edit
        never.stopAt = nil
        XCTAssertEqual(ActivationEdit.gradient(probe: p, mode: 0, x: &all, rows: 2, targets: targets, weights: weights, squares: squares, edit: never), [500, 500])
    }

    /// The strength is chosen on the validation half only: here the test half would prefer the other strength.
    func testStrengthIsChosenOnTheValidationHalf() throws {
        func result(_ scale: Float, validation: Double, test: Double) -> InterventionResult {
            var r = InterventionResult(label: "direction ×\(scale) at blocks.3.hook_resid_post", method: "direction", scale: scale,
                                       hooks: ["blocks.3.hook_resid_post"], positions: "last", cases: 10, error: (validation + test) / 2, nullError: 10,
                                       exact: 0, nullExact: 0, readingChange: [:])
            r.validationError = validation
            r.testError = test
            r.nullTestError = 10
            return r
        }
        let choices = StrengthChoice.choose([result(1, validation: 6, test: 2), result(2, validation: 4, test: 5), result(4, validation: 5, test: 1)])
        XCTAssertEqual(choices.count, 1)
        XCTAssertEqual(choices[0].chosen, 2)
        XCTAssertEqual(choices[0].testError, 5, "the chosen strength's test error, not the best test error")
        XCTAssertEqual(choices[0].strengths, [1, 2, 4])
        XCTAssertEqual(choices[0].testShare, 0.5)

        let split = InterventionStudy.halves(count: 11, seed: 3)
        XCTAssertEqual(split.filter { $0 }.count, 5)
        XCTAssertEqual(split, InterventionStudy.halves(count: 11, seed: 3))
        XCTAssertNotEqual(split, InterventionStudy.halves(count: 11, seed: 4))
    }

    /// On a small model, a study with a split reports each half's error from that half's cases alone.
    func testSplitErrorsComeFromTheirOwnHalves() throws {
        let fixture = try SmallModelFixture()
        let (model, games, hooks, probes) = (fixture.model, fixture.games, fixture.hooks, fixture.probes)
        let cases = try InterventionCases.generate(from: games, count: 12, seed: 1, maxPositions: 59).map { try PreparedCase($0, maxPositions: 59, source: "case") }
        let study = try InterventionStudy(model: model, cases: cases, probes: probes, batchSize: 5)
        study.split = InterventionStudy.halves(count: cases.count, seed: 2)
        let plan = EditPlan(method: .gradient(.scaleFree), hooks: [hooks[1].point!])
        let result = try study.evaluate(plan)
        let logits = try study.logits(plan: plan)
        let errors = cases.indices.map { InterventionStudy.topNError(logits: logits[$0], legal: cases[$0].legalAfter) }
        func mean(_ keep: Bool) -> Double {
            let kept = cases.indices.filter { study.split![$0] == keep }
            return Double(kept.map { errors[$0] }.reduce(0, +)) / Double(kept.count)
        }
        XCTAssertEqual(result.validationError!, mean(true), accuracy: 1e-12)
        XCTAssertEqual(result.testError!, mean(false), accuracy: 1e-12)
        XCTAssertNotNil(result.meanSteps)
        XCTAssertLessThanOrEqual(result.meanSteps!, 200)
        XCTAssertNotNil(result.top1Legal)
        XCTAssertEqual(Set(result.otherSquaresChange!.keys), Set(result.readingChange.keys))
    }
}
