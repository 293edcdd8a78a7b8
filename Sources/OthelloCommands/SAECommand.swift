import ArgumentParser
import Foundation
import OthelloSAEs
import OthelloModel
import OthelloProbes
import OthelloReports
import OthelloRules
import OthelloTraining
import WorkbenchSupport

/// `othello-gpt sae`: sparse autoencoders on a hook, scored against the board.
struct SAECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sae",
        abstract: "Sparse autoencoders on a hook's activations, scored against the board the rules engine knows.",
        discussion: """
        encode(x) = ReLU((x − b_dec)·W_enc + b_enc), decode(f) = f·W_dec + b_dec (SAELens' layout and names), decoder \
        rows at unit norm; --kind relu trains with an L1 penalty (--l1 × the summed activations; with --p-end below 1, \
        p-annealing: --l1 × Σ f^p, p falling from 1 to --p-end after the first 20% of training), --kind topk keeps \
        the --k largest activations of each position, --kind batchtopk the --k × batch largest of a batch in training \
        and those above the threshold it learned at inference (Bussmann et al. 2024; saved for SAELens as JumpReLU). The loss is the mean over positions of the squared error summed over the \
        hook's width (plus the L1 term). Board metrics (Karvonen et al. 2024) score each feature as a classifier \
        of each square's mine/theirs/empty state ("mine" = the player who moves next), of legal moves and of \
        flipped discs.
        """,
        subcommands: [SAETrainCommand.self, SAESweepCommand.self, SAEEvalCommand.self, SAEFeaturesCommand.self, SAEConvertCommand.self, SAEControlCommand.self, SAEDictionaryCommand.self]
    )
}

/// The SAE of `--sae`, or the shipped SAE when neither `--sae` nor `--model` is given (it reads the shipped model
/// only), checked against the model; and the name to print.
func loadSAE(_ path: String?, model: ModelOptions, transformer: HookedTransformer) throws -> (SparseAutoencoder, String) {
    if path == nil, model.model != nil {
        throw WorkbenchError("--sae: the shipped SAE reads the shipped model only; with --model give the SAE trained on that model (--sae FILE)")
    }
    let (sae, name) = try SAEFile.load(path: path)
    try sae.check(fits: transformer.config, source: name)
    return (sae, name)
}

/// Where an SAE's games come from: a file (cycled) or fresh random games.
struct SAEGameOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Games file (.npy, .txt, .wtb, .pgn); default: fresh random games.", valueName: "file")) var games: String?
    @Option(help: "Random games to use when no --games file is given (train: default endless fresh games; eval: 1,000).") var count: Int?

    func dataset(seed: UInt64, defaultCount: Int?) throws -> (GameDataset?, String) {
        if let games {
            guard count == nil else { throw WorkbenchError("give --games or --count, not both") }
            return (try GameSource.file(games).load(), games)
        }
        guard let n = count ?? defaultCount else { return (nil, "fresh random games (seed \(seed))") }
        guard n >= 2 else { throw WorkbenchError("--count must be at least 2, got \(n)") }
        let source = GameSource.random(count: n, seed: seed, fullLength: false)
        return (try source.load(), source.description)
    }
}

struct SAETrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an SAE on a hook, on activations streamed from the model (never all in memory).",
        discussion: """
        Positions come in chunks of --chunk-games games run through the model, shuffled within the chunk. Adam \
        (β 0.9/0.999) at --lr, --batch positions per step, --positions in all. A feature that has not fired for \
        --dead-window positions is dead; every --resample-every positions, during the first half of training, \
        the dead ones are resampled (Anthropic: the decoder row along the residual of a badly reconstructed \
        position). With --aux-k N (TopK, BatchTopK) the dead features also learn from Gao et al.'s auxiliary loss: \
        in each position the N largest of their pre-activations reconstruct the error x − x̂, weight 1/32 on that \
        error normalised by its variance (dictionary_learning's recipe, N = d_in / 2 there). The checkpoint (weights, Adam's moments, the stream's position) is written every 5 minutes: \
        --resume continues exactly. With --control the same recipe is also trained on a randomly initialised \
        model of the same shape (the control of the board metrics), into OUT with -control before the extension.

        Example:
          othello-gpt sae train --hook blocks.5.hook_resid_post --kind topk --features 2048 --k 32 --positions 4000000 --out L5-topk.safetensors
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var data: SAEGameOptions
    @Option(help: "The hook (TransformerLens name).") var hook: String = "blocks.5.hook_resid_post"
    @Option(help: "relu, topk or batchtopk.", transform: choice("--kind")) var kind: SparseAutoencoder.Kind.Name = .relu
    @Option(help: "Dictionary size.") var features: Int = 2048
    @Option(help: "TopK, BatchTopK: activations kept per position.") var k: Int = 32
    @Option(help: "ReLU: the L1 coefficient.") var l1: Float = 5
    @Option(name: .customLong("p-end"), help: "ReLU: p-annealing's last exponent p of the penalty --l1 × Σ f^p (1: plain L1, no annealing).") var pEnd: Float = 1
    @Option(name: .customLong("aux-k"), help: "TopK and BatchTopK: Gao et al.'s auxiliary loss over this many dead features per position (0: off; they use d_in / 2).") var auxK: Int = 0
    @Option(help: "Adam's learning rate.") var lr: Float = 3e-4
    @Option(help: "Positions per step.") var batch: Int = 4096
    @Option(help: "Positions to train on.") var positions: Int = 4_000_000
    @Option(name: .customLong("dead-window"), help: "Positions without firing after which a feature is dead.") var deadWindow: Int = 1_000_000
    @Option(name: .customLong("resample-every"), help: "Resample dead features every this many positions (0: never).") var resampleEvery: Int = 1_000_000
    @Option(name: .customLong("chunk-games"), help: "Games per chunk of the activation stream.") var chunkGames: Int = 256
    @Option(help: "Seed of the games, the initial weights and the resampling.") var seed: UInt64 = 1
    @Flag(help: "Also train the same recipe on a randomly initialised model (the control).") var control = false
    @Flag(help: "The sweep's schedule: 1% learning-rate warm-up, linear decay over the last 20%, L1 warm-up over 5%.") var schedule = false
    @Flag(help: "Continue from OUT's checkpoint (OUT with .ckpt before the extension).") var resume = false
    @Option(help: "Where to write the SAE (safetensors).") var out: String

    var settings: SAETrainingSettings {
        var s = SAETrainingSettings()
        s.features = features; s.kind = kind; s.k = k; s.l1 = l1; s.pEnd = pEnd; s.auxK = auxK; s.learningRate = lr; s.batchSize = batch; s.positions = positions
        s.seed = seed; s.deadWindow = deadWindow; s.resampleEvery = resampleEvery; s.chunkGames = chunkGames
        if schedule { s.useSchedule() }
        return s
    }

    func run() throws {
        try settings.validate()
        let transformer = try model.load()
        try checkWritable(out)
        let (games, source) = try data.dataset(seed: seed &+ 17, defaultCount: nil)
        var runs: [(HookedTransformer, URL, String, UInt64?)] = [(transformer, URL(fileURLWithPath: out), model.model ?? "shipped", nil)]
        if control {
            runs.append((HookedTransformer.randomlyInitialised(like: transformer, seed: seed), SAEFile.sibling(of: URL(fileURLWithPath: out), "-control"), "random-init", seed))
        }
        for (m, file, name, randomSeed) in runs {
            let bar = ProgressBar(total: settings.steps, label: "SAE \(name)")
            let trainer = try SAETrainer.train(model: m, modelName: name, randomInitSeed: randomSeed, hook: hook, settings: settings, games: games,
                                               gamesSource: source, to: file, resume: resume) { status in
                bar.update(done: status.step, status: String(format: "mse %.4g L0 %.1f EV %.3f dead %d", status.mse, status.l0, status.explainedVariance, status.dead))
            }
            bar.finish()
            guard let trainer else {
                print("\(file.path) is already trained (no checkpoint left); kept as it is")
                continue
            }
            let sae = trainer.sae
            print("wrote \(file.path): \(sae.dIn) → \(sae.dSAE) \(sae.kind.name.rawValue) SAE on \(hook) of \(name), \(settings.steps) steps; \(trainer.deadCount) dead features")
        }
    }
}

struct SAESweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Train and score a grid of SAEs (hooks × kinds × sizes × k or L1), each with its random-init control.",
        discussion: """
        Every SAE of a hook trains on the same positions, streamed once from the model for all of them (fresh \
        random games, seed --seed), with one recipe: Adam at --lr with a 1% warm-up and a linear decay over the last \
        20%, decoder rows at unit norm, dead features (no firing for a quarter of training) resampled during the first \
        half, and for ReLU the L1 coefficient warmed up over the first 5% (with --p-end below 1, p-annealing: the \
        penalty λ·Σ f^p, p falling from 1 to --p-end in 10 steps from 20% of training on, λ rescaled at each so the \
        penalty does not jump; with --aux-k above 0, TopK and BatchTopK add Gao et al.'s auxiliary loss: the dead \
        features' --aux-k largest pre-activations reconstruct the error, weight 1/32). Unless --no-control, the same grid is \
        trained on a randomly initialised model of the same shape. Then each SAE is scored as `sae eval` scores it on \
        --eval-games fresh games (its control on the random model). Writes into --out: plan.json, the SAE files, \
        results.json, sweep.md (the table) and frontier.png (L0 against explained variance, board F1 and coverage). \
        Interrupted, it resumes where it stopped when run again with the same flags (checkpoints every 5 minutes).

        Example:
          othello-gpt sae sweep --kind topk --kind batchtopk --k 16 --k 32 --k 64 --positions 4000000 --out sweep
          othello-gpt sae sweep --kind relu --l1 2 --l1 5 --hook blocks.5.mlp.hook_post --out sweep-mlp
          othello-gpt sae sweep --kind relu --l1 5 --p-end 1 --p-end 0.2 --out sweep-panneal
          othello-gpt sae sweep --kind topk --k 32 --aux-k 0 --aux-k 128 --out sweep-auxk
        """
    )

    @OptionGroup var model: ModelOptions
    @Option(name: .customLong("hook"), help: "A hook to train on (repeatable; default blocks.5.hook_resid_post).") var hooks: [String] = []
    @Option(name: .customLong("kind"), help: "relu, topk or batchtopk (repeatable; default all three).", transform: choice("--kind")) var kinds: [SparseAutoencoder.Kind.Name] = []
    @Option(name: .customLong("features"), help: "Dictionary size (repeatable; default 2048).") var features: [Int] = []
    @Option(name: .customLong("k"), help: "TopK and BatchTopK: k (repeatable; default 16, 32, 64).") var ks: [Int] = []
    @Option(name: .customLong("l1"), help: "ReLU: the L1 coefficient (repeatable; default 2, 5, 10).") var l1s: [Float] = []
    @Option(name: .customLong("p-end"), help: "ReLU: p-annealing's last exponent p (repeatable; default 1, the L1 penalty; e.g. --p-end 1 --p-end 0.2).") var pEnds: [Float] = []
    @Option(name: .customLong("aux-k"), help: "TopK and BatchTopK: dead features in the AuxK loss per position (repeatable; default 0, off; Gao et al.: d_in / 2).") var auxKs: [Int] = []
    @Option(help: "Positions each SAE trains on.") var positions: Int = 4_000_000
    @Option(help: "Positions per step.") var batch: Int = 4096
    @Option(help: "Peak learning rate.") var lr: Float = 1e-3
    @Option(help: "Seed of the games, the initial weights, the random-init model.") var seed: UInt64 = 1
    @Option(name: .customLong("eval-games"), help: "Fresh games each SAE is scored on.") var evalGames: Int = 500
    @Flag(name: .customLong("no-control"), help: "Skip the random-init controls.") var noControl = false
    @Option(help: "Output folder.") var out: String = "sae-sweep"
    @Flag(help: "Print the results as JSON.") var json = false

    func run() throws {
        var plan = SAESweepPlan()
        if !hooks.isEmpty { plan.hooks = hooks }
        if !kinds.isEmpty { plan.kinds = kinds }
        if !features.isEmpty { plan.features = features }
        if !ks.isEmpty { plan.ks = ks }
        if !l1s.isEmpty { plan.l1s = l1s }
        if !pEnds.isEmpty { plan.pEnds = pEnds }
        if !auxKs.isEmpty { plan.auxKs = auxKs }
        (plan.positions, plan.batchSize, plan.learningRate, plan.seed, plan.controls, plan.evaluationGames) = (positions, batch, lr, seed, !noControl, evalGames)
        let transformer = try model.load()
        let name = model.model ?? "shipped"
        let sweep = try SAESweep(model: transformer, modelName: name, plan: plan, folder: URL(fileURLWithPath: out))
        var bar: ProgressBar?
        var barLabel = ""
        let results = try sweep.run(log: { message in
            bar?.finish(); bar = nil
            FileHandle.standardError.write(Data((message + "\n").utf8))
        }, progress: { label, step, steps, status in
            if label != barLabel { bar?.finish(); bar = ProgressBar(total: steps, label: label); barLabel = label }
            bar?.update(done: step, status: status)
        })
        bar?.finish()
        let report = SAESweepReport(results: results, plan: plan, model: name)
        try report.write(to: URL(fileURLWithPath: out))
        if json { return try printJSON(results) }
        print(report.markdown())
        print("wrote \(out)/sweep.md, frontier.png, results.json and \(results.count) SAEs\(plan.controls ? " (with their controls)" : "")")
    }
}

struct SAEEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score an SAE: reconstruction, sparsity, the model's loss on its reconstruction, board coverage and reconstruction.",
        discussion: """
        On the games (default 1,000 fresh random games): MSE and explained variance, L0, dead and dense (> 10%) \
        features, the share of features firing at fewer than 10/1/0.1/0.01% of positions; the next-move loss and \
        legal top-1 of the model clean, with the SAE's reconstruction spliced in at the hook (run-with-hooks), and \
        with the hook zero-ablated; Karvonen et al.'s coverage (per property: the best F1 over features of each \
        element at the best threshold, a fraction of each feature's max, averaged over the elements) and board \
        reconstruction (features with precision ≥ 0.95 and ≥ 10 true positives on the first half of the games \
        predict the board on the second half; micro F1). With --control FILE (written by `sae train --control`), \
        the same on the randomly initialised model it was trained on, under "control".

        Example:
          othello-gpt sae eval --sae L5-topk.safetensors --control L5-topk-control.safetensors --count 1000 --json
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var data: SAEGameOptions
    @Option(help: ArgumentHelp("The SAE file (or a SAELens folder); default: the shipped SAE, when --model is not given.", valueName: "file")) var sae: String?
    @Option(help: ArgumentHelp("The control SAE, trained on a random-init model (sae train --control).", valueName: "file")) var control: String?
    @Option(help: "Seed of the random games.") var seed: UInt64 = 2
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let transformer = try model.load()
        let (autoencoder, sae) = try loadSAE(self.sae, model: model, transformer: transformer)
        let (loaded, source) = try data.dataset(seed: seed, defaultCount: 1000)
        let games = loaded!
        let bar = ProgressBar(total: games.count, label: "eval")
        let evaluation = try SAEEvaluation.evaluate(autoencoder, model: transformer, games: games, batchSize: model.batchSize, source: source, progress: bar)
        bar.finish()
        var object = SAEEvalOutput(numbers: SAEEvalJSON(evaluation), sae: sae, hook: autoencoder.hook, games: source)
        if let control {
            let controlBar = ProgressBar(total: games.count, label: "eval (control)")
            object.control = SAEEvalJSON(try SAEEvaluation.evaluateControl(URL(fileURLWithPath: control), like: transformer, games: games,
                                                                           batchSize: model.batchSize, source: source, progress: controlBar))
            controlBar.finish()
        }
        if json { return try printJSON(object) }
        print(object.numbers.text("\(sae) on \(autoencoder.hook)"))
        if let c = object.control { print(c.text("control (random-init model)")) }
    }
}

struct SAEFeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Figures of an SAE's features: board correlations, the frequency histogram, top-activating positions.",
        discussion: """
        Writes into --out: correlations.png (for the --top features with the best board F1: the correlation of the \
        feature's activation with each square being mine, theirs and empty), frequencies.png (the histogram of \
        log10 firing frequencies) and top-positions.png (each of those features' most activating positions as \
        boards, the last move marked), and features.json (per feature: frequency, best element and F1).

        Example:
          othello-gpt sae features --sae L5-topk.safetensors --count 500 --out sae-features
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var data: SAEGameOptions
    @Option(help: ArgumentHelp("The SAE file (or a SAELens folder); default: the shipped SAE, when --model is not given.", valueName: "file")) var sae: String?
    @Option(help: "Features shown.") var top: Int = 8
    @Option(help: "Seed of the random games.") var seed: UInt64 = 2
    @Option(help: "Output folder.") var out: String = "sae-features"

    func run() throws {
        guard top >= 1 else { throw WorkbenchError("--top must be at least 1") }
        let transformer = try model.load()
        let (autoencoder, _) = try loadSAE(sae, model: model, transformer: transformer)
        let (loaded, source) = try data.dataset(seed: seed, defaultCount: 500)
        let games = loaded!
        let folder = URL(fileURLWithPath: out)
        try createOutputFolder(folder)
        let bar = ProgressBar(total: games.count, label: "features")
        let evaluation = try SAEEvaluation.evaluate(autoencoder, model: transformer, games: games, batchSize: model.batchSize, source: source, progress: bar)
        bar.finish()
        try SAEFeatureReport.write(evaluation, of: autoencoder, model: transformer, games: games, top: top, batchSize: model.batchSize, to: folder)
        print("wrote \(out)/correlations.png, frequencies.png, top-positions.png, features.json")
    }
}

struct SAEControlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "control",
        abstract: "A positive control for the SAE trainer: recover known sparse directions from synthetic activations.",
        discussion: """
        Builds --samples activations of width --d-in, each the sum of --active of --features known unit directions \
        (random, seeded) with magnitudes in [0.5, 1.5], plus Gaussian noise (--noise); trains a TopK SAE (k = --active, \
        --features latents) on them with the workbench's SAE step; and reports, for every known direction, the \
        largest cosine with a decoder row (mean, and the share at ≥ 0.9), with the SAE's L0 and explained variance. \
        A working trainer finds them (mean max cosine ≥ 0.95).

        Example:
          othello-gpt sae control --json
        """
    )

    @Option(name: .customLong("d-in"), help: "Activation width.") var dIn: Int = 64
    @Option(help: "Known directions (and SAE latents).") var features: Int = 128
    @Option(help: "Directions active in each activation (the SAE's k).") var active: Int = 4
    @Option(help: "Synthetic activations.") var samples: Int = 20_000
    @Option(help: "Standard deviation of the added noise.") var noise: Float = 0.01
    @Option(help: "Adam steps.") var steps: Int = 3000
    @Option(help: "Activations per step.") var batch: Int = 256
    @Option(help: "Seed of the directions, the activations and the SAE.") var seed: UInt64 = 1
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        var control = KnownFeaturesControl()
        (control.dIn, control.features, control.active, control.samples, control.noise) = (dIn, features, active, samples, noise)
        (control.steps, control.batch, control.seed) = (steps, batch, seed)
        let result = try control.run()
        if json { return try printJSON(result) }
        print(String(format: "%d known directions in %d dimensions, %d active per activation: mean max cosine %.3f, %.1f%% found (cosine ≥ 0.9); L0 %.1f, explained variance %.3f (%.1f s)",
                     features, dIn, active, result.meanMaxCosine, 100 * result.recovered, result.l0, result.explainedVariance, result.seconds))
    }
}

struct SAEDictionaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dictionary",
        abstract: "The board metrics' positive control: write a linear probe's readings as an SAE (one feature per square and state).",
        discussion: """
        Feature square × 3 + state of the SAE is ReLU(logit of that state − the square's mean logit) of the linear \
        relative probe --probe: a "perfect" dictionary of the board as the probe reads it. `sae eval` on it should \
        give a coverage and board reconstruction F1 near the probe's accuracy — if it does not, the metrics (not \
        the SAEs) are at fault.

        Example:
          othello-gpt sae dictionary --probe study/probes/blocks.5.hook_resid_post-linear-relative.safetensors --out dictionary.safetensors
          othello-gpt sae eval --sae dictionary.safetensors
        """
    )

    @Option(help: ArgumentHelp("A linear probe file (it records its hook).", valueName: "file")) var probe: String
    @Option(help: "Where to write the SAE (safetensors).") var out: String

    func run() throws {
        try checkWritable(out)
        let loaded = try ProbeFile.load(from: URL(fileURLWithPath: probe))
        let sae = try ProbeDictionary.sae(from: loaded)
        try SAEFile.save(sae, to: URL(fileURLWithPath: out))
        print("wrote \(out): \(sae.dSAE) features of the \(loaded.basis.rawValue) probe at \(sae.hook)")
    }
}

struct SAEConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Write an SAE as a SAELens folder (cfg.json + sae_weights.safetensors) that SAELens loads, or as a workbench file.",
        discussion: """
        Reads --sae (a workbench SAE file, or a SAELens folder in SAELens ≤ 5's or 6's layout) and writes --out: a \
        folder in SAELens 6's layout — cfg.json (architecture standard, topk with k, or jumprelu for BatchTopK; d_in, \
        d_sae, dtype float32, apply_b_dec_to_input true, normalize_activations none, metadata.hook_name and \
        sae_lens_version) and sae_weights.safetensors (W_enc, b_enc, W_dec, b_dec, and a JumpReLU's threshold) — or, \
        when --out ends in .safetensors, a workbench SAE file (with --f16, its weights as float16: half the size).

        Examples:
          othello-gpt sae convert --sae L5-topk.safetensors --out L5-topk-saelens
          othello-gpt sae convert --sae L5-topk.safetensors --out L5-topk-f16.safetensors --f16
        """
    )

    @Option(help: ArgumentHelp("The SAE file (or a SAELens folder).", valueName: "file")) var sae: String
    @Option(help: ArgumentHelp("The SAELens folder to write (created), or a .safetensors workbench file.", valueName: "path")) var out: String
    @Flag(help: "A workbench file's weights as float16.") var f16 = false

    func run() throws {
        let autoencoder = try SAEFile.load(from: URL(fileURLWithPath: sae))
        let description = "\(autoencoder.dIn) → \(autoencoder.dSAE) \(autoencoder.kind.name.rawValue) SAE on \(autoencoder.hook)"
        if out.hasSuffix(".safetensors") {
            try checkWritable(out)
            try SAEFile.save(autoencoder, to: URL(fileURLWithPath: out), as: f16 ? .f16 : .f32)
            return print("wrote \(out): \(description)\(f16 ? " (float16)" : "")")
        }
        guard !f16 else { throw WorkbenchError("--f16 is for a workbench .safetensors file; a SAELens folder is written as float32") }
        try SAEFile.saveSAELens(autoencoder, to: URL(fileURLWithPath: out))
        print("wrote \(out)/cfg.json and sae_weights.safetensors: \(description)")
    }
}
