import ArgumentParser
import Foundation
import OthelloInterventions
import OthelloModel
import OthelloPlots
import OthelloReports
import OthelloProbes
import OthelloRules
import WorkbenchSupport

/// `othello-gpt intervene`: edit the board the model holds and score the edit.
struct InterveneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intervene",
        abstract: "Edit the model's board along probe directions or by gradient steps, and score the edits (Li et al.).",
        discussion: """
        A case is a game prefix and an occupied square; the edit flips that square between mine and theirs in the \
        model's residual stream after the prefix's last move, and the rules engine flips the same disc on the board \
        (nothing else changes) and lists the legal moves of the player to move on the edited board. Li et al.'s \
        metric: the model's top-N moves (N = the number of those legal moves) against them, false positives plus \
        false negatives, averaged over the cases, always beside the null edit (no edit, scored against the edited \
        board). Li et al. report 0.12 after editing vs 2.68 for the null edit on their full-size model.

        Probes: --probe FILE (repeatable, each at its recorded hook), --probe-dir DIR (the probes/ folder of \
        `othello-gpt probe sweep`, files HOOK-linear-relative.safetensors), or by default linear mine/theirs probes \
        trained on --probe-games fresh random games at the hooks needed (with --probe-dir, those the folder lacks).
        """,
        subcommands: [InterveneCasesCommand.self, InterveneEvalCommand.self, InterveneSweepCommand.self, InterveneShowCommand.self, IntervenePatchCommand.self,
                      InterveneSaliencyCommand.self, InterveneAttentionCommand.self, InterveneAttributionCommand.self]
    )
}

struct InterveneCasesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cases",
        abstract: "Draw intervention cases from games: a prefix and a square whose flip changes the legal moves.",
        discussion: """
        Each case: a random game, a random position within the model's 59 at which the game goes on, and an \
        occupied square other than the last move whose flip (mine ↔ theirs; with --edit empty, whose removal) \
        changes the set of legal moves of the player to move and leaves that player a move; with --edit mine or \
        theirs, an empty square on which a disc of the player to move (or of the opponent) does. Written as JSON Lines: {"moves": [...], "square": 37, \
        "label": "E5"} (squares 0…63; the label is for people).

        Example:
          othello-gpt intervene cases --games Games/synthetic-10k.npy --count 1000 --seed 1 --out cases.jsonl
        """
    )

    @Option(help: ArgumentHelp("Games file (.npy, .txt, .wtb, .pgn); default: 5,000 fresh random games.", valueName: "file")) var games: String?
    @Option(help: "Cases to draw.") var count: Int = 1000
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: "flip (mine ↔ theirs), empty (take the disc off), or mine / theirs (put a disc of the player to move / of the opponent on an empty square).") var edit: String = "flip"
    @Option(help: "Where to write the cases (JSON Lines).") var out: String

    func run() throws {
        guard let edit = BoardEdit(rawValue: edit) else { throw WorkbenchError("--edit \(self.edit): choose flip, empty, mine or theirs") }
        let dataset = try games.map { try GameDataset.read(from: URL(fileURLWithPath: $0)) } ?? RandomGames.generate(count: 5000, seed: seed &+ 1000)
        try checkWritable(out)
        let cases = try InterventionCases.generate(from: dataset, count: count, seed: seed, maxPositions: 59, edit: edit)
        try InterventionCases.write(cases, to: URL(fileURLWithPath: out))
        print("wrote \(cases.count) cases to \(out)")
    }
}

/// Options shared by `intervene eval` and `intervene sweep`.
struct InterventionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Case file (JSON Lines); default: --count cases drawn from fresh random games.", valueName: "file")) var cases: String?
    @Option(help: "Cases to draw when no --cases file is given.") var count: Int = 1000
    @Option(help: "Seed of drawn cases and probe games.") var seed: UInt64 = 1
    @Option(help: ArgumentHelp("A probe file to edit with (repeatable; each used at its recorded hook).", valueName: "file")) var probe: [String] = []
    @Option(name: .customLong("probe-dir"), help: ArgumentHelp("A folder of probes named HOOK-linear-relative.safetensors (probe sweep's probes/).", valueName: "dir")) var probeDir: String?
    @Option(name: .customLong("probe-games"), help: "Random games to train probes on when none are given.") var probeGames: Int = 3000

    func prepared(model: HookedTransformer) throws -> [PreparedCase] {
        guard probeGames >= 2 else { throw WorkbenchError("--probe-games must be at least 2, got \(probeGames)") }
        guard count >= 1 else { throw WorkbenchError("--count must be at least 1, got \(count)") }
        let raw: [InterventionCase]
        let source: String
        if let cases {
            raw = try InterventionCases.read(from: URL(fileURLWithPath: cases))
            source = cases
        } else {
            raw = try InterventionCases.generate(from: RandomGames.generate(count: max(1000, count), seed: seed &+ 1000), count: count, seed: seed, maxPositions: model.config.nCtx)
            source = "drawn cases"
        }
        return try raw.enumerated().map { try PreparedCase($1, maxPositions: model.config.nCtx, source: "\(source), case \($0) (line \($0 + 1))") }
    }

    /// Probes by hook for `hooks` plus every resid_post (for the readings): from files, a folder, or trained.
    func probes(model: HookedTransformer, hooks: [HookPoint]) throws -> [HookPoint: Probe] {
        try EditProbes.resolve(model: model, hooks: hooks, files: probe.map { URL(fileURLWithPath: $0) }, folder: probeDir.map { ProbeFolder(URL(fileURLWithPath: $0)) },
                               trainGames: probeGames, seed: seed &+ 2000)
    }
}

struct InterveneEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score one edit on a case set: error, null error, exact share, later-layer probe readings.",
        discussion: """
        --method direction reflects the activation along the square's mine − theirs direction, x ← x − (scale + 1) \
        (x·d̂)d̂ (Nanda; scale 1 = pure reflection); --method gradient takes Adam steps on the activation towards the \
        probe reading the edited board (Li et al.; target square weight 1, others 0.2). By default a gradient step \
        is 0.1 × the edited activation's RMS, at most 200 steps, each activation stopping once the probe gives the \
        edited square its new state with probability 0.999: one setting that fits any model's activation scale \
        (chosen on held-out cases of the shipped model). Li et al.'s lr 1e-3 moves each coordinate by about 1e-3 a \
        step, which suits their model's scale; --li gives their exact settings. --hook edits one hook; \
        --layers A-B edits every blocks.L.hook_resid_post from A to B, one after another in the forward pass (Li et \
        al.'s best: from layer 4 on). --positions from-edit edits every position from the move that set the square.

        Example:
          othello-gpt intervene eval --cases cases.jsonl --method direction --hook blocks.4.hook_resid_post --scale 2 --json
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var intervention: InterventionOptions
    @OptionGroup var edit: EditOptions
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let transformer = try model.load()
        let plan = try edit.plan(config: transformer.config)
        let hooks = plan.hooks
        let cases = try intervention.prepared(model: transformer)
        let probes = try intervention.probes(model: transformer, hooks: hooks)
        let study = try InterventionStudy(model: transformer, cases: cases, probes: probes, batchSize: model.batchSize)
        let result = try study.evaluate(plan)
        if json { return try printJSON(result) }
        print("\(result.label), \(result.cases) cases:")
        print(String(format: "  error %.3f (null edit %.3f: %+.1f%%); exact %.1f%% (null %.1f%%)", result.error, result.nullError,
                     100 * (result.error / max(result.nullError, 1e-9) - 1), 100 * result.exact, 100 * result.nullExact))
        for (hook, change) in result.readingChange.sorted(by: { (try? HookPoint(name: $0.key).layer ?? 0) ?? 0 < (try? HookPoint(name: $1.key).layer ?? 0) ?? 0 }) {
            print(String(format: "  %@: probe's probability of the edited state %+.3f", hook, change))
        }
    }
}

/// Which edit: method, hooks, positions (shared by `intervene eval` and `intervene show`).
struct EditOptions: ParsableArguments {
    @Option(help: "direction or gradient (default: direction).", transform: choice("--method")) var method: EditMethodChoice = .direction
    @Option(help: "The hook edited (default blocks.4.hook_resid_post).") var hook: String?
    @Option(help: ArgumentHelp("Edit every blocks.L.hook_resid_post for L in FIRST-LAST.", valueName: "range")) var layers: String?
    @Option(help: "Direction edits: the reflection's scale.") var scale: Float = 2
    @Option(help: ArgumentHelp("Gradient edits: Adam's step, a multiple of each edited activation's RMS (scale-free, the default: 0.1), or with --absolute-lr Adam's plain learning rate.", valueName: "rate")) var lr: Float?
    @Flag(name: .customLong("absolute-lr"), help: "Gradient edits: --lr is Adam's plain learning rate, not relative to the activation's scale.") var absoluteLR = false
    @Option(help: "Gradient edits: the most Adam steps (default 200; 1,000 with --li).") var steps: Int?
    @Option(name: .customLong("stop-at"), help: ArgumentHelp("Gradient edits: stop an activation once the probe gives the edited square its new state this probability (default 0.999).", valueName: "p")) var stopAt: Float?
    @Flag(name: .customLong("no-stop"), help: "Gradient edits: take every step.") var noStop = false
    @Flag(help: "Gradient edits: Li et al.'s exact settings (--absolute-lr --lr 1e-3 --steps 1000 --no-stop), for reproducing the paper; their rate fits their model's activation scale, not every model's.") var li = false
    @Option(help: "last or from-edit (default: last).", transform: choice("--positions")) var positions: EditPositions = .last

    func plan(config: ModelConfig) throws -> EditPlan {
        let editMethod: EditMethod
        switch method {
        case .direction: editMethod = .direction(scale: scale)
        case .gradient: editMethod = .gradient(try gradientEdit())
        }
        return try EditPlan.resolve(config: config, hook: hook, layers: layers, method: editMethod, positions: positions)
    }

    /// The gradient edit the flags ask for: the scale-free default, Li et al.'s settings, or either changed.
    func gradientEdit() throws -> GradientEdit {
        var edit = li ? GradientEdit.li : GradientEdit.scaleFree
        if let lr { edit.learningRate = lr }
        if absoluteLR { edit.relative = false }
        if let steps { edit.steps = steps }
        if let stopAt { edit.stopAt = stopAt }
        if noStop { edit.stopAt = nil }
        guard edit.steps >= 1, edit.learningRate > 0, edit.learningRate.isFinite else { throw WorkbenchError("--steps must be at least 1 and --lr positive") }
        if let p = edit.stopAt, !(p > 0 && p <= 1) { throw WorkbenchError("--stop-at \(p): give a probability in (0, 1], or --no-stop") }
        if li && (absoluteLR || noStop) { throw WorkbenchError("--li already means --absolute-lr --lr 1e-3 --steps 1000 --no-stop") }
        return edit
    }
}

struct InterveneSweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "The minimal-edit study: every single hook, every start layer, several scales, both methods.",
        discussion: """
        Scores, on one case set and beside the null edit: direction edits at every block's resid_mid and \
        resid_post and at block 0's resid_pre (blocks.L.hook_resid_pre holds exactly blocks.(L-1).hook_resid_post) \
        at each --scales; direction edits at every resid_post from layer Ls on (each Ls) at \
        --multi-scales; single resid_post direction edits at every position from the edited move at each --scales; \
        scale-free gradient edits (Adam steps of each --learning-rates × the activation's RMS, at most 200, stopping \
        at probability 0.999) at single resid_posts (last position and from the edited move) and from each Ls on; \
        and, beside them, Li et al.'s gradient edits (lr 1e-3, --gradient-steps steps) at single resid_posts and from \
        each Ls on.

        The strength of each edit (scale, step size) is chosen on a validation half of the cases (a seeded split, \
        --split-seed) and its error reported on the other half, so that the minimal edit that works is never \
        chosen on the cases it is scored on; every result also carries its specificity: the change of the later \
        probes' reading of the 63 squares not edited, and the share of cases whose top-1 move is legal on the \
        edited board. Writes into --out: intervene-sweep.md (the tables), intervene-sweep.json, \
        intervene-sweep.png (error by layer per method and strength, the null edit drawn) and \
        intervene-strength.png (validation error by strength per resid_post).

        Example:
          othello-gpt intervene sweep --count 1000 --out intervene-sweep
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var intervention: InterventionOptions
    @Option(help: "Comma-separated scales of single-hook direction edits.") var scales: String = "1,2,4,8"
    @Option(name: .customLong("multi-scales"), help: "Comma-separated scales of multi-layer direction edits.") var multiScales: String = "1,2,4"
    @Option(name: .customLong("learning-rates"), help: "Comma-separated step sizes (× the activation's RMS) of the scale-free gradient edits, or none.") var learningRates: String = "0.01,0.03,0.1,0.3"
    @Option(name: .customLong("gradient-steps"), help: "Adam steps of Li et al.'s gradient edits at lr 1e-3, beside the scale-free ones (0 skips them).") var gradientSteps: Int = 1000
    @Option(name: .customLong("split-seed"), help: "Seed of the validation/test split of the cases (default: --seed).") var splitSeed: UInt64?
    @Option(name: .customLong("gradient-probe"), help: "Probes gradient edits descend: linear, or mlp (Li et al.'s, trained at every resid_post on --probe-games games) (default: linear).", transform: Probe.Kind.init(name:)) var gradientProbe: Probe.Kind = .linear
    @Option(help: "Output folder.") var out: String = "intervene-sweep"
    @Flag(help: "Also print the JSON to standard output.") var json = false

    func run() throws {
        func floats(_ text: String, _ flag: String) throws -> [Float] {
            let values = text.split(separator: ",").compactMap { Float($0) }
            guard !values.isEmpty, values.count == text.split(separator: ",").count else { throw WorkbenchError("\(flag) \(text): give numbers separated by commas") }
            return values
        }
        var options = InterventionSweep.Options()
        options.scales = try floats(scales, "--scales")
        options.multiLayerScales = try floats(multiScales, "--multi-scales")
        guard gradientSteps >= 0 else { throw WorkbenchError("--gradient-steps must be 0 or more") }
        options.liSteps = gradientSteps
        options.includeGradient = learningRates != "none"
        if options.includeGradient {
            options.learningRates = try floats(learningRates, "--learning-rates")
            guard options.learningRates.allSatisfy({ $0 > 0 && $0.isFinite }) else { throw WorkbenchError("--learning-rates \(learningRates): give positive numbers") }
        }
        let transformer = try model.load()
        let folder = URL(fileURLWithPath: out)
        try createOutputFolder(folder)
        let cases = try intervention.prepared(model: transformer)
        let probes = try intervention.probes(model: transformer, hooks: EditProbes.studyHooks(config: transformer.config))
        let gradientKind = gradientProbe
        let gradientProbes = gradientKind == .linear || (gradientSteps == 0 && !options.includeGradient) ? nil
            : try EditProbes.train(model: transformer, hooks: (0..<transformer.config.nLayers).map { HookPoint(.residPost, layer: $0) },
                                   games: RandomGames.generate(count: intervention.probeGames, seed: intervention.seed &+ 2000, fullLength: true),
                                   kind: .mlp)
        let study = try InterventionStudy(model: transformer, cases: cases, probes: probes, gradientProbes: gradientProbes, batchSize: model.batchSize)
        study.split = InterventionStudy.halves(count: cases.count, seed: splitSeed ?? intervention.seed)
        let started = Date()
        var plans = InterventionSweep.plans(config: transformer.config, options: options)
        if gradientProbes != nil {
            for i in plans.indices where plans[i].method.scale == nil { plans[i].label += " (MLP probes)" }
        }
        let results = try InterventionSweep.run(study: study, plans: plans) { result in
            if isatty(STDERR_FILENO) == 0 { FileHandle.standardError.write(Data(String(format: "%@: %.3f (null %.3f)\n", result.label, result.error, result.nullError).utf8)) }
        }
        let report = InterventionSweepReport(results: results, layers: transformer.config.nLayers, seconds: Date().timeIntervalSince(started))
        let jsonText = try report.json()
        try AtomicFile.write(Data(jsonText.utf8), to: folder.appendingPathComponent("intervene-sweep.json"))
        try AtomicFile.write(Data(report.markdown().utf8), to: folder.appendingPathComponent("intervene-sweep.md"))
        try report.figure().write(to: folder.appendingPathComponent("intervene-sweep.png"))
        if let strength = try report.strengthFigure() { try PNG.write(strength, to: folder.appendingPathComponent("intervene-strength.png")) }
        print(json ? jsonText : report.markdown())
    }
}

struct InterveneShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "What an edit changes downstream: components, logits, residual stream, later probes (one case or an average).",
        discussion: """
        For one case (--case I of --cases F, or --games G --game I --move M --square E5) or averaged over every \
        case of the set: the change of every layer's attn_out, every head's hook_result and every MLP's output at \
        the edited position, read through the unembedding on the moves whose legality the edit changed (direct \
        logit attribution of the change: moves that became legal minus moves that stopped being legal); the norm \
        of the residual stream's change per layer; and the later layers' probes' probability of the edited state \
        before and after (does the edit compose through later layers, or only touch the logits?). Figures in \
        --out: components.png (layer × component), readings.png, and for one case boards.png (the board before \
        and after, the model's move probabilities as colours on one shared scale, the edited square and the \
        edited board's legal moves marked).

        Example:
          othello-gpt intervene show --cases cases.jsonl --case 3 --hook blocks.4.hook_resid_post --scale 2
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var intervention: InterventionOptions
    @OptionGroup var edit: EditOptions
    @Option(help: "Which case of the set (from 0); default: the average over all.") var `case`: Int?
    @Option(help: "With --games: the game (from 0).") var game: Int?
    @Option(help: "With --games: the number of moves of the prefix.") var move: Int?
    @Option(help: "With --games: the square to flip (label such as E5, or 0…63).") var square: String?
    @Option(help: ArgumentHelp("A games file to take the case from (with --game, --move, --square).", valueName: "file")) var games: String?
    @Option(help: "Output folder for the figures.") var out: String = "intervene-show"
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let transformer = try model.load()
        let config = transformer.config
        let plan = try edit.plan(config: config)
        var cases: [PreparedCase]
        if let games {
            guard let game, let move, let square else { throw WorkbenchError("--games needs --game, --move and --square") }
            let dataset = try GameDataset.read(from: URL(fileURLWithPath: games))
            guard (0..<dataset.count).contains(game) else { throw WorkbenchError("--game \(game): \(games) has games 0…\(dataset.count - 1)") }
            guard move >= 1 && move <= dataset[game].count else { throw WorkbenchError("--move \(move): game \(game) has \(dataset[game].count) moves") }
            let target = try Int(square) ?? SquareNotation.othelloGPT.square(square)
            cases = [try PreparedCase(InterventionCase(moves: Array(dataset[game].prefix(move)), square: target), maxPositions: config.nCtx,
                                      source: "\(games), game \(game), move \(move)")]
        } else {
            cases = try intervention.prepared(model: transformer)
            if let index = `case` {
                guard cases.indices.contains(index) else { throw WorkbenchError("--case \(index): the set has cases 0…\(cases.count - 1)") }
                cases = [cases[index]]
            }
        }
        let folder = URL(fileURLWithPath: out)
        try createOutputFolder(folder)
        let probes = try intervention.probes(model: transformer, hooks: plan.hooks)
        let study = try InterventionStudy(model: transformer, cases: cases, probes: probes, batchSize: model.batchSize)
        let effect = try study.effect(of: plan)
        let result = try study.evaluate(plan)
        try EditEffectFigures.draw(effect, study: study, plan: plan, in: folder)
        let layers = (0..<config.nLayers).map { HookPoint(.residPost, layer: $0).name }
        if json { return try printJSON(MergedJSON(base: effect, key: "result", extra: result)) }
        print("\(plan.label), \(cases.count == 1 ? "one case" : "mean over \(cases.count) cases"): error \(String(format: "%.2f", result.error)) (null \(String(format: "%.2f", result.nullError)))")
        print("direct logit attribution of the change (moves made legal − moves made illegal), per layer:")
        print("  layer   attn_out " + (0..<config.nHeads).map { RulesOutput.padded("H\($0)", 7) }.joined() + "   mlp_out   |Δresid|/|resid|")
        for l in 0..<config.nLayers {
            let heads = effect.heads[l].map { RulesOutput.padded(String(format: "%+.2f", $0), 7) }.joined()
            print(String(format: "  %5d  %+8.2f ", l, effect.attention[l]) + heads + String(format: "  %+8.2f   %.3f", effect.mlp[l], effect.residualChange[l] / max(effect.residualNorm[l], 1e-9)))
        }
        let components = effect.attention.reduce(0, +) + effect.mlp.reduce(0, +)
        print(String(format: "  total change of the final residual stream: %+.2f (the edit vector itself %+.2f, the components after it %+.2f)",
                     effect.total, effect.total - components, components))
        print("later layers' probes, probability of the edited state (before → after):")
        for name in layers {
            if let before = effect.readingBefore[name], let after = effect.readingAfter[name] {
                print(String(format: "  %@: %.3f → %.3f", name, before, after))
            }
        }
        print("figures in \(out)/")
    }

}
