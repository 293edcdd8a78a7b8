import ArgumentParser
import Foundation
import OthelloModel
import OthelloProbes
import OthelloReports
import OthelloRules
import WorkbenchSupport

/// `othello-gpt probe`: linear and MLP probes of the board state.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Probes of the board state: train, evaluate, sweep every layer, convert published probes.",
        discussion: """
        A probe reads one activation of the model (one vector per position) and predicts, for each of the 64 \
        squares, a class of the board after the move at that position, computed by the rules engine (passes \
        inferred from the rules, never from move parity). Bases:
          colour    empty / black / white (Li et al.)
          relative  empty / theirs / mine, "mine" = the player who moves NEXT (Nanda's convention)
          mover     empty / theirs / mine, "mine" = the player who just moved
          empty, flipped, legal, played   two classes per square: is it empty / flipped by this move / a legal
                    next move / the move just played
        Probes: linear (a softmax classifier per square with a bias, Li et al. and Nanda) or mlp (Li et al.'s \
        d_model → 128 → ReLU → 64 × classes), trained with AdamW on held-out-by-game splits. Accuracy is per \
        square: the share of (position, square) pairs classified right.

        Hooks: --layer L is blocks.L.hook_resid_post (TransformerLens numbering); --hook takes any per-position \
        hook name, or `embed` for hook_embed + hook_pos_embed.
        """,
        subcommands: [ProbeTrainCommand.self, ProbeEvalCommand.self, ProbeSweepCommand.self, ProbeConvertCommand.self]
    )
}

/// Where the games of a probe command come from, and which positions count.
struct ProbeGameOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Games file (.npy, .txt, .wtb, .pgn); default: --count fresh random games.", valueName: "file"))
    var games: String?

    @Option(help: "Random legal games to generate when no --games file is given.")
    var count: Int = 5000

    @Flag(name: .customLong("any-length"), help: "Generated games may end before 60 moves (default: full-length games only, as the TransformerLens dataset).")
    var anyLength = false

    @Option(help: ArgumentHelp("Token positions probed, FIRST-LAST from 0 (Nanda used 5-54); default all.", valueName: "range"))
    var positions: String?

    @Option(help: "Use only the first N games of the file.")
    var limit: Int?

    /// The games, and a name for messages.
    func load(seed: UInt64) throws -> (GameDataset, String) {
        let source = games.map { GameSource.file($0, limit: limit) } ?? .random(count: count, seed: seed, fullLength: !anyLength)
        return (try source.load(), source.description)
    }

    func positionRange(config: ModelConfig) throws -> ClosedRange<Int>? {
        guard let positions else { return nil }
        let parts = positions.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count <= 2, let first = Int(parts[0]), let last = Int(parts.last!), first >= 0, first <= last, last < config.nCtx else {
            throw WorkbenchError("--positions \(positions): give FIRST-LAST with 0 ≤ FIRST ≤ LAST ≤ \(config.nCtx - 1), e.g. 5-54")
        }
        return first...last
    }
}

/// Probe training settings as options.
struct ProbeTrainingOptions: ParsableArguments {
    @Option(help: "Training epochs.") var epochs: Int = 4
    @Option(help: "AdamW learning rate.") var lr: Float = 1e-3
    @Option(name: .customLong("weight-decay"), help: "AdamW weight decay of the weight matrices.") var weightDecay: Float = 0.01
    @Option(help: "Positions per training step.") var batch: Int = 512
    @Option(help: "Hidden width of MLP probes (Li et al.: 128).") var hidden: Int = 128
    @Option(help: "Seed of the games, the split, the MLP's initial weights and the row order.") var seed: UInt64 = 1
    @Option(name: .customLong("test-fraction"), help: "Share of the games held out for testing (split by game).") var testFraction: Double = 0.2

    var settings: ProbeTrainingSettings {
        var settings = ProbeTrainingSettings()
        settings.epochs = epochs
        settings.learningRate = lr
        settings.weightDecay = weightDecay
        settings.batchSize = batch
        settings.hidden = hidden
        settings.seed = seed
        return settings
    }
}

/// `--hook` / `--layer` to a probe hook.
func probeHook(hook: String?, layer: Int?, config: ModelConfig, default fallback: String? = nil) throws -> ProbeHook {
    switch (hook, layer) {
    case (.some, .some): throw WorkbenchError("give --hook or --layer, not both")
    case (let hook?, nil): return try ProbeHook(name: hook, config: config)
    case (nil, let layer?): return try ProbeHook(layer: layer, config: config)
    case (nil, nil):
        guard let fallback, !fallback.isEmpty else {
            throw WorkbenchError("the probe does not record its hook; pass --hook (e.g. blocks.6.hook_resid_post) or --layer")
        }
        return try ProbeHook(name: fallback, config: config)
    }
}

/// `probe train --json` and `probe eval --json`: the score overall, per square, per position and per class (null
/// where nothing was scored), beside the baselines.
struct ProbeScoreJSON: Codable {
    var hook, kind, basis: String
    var accuracy: Double
    var perSquare, perPosition: [Double?]
    var perClass: [String: Double?]
    var squaresScored: Int
    var baselineAccuracy: Double
    /// Accuracy per mode, for files with several (Nanda's black to move, white to move, all).
    var modes: [String: Double]?
    var matchedModeAccuracy: Double?
    // probe train only
    var trainGames, testGames: Int?
    var controlRandomModelAccuracy: Double?
    var out: String?
    // probe eval only
    var games: Int?

    init(_ evaluation: ProbeEvaluation, probe: Probe, hook: ProbeHook, baseline: ProbeScore) {
        let score = evaluation.headline
        func clean(_ values: [Double]) -> [Double?] { values.map { $0.isNaN ? nil : $0 } }
        self.hook = hook.name
        kind = probe.kind.rawValue
        basis = probe.basis.rawValue
        accuracy = score.accuracy
        perSquare = clean(score.perSquare)
        perPosition = clean(score.perPosition)
        perClass = Dictionary(uniqueKeysWithValues: zip(probe.basis.classNames, clean(score.perClass)))
        squaresScored = score.total
        baselineAccuracy = baseline.accuracy
        if probe.modes.count > 1 {
            modes = Dictionary(uniqueKeysWithValues: zip(probe.modes.map(\.rawValue), evaluation.perMode.map(\.accuracy)))
            matchedModeAccuracy = score.accuracy
        }
    }
}

struct ProbeTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a probe at one hook and report its accuracy on held-out games.",
        discussion: """
        The games are split by game into training and held-out games (--test-fraction). The report gives the \
        probe's per-square accuracy on the held-out games beside two controls: the trivial baseline (the most \
        frequent class per square and position in the training games) and the same probe trained on a \
        randomly initialised model of the same shape (skip it with --no-control). With --modes nanda the file \
        holds three probes, as Nanda's: positions where black moves next, where white moves next, and all.

        Examples:
          othello-gpt probe train --layer 4 --kind linear --basis relative --count 5000 --out relative-L4.safetensors
          othello-gpt probe train --hook embed --kind mlp --basis colour --games Games/synthetic-10k.npy --out p.safetensors
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var data: ProbeGameOptions
    @OptionGroup var training: ProbeTrainingOptions
    @Option(help: "Hook name (blocks.5.hook_resid_post, embed, blocks.3.hook_mlp_out, …).") var hook: String?
    @Option(help: "Layer L: short for --hook blocks.L.hook_resid_post.") var layer: Int?
    @Option(help: "linear or mlp (default: linear).", transform: Probe.Kind.init(name:)) var kind: Probe.Kind = .linear
    @Option(help: "colour, relative, mover, empty, flipped, legal or played (default: relative).", transform: ProbeBasis.init(name:)) var basis: ProbeBasis = .relative
    @Option(help: "all (one probe), or nanda (black to move, white to move, all) (default: all).", transform: choice("--modes")) var modes: ProbeModeChoice = .all
    @Option(help: "Where to write the probe (safetensors).") var out: String
    @Flag(name: .customLong("no-control"), help: "Skip the random-init model control.") var noControl = false
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let modeList = modes.modes
        let settings = training.settings
        try settings.validate()
        let transformer = try model.load()
        let hook = try probeHook(hook: hook, layer: layer, config: transformer.config)
        let range = try data.positionRange(config: transformer.config)
        let (games, source) = try data.load(seed: training.seed)
        let split = try GameSplit(count: games.count, testFraction: training.testFraction, seed: training.seed, source: source)
        try checkWritable(out)

        let experiment = try ProbeExperiment.run(model: transformer, games: games, split: split, hook: hook, kind: kind, basis: basis,
                                                 modes: modeList, positionRange: range, settings: settings,
                                                 controlSeed: noControl ? nil : training.seed, batchSize: model.batchSize, source: source)
        var probe = experiment.probe
        let (evaluation, baseline, control) = (experiment.evaluation, experiment.baseline, experiment.control)
        probe.metadata["model"] = model.model ?? "shipped"
        probe.metadata["games"] = "\(source): \(split.train.count) training, \(split.test.count) held out"
        probe.metadata["test_accuracy"] = String(evaluation.headline.accuracy)
        try ProbeFile.save(probe, to: URL(fileURLWithPath: out))

        if json {
            var object = ProbeScoreJSON(evaluation, probe: probe, hook: hook, baseline: baseline)
            object.trainGames = split.train.count
            object.testGames = split.test.count
            object.controlRandomModelAccuracy = control?.headline.accuracy
            object.out = out
            return try printJSON(object)
        }
        print("\(kind.rawValue) probe, \(basis.rawValue) basis, at \(hook.name): trained on \(split.train.count) games, tested on \(split.test.count)")
        if modeList.count > 1 {
            for (mode, score) in zip(modeList, evaluation.perMode) { print("  mode \(mode.rawValue): \(percent(score.accuracy)) on its own positions") }
            print("  matched mode: \(percent(evaluation.headline.accuracy))")
        } else {
            print("  accuracy: \(percent(evaluation.headline.accuracy)) per square")
        }
        print("  trivial baseline (most frequent class per square and position): \(percent(baseline.accuracy))")
        if let control { print("  same probe on a randomly initialised model: \(percent(control.headline.accuracy))") }
        print("  per class: " + zip(basis.classNames, evaluation.headline.perClass).map { "\($0) \(percent($1))" }.joined(separator: ", "))
        print("wrote \(out)")
    }
}

struct ProbeEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score a probe file on games: accuracy overall, per square, per position, per class.",
        discussion: """
        Reads the workbench's probe files, Nanda's main_linear_probe.pth (three modes, colour basis, trained at \
        blocks.6.hook_resid_post) and othello_world probe checkpoints (give --hook or --layer: they do not record \
        it). For a file with several modes each mode is scored on its own positions, and `matched_mode_accuracy` \
        scores every position by the mode of the player who moves next. The trivial baseline is fitted on the \
        same games (an upper bound of what it reaches on held-out games).

        Example:
          othello-gpt probe eval --probe relative-L4.safetensors --games Games/synthetic-10k.npy --json
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var data: ProbeGameOptions
    @Option(help: "The probe file.") var probe: String
    @Option(help: "Hook to read (default: the probe's own).") var hook: String?
    @Option(help: "Layer L: short for --hook blocks.L.hook_resid_post.") var layer: Int?
    @Option(help: "Seed of generated games.") var seed: UInt64 = 2
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let loaded = try ProbeFile.load(from: URL(fileURLWithPath: probe))
        let transformer = try model.load()
        let hook = try probeHook(hook: hook, layer: layer, config: transformer.config, default: loaded.hook)
        try loaded.check(fits: hook, config: transformer.config, source: probe)
        let (games, source) = try data.load(seed: seed)
        let bar = ProgressBar(total: games.count, label: "activations")
        let test = try ProbeData.collect(model: transformer, games: games, indices: Array(0..<games.count), hooks: [hook],
                                         positionRange: try data.positionRange(config: transformer.config),
                                         batchSize: model.batchSize, source: source, progress: bar)
        bar.finish()
        let evaluation = try ProbeEvaluator.evaluate(loaded, on: test, hook: hook, positions: transformer.config.nCtx)
        let baseline = TrivialBaseline(basis: loaded.basis, fittedOn: test, positions: transformer.config.nCtx).score(on: test)
        if json {
            var object = ProbeScoreJSON(evaluation, probe: loaded, hook: hook, baseline: baseline)
            object.games = games.count
            return try printJSON(object)
        }
        print("\(loaded.kind.rawValue) probe, \(loaded.basis.rawValue) basis, at \(hook.name), on \(games.count) games (\(test.rows) positions)")
        if loaded.modes.count > 1 {
            for (mode, score) in zip(loaded.modes, evaluation.perMode) { print("  mode \(mode.rawValue): \(percent(score.accuracy)) on its own positions") }
            print("  matched mode: \(percent(evaluation.headline.accuracy))")
        } else {
            print("  accuracy: \(percent(evaluation.headline.accuracy)) per square")
        }
        print("  trivial baseline (fitted on these games): \(percent(baseline.accuracy))")
        print("  per class: " + zip(loaded.basis.classNames, evaluation.headline.perClass).map { "\($0) \(percent($1))" }.joined(separator: ", "))
        print("  per square:")
        for row in 0..<8 {
            print("    " + (0..<8).map { String(format: "%5.1f", 100 * evaluation.headline.perSquare[row * 8 + $0]) }.joined(separator: " "))
        }
    }
}

struct ProbeConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a probe file: to the workbench's safetensors, or a three-mode colour probe to mine/theirs.",
        discussion: """
        --to relative turns a three-mode colour probe (Nanda's main_linear_probe.pth) into the one mine/theirs \
        probe the TransformerLens Othello tutorial derives from it: empty = the mean of the two modes' empty, \
        mine = the mean of black-to-move's black and white-to-move's white, theirs = the other two.

        Example:
          othello-gpt probe convert --probe main_linear_probe.pth --to relative --out nanda-relative.safetensors
        """
    )

    @Option(help: "The probe file.") var probe: String
    @Option(help: "relative, or same (only re-save in the workbench's format) (default: same).", transform: choice("--to")) var to: ProbeConversion = .same
    @Option(help: "Hook to record in the output (default: the probe's own).") var hook: String?
    @Option(help: "Where to write the converted probe.") var out: String

    func run() throws {
        var loaded = try ProbeFile.load(from: URL(fileURLWithPath: probe))
        if to == .relative { loaded = try ProbeFile.relative(fromColour: loaded) }
        if let hook { loaded.hook = hook }
        loaded.metadata["converted_from"] = probe
        try ProbeFile.save(loaded, to: URL(fileURLWithPath: out))
        print("wrote \(out): \(loaded.kind.rawValue) probe, \(loaded.basis.rawValue) basis, modes \(loaded.modes.map(\.rawValue).joined(separator: ", ")), hook \(loaded.hook.isEmpty ? "(none)" : loaded.hook)")
    }
}
