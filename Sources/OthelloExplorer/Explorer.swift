import Foundation
import OthelloInterventions
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport

/// The live explorer's computations, one function per endpoint of `othello-gpt serve`: play a prefix and read the
/// model and its probes, edit the board inside the model and watch the predictions, a head's attention, the direct
/// logit attribution. Each calls the same library functions as the CLI (`intervene eval`'s `InterventionStudy`,
/// `DirectLogitAttribution`), on a model and probes shared read-only; every request's scratch is its own, so
/// concurrent requests cannot disturb each other.
///
///     let explorer = try Explorer(model: model, probes: probes)
///     let run = try explorer.run(RunRequest(moves: [19, 18, 17]))
///     run.probabilities[26]      // P(next move = C2)
public final class Explorer: Sendable {
    public let model: HookedTransformer
    /// Linear relative-basis probes of the board by hook (every resid_post at least).
    public let probes: [HookPoint: Probe]
    public let limits: Limits

    /// What one request may ask for.
    public struct Limits: Sendable {
        /// The most Adam steps of a gradient edit, and the largest direction scale.
        public var gradientSteps = 1000
        public var scale: Float = 64
        public init() {}
    }

    public init(model: HookedTransformer, probes: [HookPoint: Probe], limits: Limits = Limits()) throws {
        for point in (0..<model.config.nLayers).map({ HookPoint(.residPost, layer: $0) }) {
            guard let probe = probes[point] else { throw WorkbenchError("the explorer needs a linear relative probe at \(point.name)") }
            guard probe.kind == .linear, probe.basis == .relative else {
                throw WorkbenchError("the probe at \(point.name) is \(probe.kind.rawValue) \(probe.basis.rawValue); the explorer reads linear relative probes (mine / theirs / empty)")
            }
            try probe.check(fits: ProbeHook(name: point.name, config: model.config), config: model.config, source: "the probe at \(point.name)")
        }
        self.model = model
        self.probes = probes
        self.limits = limits
    }

    // MARK: GET /api/model

    public struct ModelInfo: Codable, Sendable {
        public var layers: Int, dModel: Int, heads: Int, dMLP: Int, nCtx: Int, dVocab: Int
        /// The hooks an edit may change, and those with a probe.
        public var editHooks: [String]
        public var probes: [String]
        public var limits: [String: Double]
    }

    public func info() -> ModelInfo {
        let c = model.config
        return ModelInfo(layers: c.nLayers, dModel: c.dModel, heads: c.nHeads, dMLP: c.dMLP, nCtx: c.nCtx, dVocab: c.dVocab,
                         editHooks: EditProbes.studyHooks(config: c).map(\.name), probes: probes.keys.sorted().map(\.name),
                         limits: ["gradient_steps": Double(limits.gradientSteps), "scale": Double(limits.scale)])
    }

    // MARK: POST /api/run

    /// The position after a prefix, as the rules engine has it and as the model and its probes read it.
    public struct Position: Codable, Sendable {
        public var moves: [String]
        /// 64 characters, A0…H7: `x` black, `o` white, `.` empty.
        public var board: String
        /// Who moves next: `b`, `w`, or `-` when the game is over.
        public var next: String
        public var legal: [Int]
        /// P(next move) per square (0 at the centre), the model's top move and whether it is legal.
        public var probabilities: [Float]
        public var top: Int
        public var topLegal: Bool
        /// The probes' readings, one per layer's resid_post.
        public var layers: [Reading]
    }

    /// One probe's board: P(mine), P(theirs), P(empty) per square ("mine" = the player who moves next), its
    /// predicted state, and the squares it reads wrongly.
    public struct Reading: Codable, Sendable {
        public var hook: String
        public var mine: [Float]
        public var theirs: [Float]
        public var empty: [Float]
        public var wrong: [Int]
    }

    public func run(moves: [Int]) throws -> Position {
        let steps = try replay(moves)
        let last = steps.last!, p = moves.count - 1, V = model.config.dVocab, d = model.config.dModel
        let readers = probes.keys.filter { $0.kind == .residPost }.sorted()
        let cache = try model.runWithCache(tokens: Vocabulary.tokens(forMoves: moves), games: 1, positions: moves.count, points: readers)
        let logits = try cache.logitValues()
        let probabilities = Self.squareProbabilities(Array(logits[(p * V)..<((p + 1) * V)]))
        let top = probabilities.indices.max { probabilities[$0] < probabilities[$1] }!
        var truth = [UInt8](repeating: 0, count: 64)
        truth.withUnsafeMutableBufferPointer { ProbeBasis.relative.labels(of: ProbePosition(game: 0, position: p, step: last), into: $0.baseAddress!) }
        let layers = try readers.map { point -> Reading in
            let values = try cache.values(point)
            let row = Array(values[(p * d)..<((p + 1) * d)])
            let probe = probes[point]!
            let q = row.withUnsafeBufferPointer { probe.probabilities(mode: probe.modes.firstIndex(of: .all) ?? 0, inputs: $0.baseAddress!, rows: 1) }
            let empty = (0..<64).map { q[$0 * 3] }, theirs = (0..<64).map { q[$0 * 3 + 1] }, mine = (0..<64).map { q[$0 * 3 + 2] }
            // The probe's state per square: the most probable of empty (0), theirs (1), mine (2), as the labels count.
            let wrong = (0..<64).filter { s -> Bool in
                let read: Int = mine[s] > theirs[s] ? (mine[s] > empty[s] ? 2 : 0) : (theirs[s] > empty[s] ? 1 : 0)
                return read != Int(truth[s])
            }
            return Reading(hook: point.name, mine: mine.map(Self.short), theirs: theirs.map(Self.short), empty: empty.map(Self.short), wrong: wrong)
        }
        return Position(moves: moves.map { SquareNotation.othelloGPT.label($0) }, board: Self.boardString(last.board),
                        next: last.next.map { $0 == .black ? "b" : "w" } ?? "-", legal: Bitboard.squares(last.legalMoves),
                        probabilities: probabilities.map(Self.short), top: top, topLegal: last.legalMoves >> UInt64(top) & 1 == 1, layers: layers)
    }

    // MARK: POST /api/edit

    /// An edit of the model's board, as `intervene eval` scores it on a one-case file.
    public struct EditRequest: Sendable {
        public var edit: InterventionCase
        public var plan: EditPlan
    }

    public struct EditResult: Codable, Sendable {
        /// The edit, as `intervene eval` labels it.
        public var label: String
        /// P(next move) per square before and after the edit.
        public var before: [Float]
        public var after: [Float]
        /// The edited board and its legal moves for the player to move.
        public var editedBoard: String
        public var legal: [Int]
        /// Li et al.'s error of the edit and of the null edit: exactly `intervene eval --json`'s `error` and `null_error`.
        public var error: Double
        public var nullError: Double
        public var result: InterventionResult
    }

    public func edit(_ request: EditRequest) throws -> EditResult {
        let config = model.config
        if case .gradient(let g) = request.plan.method, g.steps > limits.gradientSteps {
            throw WorkbenchError("steps \(g.steps): a gradient edit may take at most \(limits.gradientSteps) steps here")
        }
        if case .direction(let scale) = request.plan.method, !(abs(scale) <= limits.scale) {
            throw WorkbenchError("scale \(scale): give a direction scale within ±\(limits.scale.formatted())")
        }
        let prepared = try PreparedCase(request.edit, maxPositions: config.nCtx, source: "the edit")
        var needed = probes
        for hook in request.plan.hooks where needed[hook] == nil {
            let stored = try HookPoint(name: ProbeFolder.storedHook(for: hook.name))
            guard let probe = probes[stored] else {
                throw WorkbenchError("no probe at \(hook.name) to edit with; hooks with a probe: \(probes.keys.sorted().map(\.name).joined(separator: ", "))")
            }
            var aliased = probe
            aliased.hook = hook.name
            needed[hook] = aliased
        }
        let study = try InterventionStudy(model: model, cases: [prepared], probes: needed, batchSize: 1)
        let result = try study.evaluate(request.plan)
        let before = try study.probabilities(plan: nil)[0], after = try study.probabilities(plan: request.plan)[0]
        return EditResult(label: result.label, before: Self.squareProbabilities(fromTokens: before).map(Self.short),
                          after: Self.squareProbabilities(fromTokens: after).map(Self.short),
                          editedBoard: Self.boardString(prepared.editedBoard(at: prepared.position)), legal: Bitboard.squares(prepared.legalAfter),
                          error: result.error, nullError: result.nullError, result: result)
    }

    // MARK: POST /api/attention and /api/attribution

    public struct Attention: Codable, Sendable {
        public var layer: Int, head: Int
        /// `[query][key]`, 0 above the diagonal.
        public var pattern: [[Float]]
    }

    public func attention(moves: [Int], layer: Int, head: Int) throws -> Attention {
        _ = try replay(moves)
        let pattern = try DirectLogitAttribution.pattern(model: model, moves: moves, layer: layer, head: head)
        return Attention(layer: layer, head: head, pattern: pattern.map { $0.map { Self.short(Float($0 ?? 0)) } })
    }

    public struct Attribution: Codable, Sendable {
        /// The square whose logit is attributed, and `[layer][head]` attributions to it; the top neurons.
        public var square: Int
        public var heads: [[Double]]
        public var neurons: [Neuron]
        public struct Neuron: Codable, Sendable {
            public var id: String
            public var attribution: Double
        }
    }

    public func attribution(moves: [Int], square: Int?) throws -> Attribution {
        _ = try replay(moves)
        if let square, !Vocabulary.squares.contains(square) {
            throw WorkbenchError("square \(SquareNotation.othelloGPT.label(square)) is a centre square, never a move; attribute a move's logit")
        }
        let token = try square.map { try Vocabulary.token(forSquare: $0) }
        let result = try DirectLogitAttribution.run(model: model, moves: moves, token: token)
        return Attribution(square: (try? Vocabulary.square(forToken: result.token)) ?? 0, heads: result.heads.map { $0.map { $0[result.token] } },
                           neurons: result.neurons.map { .init(id: "L\($0.layer)N\($0.neuron)", attribution: $0.attribution) })
    }

    // MARK: Helpers

    /// The replay of a prefix the model can read: 1…n_ctx legal moves (the error names an illegal move and its number).
    func replay(_ moves: [Int]) throws -> [GameStep] {
        guard !moves.isEmpty else { throw WorkbenchError("moves: give at least one move") }
        guard moves.count <= model.config.nCtx else { throw WorkbenchError("moves: the model reads at most \(model.config.nCtx) moves, got \(moves.count)") }
        return try GameReplay(moves: moves, source: "moves").steps
    }

    /// Softmax over the 61 tokens, read as the 64 squares (0 at the centre).
    static func squareProbabilities(_ logits: [Float]) -> [Float] { squareProbabilities(fromTokens: Softmax.probabilities(logits)) }

    static func squareProbabilities(fromTokens p: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: 64)
        for s in Vocabulary.squares { out[s] = p[Vocabulary.tokenUnchecked(forSquare: s)] }
        return out
    }

    static func boardString(_ board: Board) -> String {
        String((0..<64).map { board[$0] == .black ? "x" : board[$0] == .white ? "o" : "." })
    }

    static func short(_ v: Float) -> Float { (v * 1e5).rounded() / 1e5 }
}
