import Foundation
import OthelloInterventions
import OthelloFeatures
import OthelloModel

/// What a study computes: the model, the games, the sample sizes and the settings. Two runs with equal plans on
/// the same model compute the same numbers; `--resume` continues a study only under an equal plan.
struct StudyPlan: Codable, Equatable {
    /// The model file, or "shipped".
    var model: String
    var quick: Bool
    var seed: UInt64
    /// The games file, or nil for `games` fresh random full-length games (saved as games.npy).
    var gamesFile: String?
    var games: Int
    /// Share of the games held out from probe training; the legal-move metric and the cases use all games.
    var testFraction: Double
    var probeEpochs: Int
    /// Probe files reused instead of training the probe sweep.
    var probeFiles: [String]
    var cases: Int
    var scales: [Float]
    var multiScales: [Float]
    /// Adam steps of gradient edits (0: none).
    var gradientSteps: Int
    /// Championship games scored by the legal-move metric (nil: none).
    var wthor: String?

    /// The papers' sample sizes: probes on 10,000 games (8,000 to train, 2,000 held out), 1,000 intervention
    /// cases, the whole minimal-edit sweep with Li et al.'s 1,000-step gradient edits.
    static func standard(model: String, seed: UInt64) -> StudyPlan {
        StudyPlan(model: model, quick: false, seed: seed, gamesFile: nil, games: 10_000, testFraction: 0.2, probeEpochs: 4, probeFiles: [],
                  cases: 1000, scales: [1, 2, 4], multiScales: [1, 2], gradientSteps: 1000, wthor: "Games/WTH_2025.wtb")
    }

    /// `--quick`: the same study on fewer games and cases, one direction scale per hook and shorter gradient edits.
    static func quick(model: String, seed: UInt64) -> StudyPlan {
        StudyPlan(model: model, quick: true, seed: seed, gamesFile: nil, games: 2000, testFraction: 0.2, probeEpochs: 4, probeFiles: [],
                  cases: 200, scales: [2], multiScales: [1], gradientSteps: 200, wthor: "Games/WTH_2025.wtb")
    }
}

/// The model's shape, for the report.
struct ModelSummary: Codable, Equatable {
    var layers: Int, dModel: Int, heads: Int, dMlp: Int, parameters: Int

    init(_ config: ModelConfig) {
        layers = config.nLayers; dModel = config.dModel; heads = config.nHeads; dMlp = config.dMLP
        parameters = ParameterLayout(config: config).count
    }

    var text: String { "\(layers) layers, d_model \(dModel), \(heads) heads, d_mlp \(dMlp) (\(parameters.formatted()) parameters)" }
}

/// Legal-move accuracy (Li et al.'s metric) on the study's games and the championship games.
struct LegalSection: Codable {
    struct Score: Codable {
        var source: String
        var games: Int
        var positions: Int
        var legal: Int
        var share: Double
    }
    var synthetic: Score
    var wthor: Score?
    /// Why the championship games were not scored, when they were not.
    var wthorNote: String?
    /// The published synthetic model's check, for 8-layer d512 models.
    var publishedCheck: PublishedModelCheck.Result?
}

/// The probe sweep: every probe's held-out accuracy beside its random-init control, the trivial baselines, and
/// the geometry of the best mine/theirs probe's directions.
struct ProbeSection: Codable {
    struct Row: Codable {
        var hook: String
        var kind: String
        var basis: String
        var accuracy: Double
        /// The same probe trained and scored on a randomly initialised model of the same shape.
        var control: Double?
        var perSquare: [Double]
        /// The probe's file, relative to the study folder.
        var file: String
    }
    struct Directions: Codable {
        var hook: String
        var meanAbsCosBetweenSquares: Double
        var meanCosMineTheirsEmpty: Double
    }
    var trainGames: Int
    var testGames: Int
    /// False when the probes were trained here; true when they were given (`--probe`).
    var given: Bool
    var rows: [Row]
    /// Most frequent class per square and position, fitted on the training games, per basis.
    var baselines: [String: Double]
    var directions: Directions?

    func best(kind: String, basis: String) -> Row? {
        rows.filter { $0.kind == kind && $0.basis == basis }.max { $0.accuracy < $1.accuracy }
    }
}

/// The minimal-edit sweep on the case set.
struct EditSection: Codable {
    var cases: Int
    var nullError: Double
    var nullExact: Double
    var results: [InterventionResult]

    var bestSingle: InterventionResult? { results.filter { $0.hooks.count == 1 }.min { $0.error < $1.error } }
    var best: InterventionResult? { results.min { $0.error < $1.error } }
    var bestSingleDirection: InterventionResult? {
        results.filter { $0.hooks.count == 1 && $0.scale != nil && $0.positions == EditPositions.last.rawValue }.min { $0.error < $1.error }
    }
}

/// What the best single-hook direction edit changes downstream: averaged over every case, and one case drawn.
struct EffectSection: Codable {
    struct Example: Codable {
        /// The case's index in cases.jsonl (from 0), its game in games.npy and its prefix length.
        var caseIndex: Int
        var game: Int?
        var moves: Int
        var square: String
        var error: Int
        var nullError: Int
    }
    var plan: String
    var hook: String
    var scale: Float
    var average: EditEffect
    var example: Example?
}

/// Worked examples on one game prefix: activation patching, latent saliency, attention patterns and direct
/// logit attribution.
struct ExampleSection: Codable {
    struct Patching: Codable {
        var corruptedAt: Int
        var corruptedWith: String
        var target: String
        var cleanLogit: Double
        var corruptedLogit: Double
        /// The (layer, position) whose patch restores the metric most, and how much (1 = fully).
        var bestLayer: String
        var bestPosition: Int
        var bestRestoration: Double
        /// Per layer, the restoration from patching resid_pre at the corrupted move's position.
        var atCorruptedMove: [Double]
    }
    struct Head: Codable {
        var layer: Int
        var head: Int
        /// Mean attention of the prefix's positions to the previous move, and to moves of the same player.
        var previousMove: Double
        var samePlayer: Double
    }
    struct Neuron: Codable {
        var layer: Int
        var neuron: Int
        var attribution: Double
    }
    var game: Int
    var moves: Int
    var patching: Patching?
    var saliencyTopMove: String
    var saliency: [Double?]
    var heads: [Head]
    var attributionTarget: String
    var topNeurons: [Neuron]
    /// Per layer, the largest head attribution to the model's top move.
    var topHeads: [String]
}

/// A question of the study and its answer from the numbers.
struct Finding: Codable {
    var question: String
    var answer: String
}

/// report.json: the plan, every section computed so far, and the findings drawn from them.
struct StudyRecord: Codable {
    var format = "othello-gpt-study"
    var version = 1
    var plan: StudyPlan
    var modelShape: ModelSummary
    /// True once every step ran; an interrupted study has only the sections of its finished steps.
    var complete = false
    /// Seconds per finished step.
    var seconds: [String: Double] = [:]
    var legal: LegalSection?
    var probes: ProbeSection?
    var edits: EditSection?
    var effect: EffectSection?
    var examples: ExampleSection?
    /// The "is this square empty?" circuit.
    var circuit: EmptyCircuit?
    var findings: [Finding] = []

    init(plan: StudyPlan, modelShape: ModelSummary) {
        self.plan = plan
        self.modelShape = modelShape
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }()
}
