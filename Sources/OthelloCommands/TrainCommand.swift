import ArgumentParser
import Foundation
import OthelloModel
import OthelloTraining
import WorkbenchSupport

/// `othello-gpt train`: train an Othello-GPT from scratch, resume a run, export a checkpoint's weights.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an Othello-GPT on random legal games or a games file (CPU, OpenBLAS).",
        discussion: """
        `othello-gpt train --out M.safetensors` trains the workbench's shipped configuration \
        (\(ModelConfig.shipped.shapeDescription)) on fresh uniformly random legal games, evaluating the legal-move \
        top-1 accuracy on held-out games as it goes. `othello-gpt train export CKPT --out FILE` writes a \
        checkpoint's weights alone; `othello-gpt train figure LOG --out PNG` draws the training curves. \
        The training options: `othello-gpt train run --help`.
        """,
        subcommands: [TrainRunCommand.self, TrainExportCommand.self, TrainFigureCommand.self],
        defaultSubcommand: TrainRunCommand.self
    )
}

/// The SIGINT flag: the first Ctrl-C asks the run to stop after the current step; a second one
/// (the default action is restored) ends the process at once.
enum InterruptFlag {
    static var raised: sig_atomic_t = 0

    static func install() {
        signal(SIGINT) { _ in
            InterruptFlag.raised = 1
            signal(SIGINT, SIG_DFL)
        }
    }
}

struct TrainRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Train (the default subcommand of `train`).",
        discussion: """
        Every step trains on --batch games: the model reads moves 0…58 and is scored by the cross-entropy \
        of the next move at every position (positions after a game's end do not count). AdamW (β 0.9/0.99, \
        eps 1e-8, weight decay on the weight matrices, not on biases or embeddings), gradients clipped to \
        norm 1, learning rate warmed up linearly then decayed along a cosine to --final-lr-fraction of \
        --lr over the --games budget. Weights start as TransformerLens initialises them (normal, std \
        0.8/sqrt(d_model); biases zero).

        Games: by default fresh uniformly random legal games every step (Li et al.'s synthetic games), \
        derived from --seed and the step number, so a run is reproducible and resumes exactly; with \
        --from-file, the games of a .npy/.txt/.wtb/.pgn file, some held out, reshuffled every epoch.

        Checkpoints (weights, AdamW moments, step and options) are written atomically every \
        --checkpoint-every seconds, on Ctrl-C (after the current step) and at the end; --resume CKPT \
        continues a run exactly where its checkpoint left it. A diverging run (loss NaN or infinite) \
        stops with an error and keeps its last checkpoint. The weights alone go to --out at the end.
        """
    )

    @Option(help: "Transformer blocks (default \(ModelConfig.shipped.nLayers), the shipped model's).") var layers: Int?
    @Option(name: .customLong("d-model"), help: "Residual stream width (default \(ModelConfig.shipped.dModel)).") var dModel: Int?
    @Option(help: "Attention heads; must divide --d-model (default \(ModelConfig.shipped.nHeads)).") var heads: Int?
    @Option(name: .customLong("d-mlp"), help: "MLP hidden width (default \(ModelConfig.shipped.dMLP)).") var dMLP: Int?
    @Option(help: "Games to train on in all: the run takes games/batch steps (default 3000000, the shipped model's).") var games: Int?
    @Option(help: "Games per step (default 128).") var batch: Int?
    @Option(help: "Peak learning rate (default 1e-3).") var lr: Float?
    @Option(name: .customLong("warmup-steps"), help: "Steps of linear warm-up (default 2% of the steps, at most 1000).") var warmupSteps: Int?
    @Option(name: .customLong("final-lr-fraction"), help: "The cosine decays to this fraction of --lr (default 0.1).") var finalLRFraction: Float?
    @Option(name: .customLong("weight-decay"), help: "AdamW weight decay of the weight matrices (default 0.01).") var weightDecay: Float?
    @Option(help: "Seed of the initial weights and of the games (default 1).") var seed: UInt64?
    @Option(name: .customLong("from-file"), help: "Train on the games of this file (.npy, .txt, .wtb, .pgn) instead of random games.") var fromFile: String?
    @Option(name: .customLong("eval-games"), help: "Held-out games for the legal-move evaluation (default 512).") var evalGames: Int?

    @Option(help: "Where to write the trained weights (safetensors).") var out: String
    @Option(help: "Continue the run saved in this checkpoint.") var resume: String?
    @Option(name: .customLong("init-from"), help: ArgumentHelp(
        "Start from this model's weights instead of a fresh initialisation, with a fresh optimiser and schedule: 'shipped' for the shipped model, or a weight file. The architecture comes from the model.",
        valueName: "model")) var initFrom: String?
    @Option(help: "The checkpoint file (default: --out with .ckpt.safetensors).") var checkpoint: String?
    @Option(name: .customLong("checkpoint-every"), help: "Seconds between checkpoints.") var checkpointEvery: Double = 300
    @Option(name: .customLong("eval-every"), help: "Steps between evaluations and log lines.") var evalEvery: Int = 100
    @Option(help: "Append one JSON line per evaluation to this file (step, games, loss, lr, legal_top1, games_per_second, elapsed).") var log: String?
    @Option(name: .customLong("threads"), help: "Threads (default: all cores).") var threadsOption: Int?
    var threads: Int { threadsOption ?? Parallel.coreCount }

    func run() throws {
        guard checkpointEvery > 0 else { throw WorkbenchError("train: --checkpoint-every must be a positive number of seconds, got \(checkpointEvery)") }
        guard evalEvery >= 1 else { throw WorkbenchError("train: --eval-every must be at least 1, got \(evalEvery)") }
        guard threads >= 1 else { throw WorkbenchError("train: --threads must be at least 1, got \(threads)") }
        let outURL = URL(fileURLWithPath: out)
        let checkpointURL = URL(fileURLWithPath: checkpoint ?? Self.checkpointPath(forModel: out))
        let trainingRun: TrainingRun
        if resume != nil, initFrom != nil {
            throw WorkbenchError("train: --resume continues a run with its own weights; --init-from starts a new one from a model's weights; use one of them")
        }
        if let resume {
            let saved = try Checkpoint.read(from: URL(fileURLWithPath: resume))
            try checkResumeFlags(against: saved.options, file: resume)
            trainingRun = try TrainingRun(resuming: saved, threads: threads)
        } else {
            let initial = try initFrom.map { try HookedTransformer.load(path: $0 == "shipped" ? nil : $0) }
            trainingRun = try TrainingRun(options: try freshOptions(architecture: initial?.config),
                                          initialWeights: initial?.parameters, threads: threads)
        }
        let options = trainingRun.options
        let remaining = (options.totalSteps - trainingRun.step) * options.batchSize
        let start = trainingRun.step
        let source: String
        switch options.source {
        case .synthetic: source = "random legal games"
        case .file(let path): source = "the games of \(path)"
        }
        FileHandle.standardError.write(Data("""
            training \(options.config.shapeDescription) \
            on \(source): \
            steps \(start + 1)…\(options.totalSteps) of \(options.batchSize) games, \(threads) threads; checkpoint \(checkpointURL.path)\n
            """.utf8))

        InterruptFlag.install()
        let progress = ProgressBar(total: remaining, label: "train")
        let quiet = isatty(STDERR_FILENO) == 1
        let ending = try trainingRun.run(
            outputs: TrainingRun.Outputs(model: outURL, checkpoint: checkpointURL, checkpointEvery: checkpointEvery,
                                         evaluateEvery: evalEvery, log: log.map { URL(fileURLWithPath: $0) }),
            progress: progress, shouldStop: { InterruptFlag.raised != 0 },
            report: { entry in
                guard !quiet else { return }
                FileHandle.standardError.write(Data(String(
                    format: "step %d/%d games %d loss %.4f lr %.2e legal top-1 %.2f%% %.1f games/s elapsed %.0f s\n",
                    entry.step, options.totalSteps, entry.games, entry.loss, entry.lr, 100 * entry.legalTop1,
                    entry.gamesPerSecond, entry.elapsed).utf8))
            })
        progress.finish()
        switch ending {
        case .finished:
            print("trained \(options.totalSteps) steps (\(options.totalSteps * options.batchSize) games) in \(Int(trainingRun.elapsed)) s; weights \(outURL.path), checkpoint \(checkpointURL.path)")
        case .stopped(let step):
            print("stopped after step \(step) of \(options.totalSteps); checkpoint \(checkpointURL.path) — continue with --resume \(checkpointURL.path)")
        }
    }

    /// `model.safetensors` → `model.ckpt.safetensors`.
    static func checkpointPath(forModel path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let stem = url.pathExtension == "safetensors" ? url.deletingPathExtension() : url
        return stem.path + ".ckpt.safetensors"
    }

    /// The options of a new run; `architecture` (the --init-from model's) replaces the size flags, which
    /// must then agree with it.
    func freshOptions(architecture: ModelConfig? = nil) throws -> TrainingOptions {
        let shipped = ModelConfig.shipped
        var config = try ModelConfig(nLayers: layers ?? shipped.nLayers, dModel: dModel ?? shipped.dModel,
                                     nHeads: heads ?? shipped.nHeads, dMLP: dMLP ?? shipped.dMLP)
        if let architecture {
            let given: [(String, Int?, Int)] = [("--layers", layers, architecture.nLayers), ("--d-model", dModel, architecture.dModel),
                                                 ("--heads", heads, architecture.nHeads), ("--d-mlp", dMLP, architecture.dMLP)]
            let conflicts = given.compactMap { flag, value, actual in value.map { $0 == actual ? nil : "\(flag) \($0) (the model has \(actual))" } ?? nil }
            guard conflicts.isEmpty else {
                throw WorkbenchError("train: --init-from \(initFrom ?? "") sets the architecture, but \(conflicts.joined(separator: ", ")); drop those flags")
            }
            config = architecture
        }
        return try TrainingOptions(
            config: config, games: games ?? 3_000_000, batchSize: batch ?? 128, learningRate: lr ?? 1e-3, seed: seed ?? 1,
            warmupSteps: warmupSteps, finalLearningRateFraction: finalLRFraction ?? 0.1,
            optimizer: AdamW.Settings(weightDecay: weightDecay ?? 0.01),
            source: fromFile.map { .file(path: URL(fileURLWithPath: $0).path) } ?? .synthetic, evaluationGames: evalGames ?? 512)
    }

    /// A resumed run keeps its checkpoint's options; a flag that contradicts them is an error.
    func checkResumeFlags(against saved: TrainingOptions, file: String) throws {
        var conflicts: [String] = []
        func check<T: Equatable>(_ flag: String, _ given: T?, _ saved: T) {
            if let given, given != saved { conflicts.append("--\(flag) \(given) (the checkpoint has \(saved))") }
        }
        check("layers", layers, saved.config.nLayers)
        check("d-model", dModel, saved.config.dModel)
        check("heads", heads, saved.config.nHeads)
        check("d-mlp", dMLP, saved.config.dMLP)
        check("games", games, saved.games)
        check("batch", batch, saved.batchSize)
        check("lr", lr, saved.schedule.peak)
        check("warmup-steps", warmupSteps, saved.schedule.warmupSteps)
        check("weight-decay", weightDecay, saved.optimizer.weightDecay)
        check("seed", seed, saved.seed)
        check("eval-games", evalGames, saved.evaluationGames)
        if let fromFile, saved.source != .file(path: URL(fileURLWithPath: fromFile).path) { conflicts.append("--from-file \(fromFile) (the checkpoint trains on \(saved.source))") }
        if !conflicts.isEmpty {
            throw WorkbenchError("\(file): a resumed run keeps its checkpoint's settings, but \(conflicts.joined(separator: ", ")) differ; drop those flags or start a new run without --resume")
        }
    }
}

extension SafetensorsFile.StoredType: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.uppercased()) }
    public static var allValueStrings: [String] { allCases.map { $0.rawValue.lowercased() } }
}

struct TrainExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a training checkpoint's weights alone (no optimiser state) as a model file.",
        discussion: """
        The file holds the weights under TransformerLens names and the model config, like any model \
        `othello-gpt` loads. `--dtype f16` stores them as half floats: half the size, each weight rounded to \
        11 significant bits (the shipped model is stored so); measure the file you ship.

        `--with-optimizer` writes a compact checkpoint instead: the weights as F16 and the AdamW moments as \
        BF16 (half the size of the F32 checkpoint), which `train --resume` continues on another machine — from \
        the rounded state, so no longer bit-exact with a run that never stopped.
        """
    )

    @Argument(help: "A checkpoint written by `othello-gpt train`.") var checkpoint: String
    @Option(help: "The model file to write (safetensors).") var out: String
    @Option(help: "How the weights are stored: f32 (exact; the default), f16 or bf16 (half the size).") var dtype: SafetensorsFile.StoredType?
    @Flag(name: .customLong("with-optimizer"), help: "Write a compact checkpoint (F16 weights, BF16 moments) that `train --resume` continues.") var withOptimizer = false

    func run() throws {
        if withOptimizer, let dtype {
            throw WorkbenchError("train export: --with-optimizer stores F16 weights and BF16 moments; --dtype \(dtype.rawValue.lowercased()) applies to the weights alone; drop one of them")
        }
        let saved = try Checkpoint.read(from: URL(fileURLWithPath: checkpoint))
        if withOptimizer {
            try saved.write(to: URL(fileURLWithPath: out), compact: true)
            print("wrote \(out): a compact checkpoint of step \(saved.step) (\(saved.step * saved.options.batchSize) games), F16 weights and BF16 moments")
            return
        }
        let type = dtype ?? .f32
        try saved.exportWeights(as: type, to: URL(fileURLWithPath: out))
        print("wrote \(out): the weights of step \(saved.step) (\(saved.step * saved.options.batchSize) games), \(type.rawValue)")
    }
}
