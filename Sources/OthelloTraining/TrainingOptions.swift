import Foundation
import OthelloModel
import WorkbenchSupport

/// Everything that defines a training run, saved in every checkpoint so a run resumes exactly.
///
///     var options = try TrainingOptions(config: ModelConfig(nLayers: 8, dModel: 128, nHeads: 4, dMLP: 512),
///                                       games: 2_000_000, batchSize: 128, learningRate: 1e-3, seed: 1)
///     options.schedule.learningRate(atStep: 0)
public struct TrainingOptions: Codable, Equatable {
    public var config: ModelConfig
    /// The seed of the initial weights and of the games.
    public var seed: UInt64
    /// The games budget: the run takes ceil(games / batchSize) steps.
    public var games: Int
    public var batchSize: Int
    /// Linear warm-up to the peak, cosine decay to the floor over the whole run.
    public var schedule: LearningRateSchedule
    public var optimizer: AdamW.Settings
    /// Gradients are clipped to this global L2 norm.
    public var maxGradNorm: Float
    public var source: TrainingGames.Source
    /// Held-out games for the legal-move evaluation.
    public var evaluationGames: Int

    /// The default recipe: warm-up over 2% of the steps (at most 1000), decay to 10% of the peak,
    /// AdamW β = (0.9, 0.99), eps 1e-8, weight decay 0.01 on the matrices, clipping at norm 1.
    public init(config: ModelConfig, games: Int, batchSize: Int, learningRate: Float, seed: UInt64,
                warmupSteps: Int? = nil, finalLearningRateFraction: Float = 0.1,
                optimizer: AdamW.Settings = AdamW.Settings(), maxGradNorm: Float = 1,
                source: TrainingGames.Source = .synthetic, evaluationGames: Int = 512) throws {
        try Trainer.validate(config: config, batchSize: batchSize)
        guard games >= batchSize else {
            throw WorkbenchError("training: --games \(games) is less than one batch of \(batchSize); train on at least one batch")
        }
        guard games <= Self.maxGames else {
            throw WorkbenchError("training: --games \(games) is more than this workbench counts (\(Self.maxGames)); train on fewer games")
        }
        guard learningRate > 0, learningRate.isFinite else {
            throw WorkbenchError("training: the learning rate must be a positive number, got \(learningRate)")
        }
        guard (0...1).contains(finalLearningRateFraction) else {
            throw WorkbenchError("training: --final-lr-fraction must be between 0 and 1, got \(finalLearningRateFraction)")
        }
        try optimizer.validate()
        guard maxGradNorm > 0, maxGradNorm.isFinite else {
            throw WorkbenchError("training: the gradient clipping norm must be a positive number, got \(maxGradNorm)")
        }
        guard (1...Self.maxEvaluationGames).contains(evaluationGames) else {
            throw WorkbenchError("training: --eval-games \(evaluationGames) is out of range; use 1...\(Self.maxEvaluationGames)")
        }
        let steps = (games + batchSize - 1) / batchSize
        let warmup = warmupSteps ?? max(1, min(1000, steps / 50))
        guard warmup >= 1, warmup <= steps else {
            throw WorkbenchError("training: --warmup-steps \(warmup) must be between 1 and the run's \(steps) steps")
        }
        self.config = config
        self.seed = seed
        self.games = games
        self.batchSize = batchSize
        schedule = LearningRateSchedule(peak: learningRate, warmupSteps: warmup, totalSteps: steps,
                                        floor: learningRate * finalLearningRateFraction)
        self.optimizer = optimizer
        self.maxGradNorm = maxGradNorm
        self.source = source
        self.evaluationGames = evaluationGames
    }

    /// The number of steps of the run.
    public var totalSteps: Int { schedule.totalSteps }

    /// The largest games budget (so that games and steps never overflow).
    public static let maxGames = 1_000_000_000_000
    /// The most held-out games (each evaluation runs the model on all of them).
    public static let maxEvaluationGames = 100_000

    /// Checks options read from a file (a checkpoint) as `init` checks its arguments.
    public func validate() throws {
        let remade = try TrainingOptions(config: config, games: games, batchSize: batchSize, learningRate: schedule.peak, seed: seed,
                                         warmupSteps: schedule.warmupSteps, finalLearningRateFraction: 0, optimizer: optimizer,
                                         maxGradNorm: maxGradNorm, source: source, evaluationGames: evaluationGames)
        guard schedule.totalSteps == remade.totalSteps, schedule.floor >= 0, schedule.floor <= schedule.peak else {
            throw WorkbenchError("training: the learning-rate schedule \(schedule) does not fit \(games) games in batches of \(batchSize)")
        }
    }
}
