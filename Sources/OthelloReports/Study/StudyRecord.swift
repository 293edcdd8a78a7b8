import Foundation
import OthelloInterventions
import OthelloCircuits
import OthelloSAEs
import OthelloModel
import WorkbenchSupport

/// What a study computes: the model, the games, the sample sizes and the settings. Two runs with equal plans on
/// the same model compute the same numbers; `--resume` continues a study only under an equal plan.
public struct StudyPlan: Codable, Equatable {
    /// The model file, or "shipped".
    public var model: String
    public var quick: Bool
    public var seed: UInt64
    /// The games file, or nil for `games` fresh random full-length games (saved as games.npy).
    public var gamesFile: String?
    public var games: Int
    /// Share of the games held out from probe training; the legal-move metric and the cases use all games.
    public var testFraction: Double
    public var probeEpochs: Int
    /// Probe files reused instead of training the probe sweep.
    public var probeFiles: [String]
    public var cases: Int
    public var scales: [Float]
    public var multiScales: [Float]
    /// Adam steps of Li et al.'s gradient edits, beside the scale-free ones (0: none).
    public var gradientSteps: Int
    /// Step sizes (× the activation's RMS) of the scale-free gradient edits, each chosen on the validation half
    /// (nil in records written before they existed: none).
    public var learningRates: [Float]?
    /// Championship games scored by the legal-move metric (nil: none).
    public var wthor: String?

    /// The papers' sample sizes: probes on 10,000 games (8,000 to train, 2,000 held out), 1,000 intervention
    /// cases, the whole minimal-edit sweep at four strengths of each method, and Li et al.'s 1,000-step gradient edits.
    public static func standard(model: String, seed: UInt64) -> StudyPlan {
        StudyPlan(model: model, quick: false, seed: seed, gamesFile: nil, games: 10_000, testFraction: 0.2, probeEpochs: 4, probeFiles: [],
                  cases: 1000, scales: [1, 2, 4, 8], multiScales: [1, 2, 4], gradientSteps: 1000, learningRates: [0.01, 0.03, 0.1, 0.3],
                  wthor: "Games/WTH_2025.wtb")
    }

    /// `--quick`: the same study on fewer games and cases, two strengths of each method and shorter gradient edits.
    public static func quick(model: String, seed: UInt64) -> StudyPlan {
        StudyPlan(model: model, quick: true, seed: seed, gamesFile: nil, games: 2000, testFraction: 0.2, probeEpochs: 4, probeFiles: [],
                  cases: 200, scales: [2, 4], multiScales: [2], gradientSteps: 200, learningRates: [0.1, 0.3], wthor: "Games/WTH_2025.wtb")
    }
}

/// The model's shape, for the report.
public struct ModelSummary: Codable, Equatable {
    public var layers: Int, dModel: Int, heads: Int, dMlp: Int, parameters: Int

    public init(_ config: ModelConfig) {
        layers = config.nLayers; dModel = config.dModel; heads = config.nHeads; dMlp = config.dMLP
        parameters = ParameterLayout(config: config).count
    }

    public var text: String { "\(layers) layers, d_model \(dModel), \(heads) heads, d_mlp \(dMlp) (\(parameters.formatted()) parameters)" }
}

/// Legal-move accuracy (Li et al.'s metric) on the study's games and the championship games.
public struct LegalSection: Codable {
    public struct Score: Codable {
        public var source: String
        public var games: Int
        public var positions: Int
        public var legal: Int
        public var share: Double
    }
    public var synthetic: Score
    public var wthor: Score?
    /// Why the championship games were not scored, when they were not.
    public var wthorNote: String?
    /// The published synthetic model's check, for 8-layer d512 models.
    public var publishedCheck: PublishedModelCheck.Result?
}

/// The probe sweep: every probe's held-out accuracy beside its random-init control, the trivial baselines, and
/// the geometry of the best mine/theirs probe's directions.
public struct ProbeSection: Codable {
    public struct Row: Codable {
        public var hook: String
        public var kind: String
        public var basis: String
        public var accuracy: Double
        /// The same probe trained and scored on a randomly initialised model of the same shape.
        public var control: Double?
        public var perSquare: [Double]
        /// The probe's file, relative to the study folder.
        public var file: String
        /// Two-class targets (flipped, legal, played, empty) only: the mean of the two classes' recall, and the
        /// F1 of "yes" — accuracy says little when one class is rare.
        public var balancedAccuracy: Double?
        public var f1: Double?
        public var controlBalancedAccuracy: Double?
    }
    public struct Directions: Codable {
        public var hook: String
        public var meanAbsCosBetweenSquares: Double
        public var meanCosMineTheirsEmpty: Double
    }
    public var trainGames: Int
    public var testGames: Int
    /// False when the probes were trained here; true when they were given (`--probe`).
    public var given: Bool
    public var rows: [Row]
    /// Most frequent class per square and position, fitted on the training games, per basis.
    public var baselines: [String: Double]
    /// The trivial baseline's balanced accuracy and F1 for the two-class bases.
    public var baselineBalancedAccuracy: [String: Double]?
    public var baselineF1: [String: Double]?
    public var directions: Directions?

    public func best(kind: String, basis: String) -> Row? {
        rows.filter { $0.kind == kind && $0.basis == basis }.max { $0.accuracy < $1.accuracy }
    }
}

/// The minimal-edit sweep on the case set.
public struct EditSection: Codable {
    public var cases: Int
    public var nullError: Double
    public var nullExact: Double
    public var results: [InterventionResult]

    public var bestSingle: InterventionResult? { results.filter { $0.hooks.count == 1 }.min { $0.error < $1.error } }
    public var best: InterventionResult? { results.min { $0.error < $1.error } }
    public var bestSingleDirection: InterventionResult? {
        results.filter { $0.hooks.count == 1 && $0.scale != nil && $0.positions == EditPositions.last.rawValue }.min { $0.error < $1.error }
    }
    /// Each edit at its strength chosen on the validation half of the cases, scored on the test half.
    public var tuned: [StrengthChoice] { StrengthChoice.choose(results) }
}

/// What the best single-hook direction edit changes downstream: averaged over every case, and one case drawn.
public struct EffectSection: Codable {
    public struct Example: Codable {
        /// The case's index in cases.jsonl (from 0), its game in games.npy and its prefix length.
        public var caseIndex: Int
        public var game: Int?
        public var moves: Int
        public var square: String
        public var error: Int
        public var nullError: Int
    }
    public var plan: String
    public var hook: String
    public var scale: Float
    public var average: EditEffect
    public var example: Example?
}

/// Worked examples on one game prefix: activation patching, latent saliency, attention patterns and direct
/// logit attribution.
public struct ExampleSection: Codable {
    public struct Patching: Codable {
        public var corruptedAt: Int
        public var corruptedWith: String
        public var target: String
        public var cleanLogit: Double
        public var corruptedLogit: Double
        /// The (layer, position) whose patch restores the metric most, and how much (1 = fully).
        public var bestLayer: String
        public var bestPosition: Int
        public var bestRestoration: Double
        /// Per layer, the restoration from patching resid_pre at the corrupted move's position.
        public var atCorruptedMove: [Double]
        /// Per layer, the restoration from patching resid_pre at the last position.
        public var atLastPosition: [Double]?
        /// The same corruption averaged over held-out games (figures/patching-average.png).
        public var average: Average?
    }
    public struct Average: Codable {
        public var pairs: Int
        public var atCorruptedMove: [Double]
        public var atLastPosition: [Double]
        /// Per layer, the largest mean restoration at a position strictly between the corrupted move and the last.
        public var between: [Double]
    }
    public struct Head: Codable {
        public var layer: Int
        public var head: Int
        /// Mean attention of the prefix's positions to the previous move, and to moves of the same player.
        public var previousMove: Double
        public var samePlayer: Double
    }
    public struct Neuron: Codable {
        public var layer: Int
        public var neuron: Int
        public var attribution: Double
    }
    public var game: Int
    public var moves: Int
    public var patching: Patching?
    public var saliencyTopMove: String
    public var saliency: [Double?]
    public var heads: [Head]
    public var attributionTarget: String
    public var topNeurons: [Neuron]
    /// Per layer, the largest head attribution to the model's top move.
    public var topHeads: [String]
}

/// A question of the study and its answer from the numbers.
public struct Finding: Codable {
    public var question: String
    public var answer: String
}

/// report.json: the plan, every section computed so far, and the findings drawn from them.
public struct StudyRecord: Codable {
    public var format = "othello-gpt-study"
    public var version = 1
    public var plan: StudyPlan
    public var modelShape: ModelSummary
    /// True once every step ran; an interrupted study has only the sections of its finished steps.
    public var complete = false
    /// Seconds per finished step.
    public var seconds: [String: Double] = [:]
    public var legal: LegalSection?
    public var probes: ProbeSection?
    public var edits: EditSection?
    public var effect: EffectSection?
    public var examples: ExampleSection?
    /// The "is this square empty?" circuit.
    public var circuit: EmptyCircuit?
    public var findings: [Finding] = []

    public init(plan: StudyPlan, modelShape: ModelSummary) {
        self.plan = plan
        self.modelShape = modelShape
    }
}
