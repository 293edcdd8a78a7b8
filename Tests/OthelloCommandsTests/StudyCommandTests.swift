import Foundation
@testable import OthelloCommands
@testable import OthelloInterventions
@testable import OthelloReports
import OthelloModel
import OthelloRules
import WorkbenchSupport
import XCTest

/// `othello-gpt study` end to end on a small random model, its resume, and the findings drawn from numbers.
final class StudyCommandTests: CommandTestCase {
    var model: String { path("model.safetensors") }
    var out: String { path("study") }
    var small: [String] { ["study", "--model", model, "--quick", "--count", "30", "--cases", "8", "--gradient-steps", "3", "--out", out] }

    override func setUpWithError() throws {
        try super.setUpWithError()
        let transformer = HookedTransformer.random(config: try ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 32), seed: 4, std: 0.3)
        try transformer.save(to: URL(fileURLWithPath: model))
    }

    func record() throws -> StudyRecord {
        try JSONOutput.decoder.decode(StudyRecord.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/report.json")))
    }

    func testStudyWritesReportFiguresAndWhatTheCommandsNeed() throws {
        try run(small)
        let record = try record()
        XCTAssertTrue(record.complete)
        XCTAssertEqual(Set(record.seconds.keys), Set(StudyReport.steps))
        XCTAssertEqual(record.legal?.synthetic.games, 30)
        XCTAssertNil(record.legal?.publishedCheck, "the check is for d512 models only")
        // 3 hooks (embed, 2 blocks) × (2 kinds × 2 bases + linear flipped), each beside its random-init control.
        XCTAssertEqual(record.probes?.rows.count, 15)
        XCTAssertTrue(record.probes!.rows.allSatisfy { $0.control != nil && FileManager.default.fileExists(atPath: out + "/" + $0.file) })
        XCTAssertEqual(record.probes?.trainGames, 24)
        XCTAssertEqual(record.edits?.cases, 8)
        XCTAssertEqual(record.edits?.results.count, InterventionSweep.plans(config: try ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 32),
                                                                           options: { var o = InterventionSweep.Options(); o.scales = [2, 4]; o.multiLayerScales = [2]
                                                                                     o.learningRates = [0.1, 0.3]; o.liSteps = 3; o.multiLayerGradient = false; return o }()).count)
        XCTAssertTrue(record.edits!.results.allSatisfy { $0.validationError != nil && $0.testError != nil }, "scored on both halves")
        XCTAssertFalse(record.edits!.tuned.isEmpty)
        XCTAssertNotNil(record.effect?.example)
        XCTAssertNotNil(record.examples)
        // The patching example corrupts a move before the last (when the prefix has one with an alternative), and
        // the two-class flipped probe reports its balanced accuracy and F1 beside the baseline's.
        if let examples = record.examples, let patching = examples.patching, examples.moves >= 7 {
            XCTAssertLessThan(patching.corruptedAt, examples.moves - 1)
            XCTAssertEqual(patching.atLastPosition?.count, 2)
        }
        let flipped = try XCTUnwrap(record.probes?.rows.first { $0.basis == "flipped" })
        XCTAssertNotNil(flipped.balancedAccuracy)
        XCTAssertNotNil(flipped.f1)
        XCTAssertNil(record.probes?.rows.first { $0.basis == "relative" }?.balancedAccuracy, "three-class targets report accuracy only")
        XCTAssertNotNil(record.probes?.baselineBalancedAccuracy?["flipped"])
        XCTAssertEqual(record.findings.map(\.question).count, 5)
        XCTAssertNotNil(record.circuit)
        // Every figure the report embeds exists; the reproducing commands name the study's files.
        let markdown = try String(contentsOfFile: out + "/report.md")
        let images = markdown.components(separatedBy: "](").dropFirst().compactMap { $0.split(separator: ")").first.map(String.init) }.filter { $0.hasSuffix(".png") }
        XCTAssertGreaterThanOrEqual(images.count, 10)
        for image in images { XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + image), image) }
        XCTAssertTrue(markdown.contains("othello-gpt probe sweep --model \(model) --games \(out)/games.npy --seed 1"))
        XCTAssertTrue(markdown.contains("--cases \(out)/cases.jsonl --probe-dir \(out)/probes"))
        XCTAssertFalse(markdown.contains("Incomplete"))
        // The folder holds a study: rerunning needs --resume or --fresh.
        XCTAssertTrue(try errorMessage(small)?.contains("--resume continues it") ?? false)
        XCTAssertTrue(try errorMessage(small + ["--resume", "--seed", "2"])?.contains("other settings") ?? false)
    }

    func testResumeRunsOnlyTheStepsNotFinished() throws {
        try run(small)
        // As if interrupted after the probes: the later sections and their times gone.
        var partial = try record()
        partial.complete = false
        partial.edits = nil; partial.effect = nil; partial.examples = nil; partial.circuit = nil
        for step in ["edits", "effect", "examples", "circuit"] { partial.seconds[step] = nil }
        let kept = partial.seconds
        try JSONOutput.encoder.encode(partial).write(to: URL(fileURLWithPath: out + "/report.json"))
        let report = StudyReport(record: partial, dir: out).markdown()
        XCTAssertTrue(report.contains("**Incomplete study**: finished legal, probes; not run: edits, effect, examples, circuit"))
        XCTAssertFalse(report.contains("## 3."), "an incomplete report claims nothing of the steps not run")
        XCTAssertTrue(report.contains("`othello-gpt study --resume --out \(out) --quick --model \(model) --count 30 --cases 8 --gradient-steps 3` continues"), "the resume command has the plan's flags")

        try run(small + ["--resume"])
        let resumed = try record()
        XCTAssertTrue(resumed.complete)
        XCTAssertEqual(resumed.seconds["legal"], kept["legal"])
        XCTAssertEqual(resumed.seconds["probes"], kept["probes"])
        XCTAssertNotNil(resumed.edits)
        // The same cases and probes: the same numbers as the uninterrupted run.
        try run(small + ["--fresh"])
        XCTAssertEqual(try record().edits?.results.map(\.error), resumed.edits?.results.map(\.error))
    }

    /// `--probe`: the given probe is scored instead of training the sweep, and the edits still get every probe they need.
    func testGivenProbesReplaceTheSweep() throws {
        try run(["probe", "train", "--model", model, "--count", "12", "--layer", "1", "--basis", "colour", "--modes", "nanda", "--epochs", "1",
                 "--no-control", "--out", path("nanda-style.safetensors")])
        try run(small + ["--probe", path("nanda-style.safetensors")])
        let record = try record()
        XCTAssertTrue(record.probes!.given)
        // Every probe the edits used is in probes/, under the names `intervene --probe-dir` reads (resid_pre 0 → embed).
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/probes/embed-linear-relative.safetensors"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/probes/blocks.1.hook_resid_mid-linear-relative.safetensors"))
        // The three-mode colour probe, and its mine/theirs conversion (Nanda's), both scored on the held-out games.
        XCTAssertEqual(Set(record.probes!.rows.map(\.basis)), ["colour", "relative"])
        XCTAssertTrue(record.complete)
        XCTAssertNotNil(record.edits)
        XCTAssertEqual(record.findings.count, 3, "no probe-sweep findings without a sweep")
    }

    func testBadOptionsAreOneLineErrors() throws {
        XCTAssertTrue(try errorMessage(["study", "--model", model, "--count", "3", "--out", out])?.contains("--count must be at least 10") ?? false)
        XCTAssertTrue(try errorMessage(["study", "--model", model, "--cases", "0", "--out", out])?.contains("--cases") ?? false)
        XCTAssertTrue(try errorMessage(["study", "--model", model, "--resume", "--fresh", "--out", out])?.contains("not both") ?? false)
        XCTAssertTrue(try errorMessage(["study", "--model", path("missing.safetensors"), "--out", out]) != nil)
        // --out naming an existing file: the workbench's one-line error, not Foundation's.
        let file = path("a-file")
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let message = try errorMessage(["study", "--model", model, "--quick", "--out", file])
        XCTAssertTrue(message?.contains("--out \(file): a file is in the way") ?? false, message ?? "no error")
        XCTAssertFalse(message?.contains("NSCocoaErrorDomain") ?? true)
    }

    /// The findings' verdicts from hand-made numbers.
    func testPatchingCarriersSentenceByHand() {
        let text = StudyReport.carriers(atCorruptedMove: [1, 0.6, 0.2], atLastPosition: [0, 0.3, 0.7], between: [0, 0.1, 0.2], of: "Averaged")
        XCTAssertEqual(text, "Averaged, it sits at its own position up to L1, and at the last position from L2 on (70% restored there); " +
                             "the positions in between carry at most 20%; it moves to the last position between L1 and L2.")
        XCTAssertTrue(StudyReport.carriers(atCorruptedMove: [0.2], atLastPosition: [0.1], between: nil, of: "X")
            .hasPrefix("X, patching its own position restores under half of the metric at every layer, and at no layer of the last position alone"))
    }

    func testFindingsFromNumbers() throws {
        let config = try ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 32)
        var record = StudyRecord(plan: .quick(model: "m", seed: 1), modelShape: ModelSummary(config))
        func row(_ hook: String, _ kind: String, _ basis: String, _ accuracy: Double, control: Double? = nil) -> ProbeSection.Row {
            .init(hook: hook, kind: kind, basis: basis, accuracy: accuracy, control: control, perSquare: [], file: "")
        }
        record.probes = ProbeSection(trainGames: 8, testGames: 2, given: false, rows: [
            row("blocks.0.hook_resid_post", "linear", "colour", 0.75), row("blocks.1.hook_resid_post", "linear", "colour", 0.74),
            row("blocks.0.hook_resid_post", "linear", "relative", 0.80, control: 0.65), row("blocks.1.hook_resid_post", "linear", "relative", 0.95, control: 0.66),
            row("blocks.1.hook_resid_post", "mlp", "colour", 0.92),
        ], baselines: ["colour": 0.62, "relative": 0.62], directions: nil)
        var findings = StudyReport(record: record, dir: "s").findings()
        XCTAssertTrue(findings[0].answer.hasPrefix("Yes. A linear probe of mine/theirs (relative to the player who moves next) reads 95.0% of squares at blocks.1.hook_resid_post, against 66.0%"))
        XCTAssertTrue(findings[1].answer.hasPrefix("Yes: the MLP colour probe (Li et al.'s, 128 hidden units) reads 92.0% at blocks.1.hook_resid_post against 75.0%"))
        XCTAssertTrue(findings[1].answer.contains("the linear mine/theirs probe reads as much (95.0%)"))
        // Colour as good as mine/theirs: not linear in mine/theirs.
        record.probes!.rows[3].accuracy = 0.76
        record.probes!.rows[2].accuracy = 0.70
        findings = StudyReport(record: record, dir: "s").findings()
        XCTAssertTrue(findings[0].answer.hasPrefix("Partly."), findings[0].answer)

        func result(_ hooks: [String], scale: Float?, error: Double) -> InterventionResult {
            InterventionResult(label: hooks.joined(separator: "+") + (scale.map { " ×\($0)" } ?? " gradient"), method: scale == nil ? "gradient" : "direction",
                               scale: scale, hooks: hooks, positions: "last", cases: 10, error: error, nullError: 3, exact: 0, nullExact: 0, readingChange: [:])
        }
        record.probes = nil
        record.edits = EditSection(cases: 10, nullError: 3, nullExact: 0, results: [
            result(["blocks.1.hook_resid_post"], scale: 4, error: 1.0), result(["blocks.1.hook_resid_post"], scale: 2, error: 1.4),
            result(["blocks.0.hook_resid_post"], scale: 2, error: 1.45), result(["blocks.0.hook_resid_post"], scale: 1, error: 2.5),
            result(["blocks.0.hook_resid_post", "blocks.1.hook_resid_post"], scale: nil, error: 0.5),
        ])
        findings = StudyReport(record: record, dir: "s").findings()
        // Without a validation/test split (older records): the best on all cases, said as such.
        XCTAssertTrue(findings[0].answer.hasPrefix("The best single-hook edit is blocks.1.hook_resid_post ×4.0 (1.00, 33% of the null edit's 3.00)"), findings[0].answer)
        XCTAssertTrue(findings[0].answer.contains("the best of all is blocks.0.hook_resid_post+blocks.1.hook_resid_post gradient (0.50, 17%)"))
        // With the split: the strength chosen on the validation half (×2 at blocks.1, though ×4 does better on the test
        // half), the edit chosen on it too (blocks.1 over blocks.0), and the error on the test half.
        for (i, (validation, test)) in [(1.2, 0.9), (1.0, 1.6), (1.5, 1.4), (2.4, 2.6), (0.4, 0.6)].enumerated() {
            record.edits!.results[i].validationError = validation
            record.edits!.results[i].testError = test
            record.edits!.results[i].nullTestError = 3
        }
        findings = StudyReport(record: record, dir: "s").findings()
        XCTAssertTrue(findings[0].answer.hasPrefix("Each edit's strength chosen on a validation half of the 10 cases, its error measured on the other 5: the best single-hook edit is direction at blocks.1.hook_resid_post (scale 2): test error 1.60, 53% of the null edit's (3.00)."), findings[0].answer)
    }
}
