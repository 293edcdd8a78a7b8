import ArgumentParser
import Dispatch
import Foundation
import OthelloInterventions
import OthelloModel
import OthelloProbes
import OthelloReports
import OthelloRules
import WorkbenchSupport

/// `othello-gpt study`: the whole world-model study of a model in one command, with its report.
struct StudyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "study",
        abstract: "The whole study in one command: legal moves, probes, edits, what they change, examples, a circuit, a report.",
        discussion: """
        Runs, on one model (default: the shipped one): (1) the legal-move metric on the study's games and on the \
        2025 championship games (Games/WTH_2025.wtb, when run from the repository), with the published-model check \
        for 8-layer d512 models; (2) the probe sweep — linear and MLP probes of colour and mine/theirs at the \
        embeddings and after every block, beside a randomly initialised model and the trivial baseline; (3) the \
        minimal-edit sweep on a case set drawn from the games; (4) what the best single-hook edit changes \
        downstream, averaged and for one case; (5) activation patching, latent saliency, attention patterns and \
        direct logit attribution on one prefix; (6) a circuit: which heads and neurons compute "is this square \
        empty?" (attribution to a linear empty probe, head ablations). Writes into --out: report.md (the figures embedded, every number \
        with the command that reproduces it, and a paragraph per question answered from the numbers), \
        report.json (every number; keys in Sources/OthelloReports/OthelloReports.docc/ReportJSON.md), figures/, and what the commands need: games.npy, \
        cases.jsonl, probes/.

        The default uses the papers' sample sizes (probes on 10,000 games, 1,000 intervention cases, 1,000-step \
        gradient edits) and says how long it will take before starting; --quick runs the same study on 2,000 \
        games and 200 cases in a few minutes. Ctrl-C stops between two writes: the report then holds exactly \
        the finished steps, and --resume continues from there.

        Examples:
          othello-gpt study --quick
          othello-gpt study --model synthetic_model.pth --probe main_linear_probe.pth --out study-published
        """
    )

    @OptionGroup var model: ModelOptions
    @Flag(help: "The short study (2,000 games, 200 cases): minutes instead of an hour.") var quick = false
    @Option(help: ArgumentHelp("Games file (.npy, .txt, .wtb, .pgn) instead of fresh random games.", valueName: "file")) var games: String?
    @Option(help: "Random games to generate (default 10,000; --quick 2,000).") var count: Int?
    @Option(help: "Intervention cases (default 1,000; --quick 200).") var cases: Int?
    @Option(name: .customLong("gradient-steps"), help: "Adam steps of the gradient edits (default 1,000; --quick 200; 0: none).") var gradientSteps: Int?
    @Option(help: ArgumentHelp("A probe file to reuse instead of training the sweep (repeatable; e.g. Nanda's main_linear_probe.pth).", valueName: "file")) var probe: [String] = []
    @Option(help: "Seed of the games, the split, the probes and the cases.") var seed: UInt64 = 1
    @Option(help: "Output folder.") var out: String = "study"
    @Flag(help: "Continue the study in --out from its last finished step (same settings).") var resume = false
    @Flag(help: "Replace a study already in --out (its report, figures/, probes/, cases.jsonl and games.npy).") var fresh = false
    @Flag(help: "Print report.json to standard output at the end.") var json = false

    func studyPlan() throws -> StudyPlan {
        let name = model.model ?? "shipped"
        var plan = quick ? StudyPlan.quick(model: name, seed: seed) : StudyPlan.standard(model: name, seed: seed)
        if let count {
            guard count >= 10 else { throw WorkbenchError("--count must be at least 10, got \(count)") }
            guard games == nil else { throw WorkbenchError("give --games or --count, not both") }
            plan.games = count
        }
        if let games {
            plan.gamesFile = games
            plan.games = 0
        }
        if let cases {
            guard cases >= 1 else { throw WorkbenchError("--cases must be at least 1, got \(cases)") }
            plan.cases = cases
        }
        if let gradientSteps {
            guard gradientSteps >= 0 else { throw WorkbenchError("--gradient-steps must be 0 or more, got \(gradientSteps)") }
            plan.gradientSteps = gradientSteps
        }
        plan.probeFiles = probe
        return plan
    }

    func run() throws {
        guard !(resume && fresh) else { throw WorkbenchError("give --resume or --fresh, not both") }
        let plan = try studyPlan()
        let folder = URL(fileURLWithPath: out)
        try createOutputFolder(folder)
        let transformer = try model.load()
        let reportURL = folder.appendingPathComponent("report.json")
        var record = StudyRecord(plan: plan, modelShape: ModelSummary(transformer.config))
        if FileManager.default.fileExists(atPath: reportURL.path) {
            if resume {
                let old: StudyRecord
                do { old = try JSONOutput.decoder.decode(StudyRecord.self, from: Data(contentsOf: reportURL)) } catch {
                    throw WorkbenchError("\(reportURL.path): not a study report this version reads (\(error.localizedDescription)); use --fresh to start over")
                }
                guard old.plan == plan, old.modelShape == record.modelShape else {
                    throw WorkbenchError("\(out) holds a study with other settings (\(old.plan.model), \(old.plan.quick ? "--quick" : "standard"), seed \(old.plan.seed)); resume it with the same flags, or use --fresh or another --out")
                }
                record = old
            } else if fresh {
                for name in ["report.json", "report.md", "cases.jsonl", "games.npy", "circuit-games.npy", "probes", "figures"] {
                    try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
                }
            } else {
                throw WorkbenchError("\(out) already holds a study: --resume continues it, --fresh replaces it, or choose another --out")
            }
        } else if resume {
            FileHandle.standardError.write(Data("no study in \(out) yet: starting one\n".utf8))
        }

        let runner = try StudyRunner(model: transformer, plan: plan, dir: out, batchSize: model.batchSize, record: record)
        let report = { () throws -> Void in
            runner.record.findings = StudyReport(record: runner.record, dir: out).findings()
            try AtomicFile.write(try JSONOutput.encoder.encode(runner.record), to: reportURL)
            try AtomicFile.write(Data(StudyReport(record: runner.record, dir: out).markdown().utf8), to: folder.appendingPathComponent("report.md"))
        }
        let steps = runner.steps
        let pending = steps.filter { runner.record.seconds[$0.0] == nil }
        let estimate = try StudyEstimate(model: transformer, plan: plan, gameCount: runner.games.count, batchSize: model.batchSize)
        let remaining = pending.reduce(0) { $0 + estimate.seconds[$1.0, default: 0] }
        say("study of \(plan.model) (\(record.modelShape.text)) into \(out)/: \(pending.count) of \(steps.count) steps to run, " +
            "about \(Self.duration(remaining)) on this machine (from a timing of its forward pass). Ctrl-C stops; --resume continues.")
        let interrupt = Self.stopOnInterrupt(folder: out, resume: StudyReport(record: record, dir: out).resumeCommand)
        defer { interrupt.cancel() }
        try report()
        for (index, (name, step)) in steps.enumerated() where runner.record.seconds[name] == nil {
            say("[\(index + 1)/\(steps.count)] \(name) (about \(Self.duration(estimate.seconds[name, default: 0])))")
            let started = Date()
            try step()
            runner.record.seconds[name] = Date().timeIntervalSince(started)
            try report()
        }
        runner.record.complete = true
        try report()
        if json { print(String(decoding: try JSONOutput.encoder.encode(runner.record), as: UTF8.self)) }
        else {
            for finding in runner.record.findings { print("\(finding.question) \(finding.answer)\n") }
            print("wrote \(out)/report.md, \(out)/report.json and \(out)/figures/ (\(Self.duration(runner.record.seconds.values.reduce(0, +))))")
        }
    }

    func say(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

    static func duration(_ seconds: Double) -> String {
        seconds < 90 ? "\(Int(seconds.rounded())) s" : seconds < 5400 ? "\(Int((seconds / 60).rounded())) min" : String(format: "%.1f h", seconds / 3600)
    }

    /// Ctrl-C: the report on disk already holds exactly the finished steps (it is rewritten, atomically, after
    /// each), so stopping is saying so and leaving.
    static func stopOnInterrupt(folder: String, resume: String) -> DispatchSourceSignal {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            FileHandle.standardError.write(Data("\ninterrupted: \(folder)/report.md holds the finished steps; `\(resume)` continues\n".utf8))
            _exit(130)
        }
        source.resume()
        return source
    }
}
