import Foundation
import OthelloCircuits
import OthelloModel
import OthelloProbes
import OthelloReports
import OthelloRules
import OthelloSAEs
import WorkbenchSupport

/// The settings of an atlas: what it is made of. A resumed atlas must have the same plan.
public struct AtlasPlan: Codable, Equatable, Sendable {
    /// The model's name or path, and the games' description (`GameSource`).
    public var model: String
    public var games: String
    public var seed: UInt64
    /// Top positions per unit.
    public var topCount = 20
    /// Positions sampled whole for the neuron rules (fitted on the first three quarters of the games, scored on
    /// the last quarter) and the histograms.
    public var ruleTrainRows = 10_000
    public var ruleTestRows = 5_000
    public var ruleDepth = 3
    /// Fresh random games the missing probes are trained on, and those every probe is scored on.
    public var probeGames = 1_000
    public var probeTestGames = 500
    public var probeDir: String?
    public var saes: [String] = []
    public var study: String?
    public var batchSize = 64

    public init(model: String, games: String, seed: UInt64) {
        self.model = model
        self.games = games
        self.seed = seed
    }

    /// The plan of `--quick`: fewer sampled rows and probe games.
    public mutating func makeQuick() {
        ruleTrainRows = 4_000
        ruleTestRows = 2_000
        probeGames = 300
        probeTestGames = 150
    }
}

/// `othello-gpt scope`: a static web site with a page for every MLP neuron, attention head, SAE feature and probe of
/// a model (Othelloscope, ARENA's neuron deep-dive and sae_vis in one), written as plain HTML/CSS/JS and compact
/// data files that open from `file://` with no server.
///
/// The folder: `index.html`, `atlas.js`, `atlas.css`, `data/*.js` (each page loads only its own chunk),
/// `probes/` (the probes used), `atlas.json` (the plan and the finished steps, so `resume` goes on where a stopped
/// run ended). Every file is written to a temporary name and renamed.
///
///     let atlas = Atlas(folder: out, plan: plan, model: model, games: games)
///     try atlas.build(saes: [sae])
public struct Atlas {
    /// Neurons per data file, and SAE features per data file.
    public static let chunk = 64
    public static let featureChunk = 128
    static let format = "othello-gpt-atlas-progress"

    public let folder: URL
    public let plan: AtlasPlan
    public let model: HookedTransformer
    public let games: GameDataset
    public var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

    public init(folder: URL, plan: AtlasPlan, model: HookedTransformer, games: GameDataset) {
        self.folder = folder
        self.plan = plan
        self.model = model
        self.games = games
    }

    /// What `atlas.json` holds: the plan, the finished steps and the summaries the index is made of.
    struct Progress: Codable {
        var format = Atlas.format
        var plan: AtlasPlan
        var done: [String] = []
        var neurons: [AtlasIndex.NeuronColumns]?
        var heads: [HeadPage]?
        var probes: [String]?
        var saes: [String: AtlasIndex.SAESummary] = [:]
        var positions = 0
        var seconds: [String: Double] = [:]
    }

    /// The files of an atlas in its folder (what `--fresh` removes; nothing else is touched).
    public static let ownFiles = ["index.html", "boards.js", "atlas.js", "atlas.css", "atlas.json", "data", "probes"]

    /// Checks `folder` before a build: nothing there, an atlas to resume (`resume`) with the same plan, or (`fresh`)
    /// anything, whose atlas files are removed. Returns whether there is progress to resume.
    public static func prepare(folder: URL, plan: AtlasPlan, resume: Bool, fresh: Bool) throws -> Bool {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: folder.path, isDirectory: &isDirectory) && !isDirectory.boolValue {
            throw WorkbenchError("\(folder.path) is a file; --out names the atlas's folder")
        }
        let entries = (try? fm.contentsOfDirectory(atPath: folder.path)) ?? []
        let manifest = folder.appendingPathComponent("atlas.json")
        if fresh {
            for name in ownFiles where entries.contains(name) { try fm.removeItem(at: folder.appendingPathComponent(name)) }
            try createOutputFolder(folder)
            return false
        }
        guard !entries.isEmpty else { try createOutputFolder(folder); return false }
        guard let data = try? Data(contentsOf: manifest), let progress = try? JSONOutput.decoder.decode(Progress.self, from: data),
              progress.format == format else {
            throw WorkbenchError("\(folder.path) is not empty and holds no atlas; choose another --out, or give --fresh to write the atlas there anyway")
        }
        guard resume else {
            throw WorkbenchError("\(folder.path) already holds an atlas (\(progress.done.count) steps done); give --resume to finish it or --fresh to replace it")
        }
        guard progress.plan == plan else {
            throw WorkbenchError("\(folder.path) holds an atlas of other settings (\(progress.plan.model), \(progress.plan.games), seed \(progress.plan.seed)); resume it with the same options, or use --fresh or another --out")
        }
        return true
    }

    /// Builds every step not yet done (`prepare` first), then the index and the page files.
    public func build(saes: [(name: String, sae: SparseAutoencoder)] = [], probeFolder: ProbeFolder? = nil, findings: [AtlasIndex.Finding] = [],
                      studyReport: String? = nil, explorer: String? = nil) throws {
        guard games.count >= 8 else {
            throw WorkbenchError("\(plan.games): the atlas needs at least 8 games (the neuron rules are scored on the last quarter), got \(games.count)")
        }
        for (name, sae) in saes { try sae.check(fits: model.config, source: name) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("data"), withIntermediateDirectories: true)
        var progress = (try? JSONOutput.decoder.decode(Progress.self, from: Data(contentsOf: manifestURL))) ?? Progress(plan: plan)
        func step(_ name: String, _ body: (inout Progress) throws -> Void) throws {
            guard !progress.done.contains(name) else { log("\(name): done already"); return }
            let start = Date()
            try body(&progress)
            progress.done.append(name)
            progress.seconds[name] = Date().timeIntervalSince(start)
            try AtomicFile.write(try JSONOutput.encoder.encode(progress), to: manifestURL)
        }
        var probes: [HookPoint: [Probe]] = [:]
        try step("probes") { _ in probes = try resolveProbes(from: probeFolder) }
        if probes.isEmpty { probes = try loadProbes(from: ProbeFolder(folder.appendingPathComponent("probes"))) }
        try step("neurons") { p in
            let (columns, positions) = try writeNeurons(probes: probes)
            p.neurons = columns
            p.positions = positions
        }
        try step("heads") { $0.heads = try heads(probes: probes) }
        try step("probe-pages") { $0.probes = try writeProbePages(probes: probes) }
        for (i, entry) in saes.enumerated() {
            try step("sae-\(i)") { $0.saes["\(i)"] = try writeFeatures(entry.sae, name: entry.name, index: i, probes: probes) }
        }
        try writeGames()
        let index = AtlasIndex(
            model: .init(name: plan.model, layers: model.config.nLayers, dModel: model.config.dModel, heads: model.config.nHeads,
                         dMLP: model.config.dMLP, nCtx: model.config.nCtx),
            games: games.count, positions: progress.positions, seed: plan.seed, chunk: Self.chunk, featureChunk: Self.featureChunk,
            neurons: progress.neurons ?? [], heads: progress.heads ?? [], saes: saes.indices.compactMap { progress.saes["\($0)"] },
            probes: progress.probes ?? [], study: studyReport, findings: findings, explorer: explorer)
        try writeData("index", index)
        try AtlasSite.write(into: folder)
        if !progress.done.contains("site") {
            progress.done.append("site")
            try AtomicFile.write(try JSONOutput.encoder.encode(progress), to: manifestURL)
        }
    }

    var manifestURL: URL { folder.appendingPathComponent("atlas.json") }

    /// Writes `data/NAME.js`: `atlasData("NAME", {...});` — a script, so that pages load it from `file://`.
    func writeData<T: Encodable>(_ name: String, _ value: T) throws {
        let url = folder.appendingPathComponent("data/\(name).js")
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var data = Data("atlasData(\"\(name)\", ".utf8)
        data.append(try JSONOutput.lineEncoder.encode(value))
        data.append(Data(");\n".utf8))
        try AtomicFile.write(data, to: url)
    }

    // MARK: Probes

    /// The probe hooks: every layer's resid_mid (what the MLP reads) and resid_post (what it writes), in three bases.
    var probeHooks: [HookPoint] { (0..<model.config.nLayers).flatMap { [HookPoint(.residMid, layer: $0), HookPoint(.residPost, layer: $0)] } }
    static let probeBases: [ProbeBasis] = [.relative, .flipped, .legal]

    /// The linear probes of every probe hook and basis: those of `source` that fit, the rest trained on fresh random
    /// games; all saved into the atlas's `probes/`.
    func resolveProbes(from source: ProbeFolder?) throws -> [HookPoint: [Probe]] {
        let d = model.config.dModel
        var found: [HookPoint: [Probe]] = [:], missing: [(HookPoint, ProbeBasis)] = []
        for point in probeHooks {
            for basis in Self.probeBases {
                if let source, let probe = try source.load(hook: point.name, basis: basis) {
                    guard probe.inputWidth == d else {
                        throw WorkbenchError("\(source.file(hook: point.name, basis: basis).path): the probe reads \(probe.inputWidth) numbers, but \(point.name) of this model is \(d) wide — a probe folder of another model? Give this model's probes, or leave out --probe-dir to train them")
                    }
                    found[point, default: []].append(probe)
                } else {
                    missing.append((point, basis))
                }
            }
        }
        if !missing.isEmpty {
            log("probes: training \(missing.count) linear probes on \(plan.probeGames) fresh games (seed \(plan.seed))")
            let trainGames = RandomGames.generate(count: plan.probeGames, seed: plan.seed &+ 7_001)
            let hooks = Array(Set(missing.map(\.0))).sorted().map { try! ProbeHook(name: $0.name, config: model.config) }
            let bar = ProgressBar(total: trainGames.count, label: "probe activations")
            let data = try ProbeData.collect(model: model, games: trainGames, indices: Array(0..<trainGames.count), hooks: hooks, progress: bar)
            bar.finish()
            let settings = ProbeTrainingSettings()
            let trainBar = ProgressBar(total: missing.count * ProbeTrainer.steps(rows: data.rows, settings: settings), label: "probes")
            for (point, basis) in missing {
                let hook = try ProbeHook(name: point.name, config: model.config)
                found[point, default: []].append(try ProbeTrainer.train(kind: .linear, basis: basis, hook: hook, on: data, settings: settings, progress: trainBar))
            }
            trainBar.finish()
        }
        let saved = ProbeFolder(folder.appendingPathComponent("probes"))
        try FileManager.default.createDirectory(at: saved.url, withIntermediateDirectories: true)
        for (point, list) in found {
            for var probe in list {
                probe.hook = point.name
                try saved.save(probe)
            }
        }
        return found
    }

    func loadProbes(from folder: ProbeFolder) throws -> [HookPoint: [Probe]] {
        var found: [HookPoint: [Probe]] = [:]
        for point in probeHooks {
            for basis in Self.probeBases { if let probe = try folder.load(hook: point.name, basis: basis) { found[point, default: []].append(probe) } }
        }
        return found
    }

    // MARK: Neurons

    /// Whether sampled position `p` is a rule-training row (first three quarters of the games) or a held-out row.
    func sampled(_ p: GamePosition) -> Bool {
        let trainGames = games.count * 3 / 4
        let isTrain = p.game < trainGames
        let pool = Double(max(1, (isTrain ? trainGames : games.count - trainGames) * model.config.nCtx))
        let share = min(1, Double(isTrain ? plan.ruleTrainRows : plan.ruleTestRows) / pool)
        var random = SeededRandom(seed: plan.seed &+ 31, stream: UInt64(p.game * 64 + p.position))
        return Double(random.next() >> 11) / Double(1 << 53) < share
    }

    /// Replays game `g` to position `p` for the page's board.
    func position(_ game: Int, _ p: Int) throws -> ProbePosition {
        let steps = try GameReplay(moves: games[game]).steps
        return ProbePosition(game: game, position: p, step: steps[p])
    }

    func views(_ examples: [UnitStatistics.Example], cache: inout [Int: [GameStep]]) throws -> [PositionView] {
        try examples.map { e in
            if cache[e.game] == nil { cache[e.game] = try GameReplay(moves: games[e.game]).steps }
            return PositionView(ProbePosition(game: e.game, position: e.position, step: cache[e.game]![e.position]), activation: e.activation)
        }
    }

    func writeNeurons(probes: [HookPoint: [Probe]]) throws -> ([AtlasIndex.NeuronColumns], Int) {
        let config = model.config, L = config.nLayers, N = config.dMLP, C = BoardConditions.count
        let bar = ProgressBar(total: games.count, label: "neuron statistics")
        let stats = try NeuronStatistics.compute(model: model, games: games, topCount: plan.topCount, batchSize: plan.batchSize, keep: sampled, progress: bar)
        bar.finish()
        let weights = try NeuronWeights.compute(model: model, probes: probes)
        let sample = stats.sample!
        let trainGames = games.count * 3 / 4
        let trainRows = sample.positions.indices.filter { sample.positions[$0].game < trainGames }
        let testRows = sample.positions.indices.filter { sample.positions[$0].game >= trainGames }
        guard trainRows.count >= 20, testRows.count >= 5 else {
            throw WorkbenchError("\(plan.games): too few positions for the neuron rules (\(trainRows.count) to fit, \(testRows.count) held out); give more games")
        }
        var columns: [AtlasIndex.NeuronColumns] = []
        var steps: [Int: [GameStep]] = [:]
        let ruleBar = ProgressBar(total: L, label: "neuron rules and pages")
        for l in 0..<L {
            let train = sample.subset(trainRows, layer: l, units: N), test = sample.subset(testRows, layer: l, units: N)
            let trees = RegressionTree.fit(features: train.conditions, rows: trainRows.count, width: C, targets: train.activations, count: N,
                                           depth: plan.ruleDepth, minLeaf: max(5, trainRows.count / 500))
            let r2 = RegressionTree.rSquared(trees, features: test.conditions, rows: testRows.count, width: C, targets: test.activations)
            var column = AtlasIndex.NeuronColumns()
            let layerStats = stats.layers[l]
            var pages: [NeuronPage] = []
            for n in 0..<N {
                let logit = Array(weights.logitEffect[l][(n * 64)..<((n + 1) * 64)])
                func board(_ flat: [Float]) -> QuantizedBoard { QuantizedBoard(Array(flat[(n * 64)..<((n + 1) * 64)])) }
                let histogram = sample.activations[l].withUnsafeBufferPointer { Histogram(values: $0, stride: N, offset: n) }
                let rule = RuleView(lines: trees[n].describe(name: BoardConditions.name), r2: AtlasNumber.round(r2[n]))
                pages.append(NeuronPage(
                    id: "L\(l)N\(n)", layer: l, neuron: n, mean: AtlasNumber.round(layerStats.mean[n]), frequency: AtlasNumber.round(layerStats.frequency[n]),
                    maximum: AtlasNumber.round(layerStats.maximum[n]), histogram: histogram, logit: QuantizedBoard(logit),
                    input: Dictionary(uniqueKeysWithValues: weights.input[l].map { ($0.key.rawValue, board($0.value)) }),
                    output: Dictionary(uniqueKeysWithValues: weights.output[l].map { ($0.key.rawValue, board($0.value)) }),
                    conditioned: Dictionary(uniqueKeysWithValues: BoardConditions.Condition.allCases.map { ($0.name, QuantizedBoard(layerStats.conditionedMean(unit: n, condition: $0))) }),
                    top: try views(layerStats.top[n], cache: &steps), rule: rule))
                column.mean.append(AtlasNumber.round(layerStats.mean[n]))
                column.frequency.append(AtlasNumber.round(layerStats.frequency[n]))
                column.maximum.append(AtlasNumber.round(layerStats.maximum[n]))
                column.ruleR2.append(AtlasNumber.round(Float(r2[n])))
                column.rule.append(trees[n].nodes[0].feature >= 0 ? BoardConditions.name(trees[n].nodes[0].feature) : "")
                let best = logit.indices.max { abs(logit[$0]) < abs(logit[$1]) } ?? 0
                column.logitSquare.append(best)
                column.logit.append(AtlasNumber.round(logit[best]))
                if let cos = weights.output[l][.mineTheirs] {
                    let row = Array(cos[(n * 64)..<((n + 1) * 64)])
                    let s = row.indices.max { abs(row[$0]) < abs(row[$1]) } ?? 0
                    column.outputSquare.append(s)
                    column.outputCosine.append(AtlasNumber.round(row[s]))
                }
                if pages.count == Self.chunk || n == N - 1 {
                    try writeData(String(format: "neurons/L%d-%03d", l, n / Self.chunk), ["units": pages])
                    pages.removeAll(keepingCapacity: true)
                }
            }
            columns.append(column)
            ruleBar.advance()
        }
        ruleBar.finish()
        return (columns, stats.positions)
    }

    // MARK: Heads

    func heads(probes: [HookPoint: [Probe]]) throws -> [HeadPage] {
        let bar = ProgressBar(total: 2 * games.count, label: "head scores")
        let scores = try HeadScores.compute(model: model, games: games, seed: plan.seed, batchSize: plan.batchSize, progress: bar)
        let writes = try HeadWrites.compute(model: model, games: games, probes: probes, batchSize: plan.batchSize, progress: bar)
        bar.finish()
        var pages: [HeadPage] = []
        for l in 0..<model.config.nLayers {
            for h in 0..<model.config.nHeads {
                let values: [String: Double] = [
                    "previous_move": scores.previousMove[l][h], "mine": scores.mine[l][h], "theirs": scores.theirs[l][h],
                    "first_position": scores.firstPosition[l][h], "duplicate_token": scores.duplicateToken[l][h], "induction": scores.induction[l][h],
                ]
                pages.append(HeadPage(id: "L\(l)H\(h)", layer: l, head: h, scores: values.mapValues(AtlasNumber.round),
                                      byDistance: scores.byDistance[l][h].map(AtlasNumber.round),
                                      writes: Dictionary(uniqueKeysWithValues: writes.mean[l][h].map { ($0.key.rawValue, QuantizedBoard($0.value)) })))
            }
        }
        return pages
    }

    // MARK: Probe pages

    /// Every probe scored on fresh held-out games: overall, whole-board, by player to move, per square, by position.
    func writeProbePages(probes: [HookPoint: [Probe]]) throws -> [String] {
        let testGames = RandomGames.generate(count: plan.probeTestGames, seed: plan.seed &+ 7_002)
        let hooks = probes.keys.sorted().map { try! ProbeHook(name: $0.name, config: model.config) }
        let bar = ProgressBar(total: testGames.count, label: "probe scores")
        let data = try ProbeData.collect(model: model, games: testGames, indices: Array(0..<testGames.count), hooks: hooks, progress: bar)
        bar.finish()
        var pages: [ProbePage] = []
        let T = model.config.nCtx
        for point in probes.keys.sorted() {
            let hook = try ProbeHook(name: point.name, config: model.config)
            guard let inputs = data.activations[hook] else { continue }
            for probe in probes[point]!.sorted(by: { $0.basis.rawValue < $1.basis.rawValue }) {
                let mode = probe.modes.firstIndex(of: .all) ?? 0
                let predictions = probe.predict(mode: mode, inputs: inputs.pointer, rows: data.rows)
                let labels = data.labels(probe.basis)
                var all = ProbeScore(classes: probe.classes, positions: T), black = all, white = all
                predictions.withUnsafeBufferPointer { p in
                    labels.withUnsafeBufferPointer { t in
                        for (row, position) in data.positions.enumerated() {
                            let (pr, tr) = (p.baseAddress! + row * 64, t.baseAddress! + row * 64)
                            all.add(predictions: pr, labels: tr, position: position.position)
                            if position.next == .black { black.add(predictions: pr, labels: tr, position: position.position) }
                            if position.next == .white { white.add(predictions: pr, labels: tr, position: position.position) }
                        }
                    }
                }
                var cosines: String?
                if probe.basis == .relative {
                    let u = try ProbeDirections(probe: probe, mode: mode).mineMinusTheirs
                    let matrix = ProbeDirections.cosineMatrix(u, u)
                    cosines = Data(matrix.flatMap { $0 }.map { UInt8(bitPattern: Int8(max(-127, min(127, ($0 * 127).rounded())))) }).base64EncodedString()
                }
                pages.append(ProbePage(hook: point.name, basis: probe.basis.rawValue, layer: point.layer ?? 0, accuracy: all.accuracy,
                                       wholeBoard: all.wholeBoardAccuracy, blackToMove: black.accuracy, whiteToMove: white.accuracy,
                                       perSquare: all.perSquare.map(AtlasNumber.round), byPosition: all.perPosition.map(AtlasNumber.round),
                                       wholeBoardByPosition: all.wholeBoardPerPosition.map(AtlasNumber.round), directionCosines: cosines))
            }
        }
        try writeData("probes", ProbePages(probes: pages, games: testGames.count))
        return pages.map { "\($0.hook) \($0.basis)" }
    }

    struct ProbePages: Codable {
        var probes: [ProbePage]
        var games: Int
    }

    // MARK: SAE features

    func writeFeatures(_ sae: SparseAutoencoder, name: String, index s: Int, probes: [HookPoint: [Probe]]) throws -> AtlasIndex.SAESummary {
        let point = try HookPoint(name: sae.hook)
        let n = sae.dSAE, d = sae.dIn, config = model.config
        // Activations: statistics over every position, whole rows at the sampled positions for the histograms.
        var stats = UnitStatistics(units: n, topCount: plan.topCount)
        var sampleValues: [Float] = []
        let bar = ProgressBar(total: games.count, label: "SAE \(s) features")
        for start in stride(from: 0, to: games.count, by: plan.batchSize) {
            let batch = Array(start..<min(start + plan.batchSize, games.count))
            let (x, positions) = try ActivationStream.activations(model: model, point: point, games: games, indices: batch, batchSize: plan.batchSize)
            let f = sae.encode(x, rows: positions.count)
            let rows = positions.map { GamePosition(game: $0.game, position: $0.position) }
            f.withUnsafeBufferPointer { stats.add(activations: $0.baseAddress!, rows: rows.count, positions: rows) }
            for (r, p) in rows.enumerated() where sampled(p) { sampleValues += f[(r * n)..<((r + 1) * n)] }
            bar.advance(by: batch.count)
        }
        bar.finish()
        stats.finish()
        log("SAE \(s): scoring the features against the board (sae eval)")
        let evalBar = ProgressBar(total: games.count, label: "SAE \(s) evaluation")
        let evaluation = try SAEEvaluation.evaluate(sae, model: model, games: games, batchSize: plan.batchSize, source: plan.games, progress: evalBar)
        evalBar.finish()
        var best = [String?](repeating: nil, count: n), bestF1 = [Double?](repeating: nil, count: n)
        for (i, f) in evaluation.board.features.enumerated() where evaluation.board.bestElement[i] >= 0 {
            best[f] = BoardProperty.name(evaluation.board.bestElement[i])
            bestF1[f] = evaluation.board.bestF1[i]
        }
        // The decoder rows in the residual stream (through W_out for an MLP hook), for logit effects and probe cosines.
        let decoder = Array(sae.parameters[sae.decoderWeights..<(sae.decoderWeights + n * d)])
        var residual: [Float]?
        var probePoint: HookPoint?
        switch point.kind {
        case .residPre, .residMid, .residPost:
            residual = decoder
            probePoint = point.kind == .residPre ? (point.layer! > 0 ? HookPoint(.residPost, layer: point.layer! - 1) : nil) : point
        case .mlpPost:
            var r = [Float](repeating: 0, count: n * config.dModel)
            let wOut = model.parameters.base + model.parameters.layout.blocks[point.layer!].W_out
            r.withUnsafeMutableBufferPointer { Matmul.gemm(m: n, n: config.dModel, k: d, a: decoder, lda: d, b: wOut, ldb: config.dModel, c: $0.baseAddress!, ldc: config.dModel) }
            residual = r
            probePoint = HookPoint(.residPost, layer: point.layer!)
        default: break
        }
        let logits = residual.map { r in r.withUnsafeBufferPointer { NeuronWeights.logitEffect(of: $0.baseAddress!, count: n, model: model) } }
        var cosines: [ProbeDirectionKind: [Float]] = [:]
        if let residual, let probePoint {
            let directions = try ProbeDirectionKind.directions(of: probes[probePoint] ?? [], width: config.dModel)
            cosines = residual.withUnsafeBufferPointer { r in directions.mapValues { ProbeDirectionKind.cosines(of: r.baseAddress!, count: n, width: config.dModel, with: $0) } }
        }
        let nearestFeatures = Self.nearest(decoder, count: n, width: d, against: decoder, others: n, excludeSelf: true).map { $0.map { Neighbour(id: "F\($0.0)", cosine: $0.1) } }
        let nearestNeurons = try neuronNeighbours(point: point, decoder: decoder, residual: residual, count: n, width: d)
        var pages: [FeaturePage] = []
        var steps: [Int: [GameStep]] = [:]
        let sampleRows = sampleValues.count / max(n, 1)
        for f in 0..<n {
            func board(_ flat: [Float]) -> QuantizedBoard { QuantizedBoard(Array(flat[(f * 64)..<((f + 1) * 64)])) }
            let positive = (0..<sampleRows).map { sampleValues[$0 * n + f] }.filter { $0 > 0 }
            pages.append(FeaturePage(
                id: "F\(f)", feature: f, frequency: AtlasNumber.round(stats.frequency[f]), maximum: AtlasNumber.round(max(0, stats.maximum[f])),
                histogram: positive.withUnsafeBufferPointer { Histogram(values: $0) }, logit: logits.map(board),
                cosines: Dictionary(uniqueKeysWithValues: cosines.map { ($0.key.rawValue, board($0.value)) }),
                best: best[f], bestF1: bestF1[f].map(AtlasNumber.round), top: try views(stats.top[f].filter { $0.activation > 0 }, cache: &steps),
                nearestFeatures: nearestFeatures[f], nearestNeurons: nearestNeurons[f]))
            if pages.count == Self.featureChunk || f == n - 1 {
                try writeData(String(format: "sae-%d/F-%03d", s, f / Self.featureChunk), ["units": pages])
                pages.removeAll(keepingCapacity: true)
            }
        }
        return AtlasIndex.SAESummary(
            name: name, hook: sae.hook, kind: sae.kind.name.rawValue, dSAE: n, explainedVariance: AtlasNumber.round(evaluation.explainedVariance),
            l0: AtlasNumber.round(evaluation.l0), lossRecovered: evaluation.lossRecovered.map(AtlasNumber.round),
            reconstructionF1: AtlasNumber.round(evaluation.board.reconstructionF1), coverage: evaluation.board.coverage.mapValues(AtlasNumber.round),
            frequency: stats.frequency.map(AtlasNumber.round), maximum: stats.maximum.map { AtlasNumber.round(max(0, $0)) },
            bestF1: bestF1.map { Float($0 ?? 0) }.map(AtlasNumber.round), best: best.map { $0 ?? "" })
    }

    /// For each of `count` rows of `a` (`[count, width]`), the 5 rows of `b` (`[others, width]`) of the largest cosine.
    static func nearest(_ a: [Float], count: Int, width: Int, against b: [Float], others: Int, excludeSelf: Bool, prefix: (Int) -> Int = { $0 })
        -> [[(Int, Float)]] {
        func normalised(_ m: [Float], rows: Int) -> [Float] {
            var out = m
            for r in 0..<rows {
                var s: Float = 0
                for i in 0..<width { s += m[r * width + i] * m[r * width + i] }
                let scale: Float = s > 0 ? 1 / s.squareRoot() : 0
                for i in 0..<width { out[r * width + i] *= scale }
            }
            return out
        }
        let (ua, ub) = (normalised(a, rows: count), normalised(b, rows: others))
        var result: [[(Int, Float)]] = []
        let block = 256
        for start in stride(from: 0, to: count, by: block) {
            let rows = min(block, count - start)
            var c = [Float](repeating: 0, count: rows * others)
            ua.withUnsafeBufferPointer { x in
                ub.withUnsafeBufferPointer { y in
                    c.withUnsafeMutableBufferPointer {
                        Matmul.gemm(m: rows, n: others, k: width, a: x.baseAddress! + start * width, lda: width, b: y.baseAddress!, ldb: width, transposeB: true,
                                    c: $0.baseAddress!, ldc: others)
                    }
                }
            }
            for r in 0..<rows {
                var top: [(Int, Float)] = []
                for j in 0..<others where !(excludeSelf && j == start + r) {
                    let v = c[r * others + j]
                    if top.count < 5 || v > top[4].1 {
                        top.append((prefix(j), v))
                        top.sort { $0.1 > $1.1 }
                        if top.count > 5 { top.removeLast() }
                    }
                }
                result.append(top.map { ($0.0, AtlasNumber.round($0.1)) })
            }
        }
        return result
    }

    /// The neurons nearest each feature: for an MLP hook, the neurons of its largest decoder entries (cosine with the
    /// neuron's basis vector); for the residual stream, the neurons of the layers before whose output rows are closest.
    func neuronNeighbours(point: HookPoint, decoder: [Float], residual: [Float]?, count n: Int, width d: Int) throws -> [[Neighbour]] {
        let config = model.config
        if point.kind == .mlpPost, let layer = point.layer {
            return Self.nearest(decoder, count: n, width: d, against: (0..<(d * d)).map { $0 / d == $0 % d ? 1 : 0 }, others: d, excludeSelf: false)
                .map { $0.map { Neighbour(id: "L\(layer)N\($0.0)", cosine: $0.1) } }
        }
        guard let residual, let layer = point.layer else { return [[Neighbour]](repeating: [], count: n) }
        let last = point.kind == .residPre ? layer - 1 : layer
        guard last >= 0 else { return [[Neighbour]](repeating: [], count: n) }
        var rows: [Float] = []
        for l in 0...last {
            let wOut = model.parameters.base + model.parameters.layout.blocks[l].W_out
            rows += UnsafeBufferPointer(start: wOut, count: config.dMLP * config.dModel)
        }
        let M = config.dMLP
        return Self.nearest(residual, count: n, width: config.dModel, against: rows, others: M * (last + 1), excludeSelf: false)
            .map { $0.map { Neighbour(id: "L\($0.0 / M)N\($0.0 % M)", cosine: $0.1) } }
    }

    // MARK: Games

    /// `data/games.js`: every game's moves (labels), for the pages' "moves" lines and links to the live explorer.
    func writeGames() throws {
        let labels = (0..<games.count).map { g in games[g].map { SquareNotation.othelloGPT.label($0) }.joined(separator: " ") }
        try writeData("games", ["games": labels])
    }
}
