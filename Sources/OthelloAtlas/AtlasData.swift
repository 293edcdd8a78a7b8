import Foundation
import OthelloCircuits
import OthelloProbes
import OthelloRules

// The atlas's data files: what each page shows, as compact JSON. Boards of numbers are quantized to one byte per
// square (`QuantizedBoard`), positions are written out by the rules engine (`PositionView`), so the browser draws
// both without replaying a game or rescaling anything. Keys are snake_case, as every JSON the workbench writes.

/// 64 numbers (one per square, A0…H7) as a scale and one signed byte each: value = scale × byte / 127. The
/// largest magnitude is exact; the rest within scale / 254.
public struct QuantizedBoard: Codable, Equatable, Sendable {
    public var scale: Float
    /// Base64 of the 64 bytes (two's complement).
    public var q: String

    public init(_ values: [Float]) {
        precondition(values.count == 64)
        let largest = values.map { $0.isFinite ? abs($0) : 0 }.max() ?? 0
        scale = AtlasNumber.round(largest)
        let bytes = values.map { v -> UInt8 in
            guard largest > 0, v.isFinite else { return 0 }
            return UInt8(bitPattern: Int8(max(-127, min(127, (v / largest * 127).rounded()))))
        }
        q = Data(bytes).base64EncodedString()
    }

    /// The 64 values back (as the page decodes them).
    public var values: [Float] {
        let bytes = [UInt8](Data(base64Encoded: q) ?? Data())
        return bytes.map { scale * Float(Int8(bitPattern: $0)) / 127 }
    }
}

enum AtlasNumber {
    /// `v` to 4 significant digits (shorter JSON, no false precision).
    static func round(_ v: Float) -> Float {
        guard v.isFinite, v != 0 else { return v.isFinite ? 0 : 0 }
        let digits = 3 - Int(floor(log10(abs(Double(v)))))
        let p = pow(10, Double(digits))
        return Float((Double(v) * p).rounded() / p)
    }

    static func round(_ v: Double) -> Double { Double(round(Float(v))) }
}

/// A position as the atlas draws it: the board after move `position` of game `game`, from the rules engine.
/// Written as one array, `[game, position, activation, black, white, next, move, legal]`, the three masks as 16 hex
/// digits (bit = square, A0 = bit 0): a page shows 20 of these per unit, thousands per data file.
public struct PositionView: Codable, Equatable, Sendable {
    public var game: Int
    public var position: Int
    /// The unit's activation there.
    public var activation: Float
    /// The discs of each colour.
    public var black: UInt64
    public var white: UInt64
    /// Who moves next: `b`, `w`, or `-` at the end of the game.
    public var next: String
    /// The square just played.
    public var move: Int
    /// The legal moves of the player to move.
    public var legal: UInt64

    public init(_ position: ProbePosition, activation: Float) {
        game = position.game
        self.position = position.position
        self.activation = AtlasNumber.round(activation)
        black = position.board.black
        white = position.board.white
        next = position.next.map { $0 == .black ? "b" : "w" } ?? "-"
        move = position.move
        legal = position.legalMoves
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.unkeyedContainer()
        let hex = { (v: UInt64) in String(format: "%016llx", v) }
        try c.encode(game); try c.encode(position); try c.encode(activation)
        try c.encode(hex(black)); try c.encode(hex(white)); try c.encode(next); try c.encode(move); try c.encode(hex(legal))
    }

    public init(from decoder: Decoder) throws {
        var c = try decoder.unkeyedContainer()
        func mask() throws -> UInt64 {
            let text = try c.decode(String.self)
            guard let v = UInt64(text, radix: 16) else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "not 16 hex digits: \(text)") }
            return v
        }
        game = try c.decode(Int.self); position = try c.decode(Int.self); activation = try c.decode(Float.self)
        black = try mask(); white = try mask(); next = try c.decode(String.self); move = try c.decode(Int.self); legal = try mask()
    }
}

/// A rule: the regression tree's text and its R² on held-out positions.
public struct RuleView: Codable, Equatable, Sendable {
    public var lines: [String]
    public var r2: Double
}

/// One MLP neuron's page.
public struct NeuronPage: Codable, Sendable {
    public var id: String
    public var layer: Int
    public var neuron: Int
    public var mean: Float
    public var frequency: Float
    public var maximum: Float
    public var histogram: Histogram
    /// The direct logit effect per move square (W_out · W_U).
    public var logit: QuantizedBoard
    /// Cosines of the input (W_in column, against resid_mid probes) and output (W_out row, against resid_post probes)
    /// directions, by `ProbeDirectionKind` raw value.
    public var input: [String: QuantizedBoard]
    public var output: [String: QuantizedBoard]
    /// The mean activation given each square in each `BoardConditions.Condition` (by name).
    public var conditioned: [String: QuantizedBoard]
    public var top: [PositionView]
    public var rule: RuleView
}

/// One SAE feature's page.
public struct FeaturePage: Codable, Sendable {
    public var id: String
    public var feature: Int
    public var frequency: Float
    public var maximum: Float
    public var histogram: Histogram
    /// The decoder row's direct logit effect (nil for a hook not in or feeding the residual stream).
    public var logit: QuantizedBoard?
    public var cosines: [String: QuantizedBoard]
    /// Karvonen et al.'s best board property at the coverage threshold, and its F1 (the `sae eval` numbers).
    public var best: String?
    public var bestF1: Double?
    public var top: [PositionView]
    public var nearestFeatures: [Neighbour]
    public var nearestNeurons: [Neighbour]
}

public struct Neighbour: Codable, Equatable, Sendable {
    public var id: String
    public var cosine: Float
}

/// One attention head's page (in the index: there are few).
public struct HeadPage: Codable, Sendable {
    public var id: String
    public var layer: Int
    public var head: Int
    /// previous_move, mine, theirs, first_position, duplicate_token, induction.
    public var scores: [String: Double]
    /// Mean attention to the move k before, k = 0…n_ctx − 1.
    public var byDistance: [Double]
    /// Mean |projection| of the head's output on each square's probe directions (resid_post of its layer).
    public var writes: [String: QuantizedBoard]
}

/// One probe's page section: held-out accuracy every way the papers quote it.
public struct ProbePage: Codable, Sendable {
    public var hook: String
    public var basis: String
    public var layer: Int
    public var accuracy: Double
    public var wholeBoard: Double
    public var blackToMove: Double
    public var whiteToMove: Double
    /// Per square (exact values: these boards are small in number).
    public var perSquare: [Double]
    /// Per token position (move number − 1); NaN where no position.
    public var byPosition: [Double]
    public var wholeBoardByPosition: [Double]
    /// A relative probe's mine − theirs direction cosines between squares, 64 × 64 bytes as base64 (value/127).
    public var directionCosines: String?
}

/// The index: the model, the headline numbers, and every unit's summary scores for the tables.
public struct AtlasIndex: Codable, Sendable {
    public struct Model: Codable, Sendable {
        public var name: String
        public var layers: Int
        public var dModel: Int
        public var heads: Int
        public var dMLP: Int
        public var nCtx: Int
    }
    /// Per layer, columns of the neuron table (index = neuron).
    public struct NeuronColumns: Codable, Sendable {
        public var mean: [Float] = []
        public var frequency: [Float] = []
        public var maximum: [Float] = []
        public var ruleR2: [Float] = []
        public var rule: [String] = []
        /// The square of the largest |direct logit effect|, and that effect.
        public var logitSquare: [Int] = []
        public var logit: [Float] = []
        /// The largest |cosine| of the output with a resid_post mine − theirs direction, and its square.
        public var outputSquare: [Int] = []
        public var outputCosine: [Float] = []
    }
    public struct SAESummary: Codable, Sendable {
        public var name: String
        public var hook: String
        public var kind: String
        public var dSAE: Int
        public var explainedVariance: Double
        public var l0: Double
        public var lossRecovered: Double?
        public var reconstructionF1: Double
        public var coverage: [String: Double]
        public var frequency: [Float]
        public var maximum: [Float]
        public var bestF1: [Float]
        public var best: [String]
    }
    public struct Finding: Codable, Sendable {
        public var question: String
        public var answer: String
        public init(question: String, answer: String) { self.question = question; self.answer = answer }
    }

    public var format = "othello-gpt-atlas"
    public var version = 1
    public var model: Model
    public var games: Int
    public var positions: Int
    public var seed: UInt64
    public var chunk: Int
    public var featureChunk: Int
    public var neurons: [NeuronColumns]
    public var heads: [HeadPage]
    public var saes: [SAESummary]
    public var probes: [String]
    /// The study's findings and the relative path of its report, when the atlas was made with `--study`.
    public var study: String?
    public var findings: [Finding]
    public var explorer: String?
}
