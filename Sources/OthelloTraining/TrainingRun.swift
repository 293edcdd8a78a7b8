import Foundation
import OthelloModel
import WorkbenchSupport

/// A whole training run: the step loop with evaluation, the JSON-lines log, periodic checkpoints,
/// a clean stop on request and a stop with a clear error when the loss diverges.
///
///     let run = try TrainingRun(options: options, threads: 2)            // or TrainingRun(resuming: checkpoint, threads: 2)
///     let ending = try run.run(outputs: outputs, shouldStop: { interrupted })
public final class TrainingRun {
    public let options: TrainingOptions
    public let trainer: Trainer
    public let data: TrainingGames
    /// Steps completed.
    public private(set) var step: Int
    /// Seconds spent in training steps (evaluations and checkpoints not counted), over every session of the run.
    public private(set) var elapsed: Double

    /// Where a run writes, and how often.
    public struct Outputs {
        /// The trained weights (weights only), written when the run finishes.
        public var model: URL
        /// The checkpoint, rewritten atomically every `checkpointEvery` seconds and at the end.
        public var checkpoint: URL
        public var checkpointEvery: Double
        /// Evaluate the legal-move accuracy and write a log line every `evaluateEvery` steps.
        public var evaluateEvery: Int
        /// The JSON-lines log (appended to; on resume, lines after the checkpoint's step are dropped).
        public var log: URL?

        public init(model: URL, checkpoint: URL, checkpointEvery: Double = 300, evaluateEvery: Int = 100, log: URL? = nil) {
            self.model = model
            self.checkpoint = checkpoint
            self.checkpointEvery = checkpointEvery
            self.evaluateEvery = evaluateEvery
            self.log = log
        }
    }

    public enum Ending: Equatable {
        /// Every step ran; the model and the final checkpoint are written.
        case finished
        /// Stopped on request after `step` steps; the checkpoint holds that step.
        case stopped(step: Int)
    }

    /// One line of the log.
    public struct LogEntry: Codable, Equatable {
        public var step: Int
        public var games: Int
        /// The mean training loss over the steps since the previous line.
        public var loss: Double
        public var lr: Float
        /// The fraction of held-out predictions that are legal moves.
        public var legalTop1: Double
        public var gamesPerSecond: Double
        /// Seconds spent in training steps so far, over every session of the run.
        public var elapsed: Double

        enum CodingKeys: String, CodingKey {
            case step, games, loss, lr
            case legalTop1 = "legal_top1"
            case gamesPerSecond = "games_per_second"
            case elapsed
        }
    }

    /// A fresh run: TransformerLens-initialised weights from `options.seed`, or a copy of `initialWeights`
    /// (a model of the same configuration, e.g. the shipped model to fine-tune) with a fresh optimiser.
    public convenience init(options: TrainingOptions, initialWeights: ModelParameters? = nil, threads: Int) throws {
        let parameters: ModelParameters
        if let initialWeights {
            let (a, b) = (initialWeights.config, options.config)
            guard a == b else {
                throw WorkbenchError("train: the initial weights are of a model with \(a.nLayers) layers, d_model \(a.dModel), \(a.nHeads) heads, d_mlp \(a.dMLP), \(a.nCtx) positions, \(a.normalizationType); the run's is \(b.nLayers), \(b.dModel), \(b.nHeads), \(b.dMLP), \(b.nCtx), \(b.normalizationType)")
            }
            parameters = initialWeights.copy()
        } else {
            parameters = ModelParameters(config: options.config)
            parameters.initializeForTraining(seed: options.seed)
        }
        try self.init(options: options, parameters: parameters, step: 0, elapsed: 0, threads: threads)
    }

    /// A run continuing from `checkpoint`, exactly where it stopped.
    public convenience init(resuming checkpoint: Checkpoint, threads: Int) throws {
        try self.init(options: checkpoint.options, parameters: checkpoint.parameters, step: checkpoint.step,
                      elapsed: checkpoint.elapsed, threads: threads)
        trainer.optimizer.restore(firstMoment: checkpoint.firstMoment, secondMoment: checkpoint.secondMoment, step: checkpoint.step)
    }

    private init(options: TrainingOptions, parameters: ModelParameters, step: Int, elapsed: Double, threads: Int) throws {
        self.options = options
        trainer = try Trainer(parameters: parameters, batchSize: options.batchSize, optimizer: options.optimizer, threads: threads)
        data = try TrainingGames(source: options.source, seed: options.seed, evaluationGames: options.evaluationGames)
        self.step = step
        self.elapsed = elapsed
    }

    /// The run's current state as a checkpoint.
    public var checkpoint: Checkpoint {
        Checkpoint(options: options, step: step, elapsed: elapsed, parameters: trainer.parameters,
                   firstMoment: trainer.optimizer.firstMoment, secondMoment: trainer.optimizer.secondMoment)
    }

    /// Trains until the last step or until `shouldStop()` is true (checked between steps).
    ///
    /// `report` receives each log entry as it is written (for a terminal without a progress bar). Throws a
    /// `WorkbenchError` if the loss becomes NaN or infinite: the weights of that step are not written
    /// and the last checkpoint on disk is kept.
    public func run(outputs: Outputs, progress: ProgressBar? = nil, shouldStop: () -> Bool = { false },
                    report: (LogEntry) -> Void = { _ in }) throws -> Ending {
        let log = try outputs.log.map { try TrainingLog(url: $0, keepingStepsThrough: step) }
        let batch = options.batchSize
        var lastCheckpoint = Date()
        var checkpointStep: Int? = nil
        var windowLoss = 0.0, windowSteps = 0, windowSeconds = 0.0

        while step < options.totalSteps {
            if shouldStop() {
                try checkpoint.write(to: outputs.checkpoint)
                return .stopped(step: step)
            }
            let started = Date()
            let games = data.batch(step: step, size: batch)
            let learningRate = options.schedule.learningRate(atStep: step)
            let result = try trainer.step(games: games, learningRate: learningRate, maxGradNorm: options.maxGradNorm)
            guard result.loss.isFinite, result.gradientNorm.isFinite else {
                let kept = checkpointStep.map { "the last checkpoint \(outputs.checkpoint.path) (step \($0)) is kept" }
                    ?? "the checkpoint \(outputs.checkpoint.path), if any, is untouched"
                throw WorkbenchError("training diverged at step \(step + 1): loss \(result.loss), gradient norm \(result.gradientNorm); the weights of that step were not saved and \(kept); lower the learning rate (--lr) or lengthen the warm-up (--warmup-steps)")
            }
            let seconds = Date().timeIntervalSince(started)
            step += 1
            elapsed += seconds
            windowLoss += result.loss
            windowSteps += 1
            windowSeconds += seconds
            progress?.advance(by: batch, status: String(format: "loss %.3f lr %.2e", result.loss, learningRate))

            if step % outputs.evaluateEvery == 0 || step == options.totalSteps {
                let entry = LogEntry(step: step, games: step * batch, loss: windowLoss / Double(windowSteps), lr: learningRate,
                                     legalTop1: try trainer.legalMoveAccuracy(data.evaluation),
                                     gamesPerSecond: Double(windowSteps * batch) / windowSeconds, elapsed: elapsed)
                try log?.append(entry)
                report(entry)
                (windowLoss, windowSteps, windowSeconds) = (0, 0, 0)
            }
            if Date().timeIntervalSince(lastCheckpoint) >= outputs.checkpointEvery {
                try checkpoint.write(to: outputs.checkpoint)
                checkpointStep = step
                lastCheckpoint = Date()
            }
        }
        try checkpoint.write(to: outputs.checkpoint)
        try ModelFile.writeWeights(trainer.parameters, trainedBy: options, step: step, to: outputs.model)
        return .finished
    }
}

/// The JSON-lines training log, one `TrainingRun.LogEntry` per line, appended as the run goes.
///
///     let entries = try TrainingLog.read(URL(fileURLWithPath: "run.jsonl"))
///     entries.last?.legalTop1
public struct TrainingLog {
    let url: URL

    /// Opens `url` for appending; lines of steps after `step` (written by an interrupted session after
    /// its last checkpoint) are dropped, so the log of a resumed run reads as one run.
    init(url: URL, keepingStepsThrough step: Int) throws {
        self.url = url
        guard FileManager.default.fileExists(atPath: url.path) else {
            try AtomicFile.write(Data(), to: url)
            return
        }
        let entries = try Self.read(url)
        if entries.contains(where: { $0.step > step }) {
            let kept = entries.filter { $0.step <= step }
            try AtomicFile.write(Data(try kept.map { try Self.line($0) }.joined().utf8), to: url)
        }
    }

    /// Appends `entry`, rewriting the (small) log atomically, so an interrupted run never leaves half a line.
    func append(_ entry: TrainingRun.LogEntry) throws {
        var log = try readFile(url)
        log.append(Data(try Self.line(entry).utf8))
        try AtomicFile.write(log, to: url)
    }

    static func line(_ entry: TrainingRun.LogEntry) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(entry), as: UTF8.self) + "\n"
    }

    /// The entries of a log file; throws naming the line that is not a log entry.
    public static func read(_ url: URL) throws -> [TrainingRun.LogEntry] {
        try read(data: readFile(url), source: url.path)
    }

    /// The entries of the bytes of a log file (see `read(_:)`); `source` names the file in errors.
    public static func read(data: Data, source: String) throws -> [TrainingRun.LogEntry] {
        let text = try utf8Text(data, source: source)
        let decoder = JSONDecoder()
        // Lines end in "\n" or "\r\n" (one Character, which "\n" alone would not split).
        // Empty lines are skipped, but counted, so that an error names the line an editor shows.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated().filter { !$0.element.isEmpty }
        return try lines.map { index, line in
            guard let entry = try? decoder.decode(TrainingRun.LogEntry.self, from: Data(line.utf8)) else {
                throw WorkbenchError("\(source), line \(index + 1): not a training log entry; pass another --log file")
            }
            return entry
        }
    }
}
