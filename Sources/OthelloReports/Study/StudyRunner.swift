import Foundation
import OthelloCircuits
import OthelloSAEs
import OthelloInterventions
import OthelloModel
import OthelloPlots
import OthelloProbes
import OthelloRules
import WorkbenchSupport

/// The study's steps, run in order on one model; each fills one section of the record. The analysis is the
/// probes' and interventions' own code: this file only chains it, saves what later steps and the reproducing
/// commands need (games.npy, probes/, cases.jsonl) and draws the figures into figures/.
public final class StudyRunner {
    public let model: HookedTransformer
    public let plan: StudyPlan
    public let folder: URL
    public let batchSize: Int
    public let games: GameDataset
    public let split: GameSplit
    public var record: StudyRecord

    var figures: URL { folder.appendingPathComponent("figures") }
    var probeFolder: URL { folder.appendingPathComponent("probes") }
    var casesFile: URL { folder.appendingPathComponent("cases.jsonl") }
    var config: ModelConfig { model.config }
    /// The study's games file as the commands of the report name it.
    var gamesSource: String { plan.gamesFile ?? "\(dir)/games.npy" }
    /// The study folder as the user named it.
    public let dir: String

    public init(model: HookedTransformer, plan: StudyPlan, dir: String, batchSize: Int, record: StudyRecord) throws {
        let folder = URL(fileURLWithPath: dir)
        self.dir = dir
        self.model = model
        self.plan = plan
        self.folder = folder
        self.batchSize = batchSize
        self.record = record
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("figures"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("probes"), withIntermediateDirectories: true)
        if let file = plan.gamesFile {
            games = try GameDataset.read(from: URL(fileURLWithPath: file))
            guard games.count >= 10 else { throw WorkbenchError("\(file): the study needs at least 10 games (to train probes on some and hold out others); the file has \(games.count)") }
        } else {
            games = RandomGames.generate(count: plan.games, seed: plan.seed, fullLength: true)
            let url = folder.appendingPathComponent("games.npy")
            if !FileManager.default.fileExists(atPath: url.path) { try games.write(to: url) }
        }
        split = try GameSplit(count: games.count, testFraction: plan.testFraction, seed: plan.seed, source: plan.gamesFile ?? "\(dir)/games.npy")
    }

    var probeSettings: ProbeTrainingSettings {
        var settings = ProbeTrainingSettings()
        settings.epochs = plan.probeEpochs
        settings.seed = plan.seed
        return settings
    }

    /// The steps in order, each under the name report.json times it by (`StudyReport.steps`).
    public var steps: [(name: String, run: () throws -> Void)] {
        [("legal", legalMoves), ("probes", probes), ("edits", edits), ("effect", effect), ("examples", examples), ("circuit", circuit)]
    }

    func log(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

    // MARK: legal moves

    func legalMoves() throws {
        func score(_ dataset: GameDataset, _ source: String) throws -> LegalSection.Score {
            let bar = ProgressBar(total: dataset.count, label: "legal moves (\(source))")
            defer { bar.finish() }
            let score = try LegalMoveMetric.evaluate(model, on: dataset, batchSize: batchSize, source: source, progress: bar)
            return .init(source: source, games: dataset.count, positions: score.positions, legal: score.legal, share: score.share)
        }
        var section = LegalSection(synthetic: try score(games, gamesSource))
        if let wthor = plan.wthor {
            if let file = Self.locate(wthor) {
                section.wthor = try score(try GameDataset.read(from: URL(fileURLWithPath: file)), file)
            } else {
                section.wthorNote = "\(wthor) was not found (neither in the working folder nor in the repository the tool was built in), so the championship games were not scored"
            }
        }
        if PublishedModelCheck.applies(to: config) { section.publishedCheck = try PublishedModelCheck.run(model) }
        record.legal = section
        log(String(format: "legal top-1: %.2f%% of %d positions", 100 * section.synthetic.share, section.synthetic.positions))
    }

    /// A repository file such as Games/WTH_2025.wtb: relative to the working folder, else to the repository the
    /// tool was built in (the executable lives in its .build folder).
    static func locate(_ path: String) -> String? {
        if FileManager.default.fileExists(atPath: path) { return path }
        guard !path.hasPrefix("/"), var folder = Bundle.main.executableURL?.deletingLastPathComponent() else { return nil }
        for _ in 0..<4 {
            folder.deleteLastPathComponent()
            let candidate = folder.appendingPathComponent(path).path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return nil
    }

    // MARK: probes

    func probes() throws {
        if plan.probeFiles.isEmpty { try probeSweep() } else { try givenProbes() }
    }

    private func probeSweep() throws {
        let hooks = ProbeHook.residualStream(config: config)
        let sweep = try ProbeSweep.run(model: model, games: games, split: split, hooks: hooks, kinds: [.linear, .mlp], bases: [.colour, .relative],
                                       extraLinearBases: [.flipped], settings: probeSettings, controls: true, batchSize: batchSize, source: gamesSource)
        var rows: [ProbeSection.Row] = []
        for entry in sweep.entries {
            let name = ProbeFolder.fileName(hook: entry.hook.name, kind: entry.kind, basis: entry.basis)
            try ProbeFile.save(entry.probe, to: probeFolder.appendingPathComponent(name))
            let twoClass = entry.basis.classCount == 2
            rows.append(.init(hook: entry.hook.name, kind: entry.kind.rawValue, basis: entry.basis.rawValue, accuracy: entry.score.accuracy,
                              control: entry.control?.accuracy, perSquare: entry.score.perSquare, file: "probes/\(name)",
                              balancedAccuracy: twoClass ? entry.score.balancedAccuracy : nil, f1: twoClass ? entry.score.f1() : nil,
                              controlBalancedAccuracy: twoClass ? entry.control?.balancedAccuracy : nil))
        }
        let twoClassBaselines = sweep.baselines.filter { $0.key.classCount == 2 }
        let report = ProbeSweepReport(sweep: sweep, hooks: hooks, kinds: [.linear, .mlp], bases: [.colour, .relative], model: plan.model,
                                      source: gamesSource, settings: probeSettings, seconds: 0)
        try report.drawFigures(in: figures)
        let directions = report.directionSummary().map {
            ProbeSection.Directions(hook: $0.hook, meanAbsCosBetweenSquares: $0.meanAbsCrossSquare, meanCosMineTheirsEmpty: $0.meanMineEmpty)
        }
        record.probes = ProbeSection(trainGames: split.train.count, testGames: split.test.count, given: false, rows: rows,
                                     baselines: Dictionary(uniqueKeysWithValues: sweep.baselines.map { ($0.key.rawValue, $0.value.accuracy) }),
                                     baselineBalancedAccuracy: Dictionary(uniqueKeysWithValues: twoClassBaselines.map { ($0.key.rawValue, $0.value.balancedAccuracy) }),
                                     baselineF1: Dictionary(uniqueKeysWithValues: twoClassBaselines.map { ($0.key.rawValue, $0.value.f1()) }),
                                     directions: directions)
    }

    /// `--probe` files: scored on the held-out games; a three-mode colour probe (Nanda's) also as mine/theirs.
    private func givenProbes() throws {
        var probes: [Probe] = []
        for file in plan.probeFiles {
            var probe = try ProbeFile.load(from: URL(fileURLWithPath: file))
            guard !probe.hook.isEmpty else { throw WorkbenchError("\(file): the probe does not record its hook; re-save it with `othello-gpt probe convert --hook H`") }
            probe.metadata["source"] = file
            probes.append(probe)
            if probe.basis == .colour, probe.modes.contains(.blackToMove), let relative = try? ProbeFile.relative(fromColour: probe) { probes.append(relative) }
        }
        let hooks = try Array(Set(probes.map(\.hook))).sorted().map { try ProbeHook(name: $0, config: config) }
        for probe in probes { try probe.check(fits: try ProbeHook(name: probe.hook, config: config), config: config, source: probe.metadata["source"] ?? probe.hook) }
        let bar = ProgressBar(total: split.test.count, label: "activations (test)")
        let test = try ProbeData.collect(model: model, games: games, indices: split.test, hooks: hooks, batchSize: batchSize, source: gamesSource, progress: bar)
        bar.finish()
        // The trivial baseline is fitted on (up to 2,000 of) the training games, as in the sweep.
        let train = try ProbeData.collect(model: model, games: games, indices: Array(split.train.prefix(2000)), hooks: hooks, batchSize: batchSize, source: gamesSource)
        var rows: [ProbeSection.Row] = []
        var baselines: [String: Double] = [:]
        for probe in probes {
            let hook = try ProbeHook(name: probe.hook, config: config)
            let score = try ProbeEvaluator.evaluate(probe, on: test, hook: hook, positions: config.nCtx).headline
            let name = ProbeFolder.fileName(hook: probe.hook, kind: probe.kind, basis: probe.basis)
            try ProbeFile.save(probe, to: probeFolder.appendingPathComponent(name))
            let twoClass = probe.basis.classCount == 2
            rows.append(.init(hook: probe.hook, kind: probe.kind.rawValue, basis: probe.basis.rawValue, accuracy: score.accuracy, control: nil,
                              perSquare: score.perSquare, file: "probes/\(name)", balancedAccuracy: twoClass ? score.balancedAccuracy : nil,
                              f1: twoClass ? score.f1() : nil, controlBalancedAccuracy: nil))
            baselines[probe.basis.rawValue] = TrivialBaseline(basis: probe.basis, fittedOn: train, positions: config.nCtx).score(on: test).accuracy
        }
        record.probes = ProbeSection(trainGames: 0, testGames: split.test.count, given: true, rows: rows, baselines: baselines,
                                     baselineBalancedAccuracy: nil, baselineF1: nil, directions: nil)
    }

    /// The linear mine/theirs probes the edits use at every resid_pre, resid_mid and resid_post, from probes/;
    /// those missing (the resid_mids, or all but the given ones) are trained on the training games and saved there,
    /// so that `intervene sweep --probe-dir DIR/probes` edits with the same probes.
    func editProbes() throws -> [HookPoint: Probe] {
        let folder = ProbeFolder(probeFolder)
        var probes: [HookPoint: Probe] = [:]
        var missing: [HookPoint] = []
        for point in EditProbes.studyHooks(config: config) {
            if let probe = try folder.load(hook: point.name) { probes[point] = probe } else { missing.append(point) }
        }
        if !missing.isEmpty {
            let train = try GameDataset(games: split.train.prefix(3000).map { games[$0] }, source: "\(gamesSource) (training games)")
            let trained = try EditProbes.train(model: model, hooks: missing, games: train, settings: probeSettings)
            for (point, probe) in trained {
                try folder.save(probe, replacing: false)
                probes[point] = probe
            }
        }
        return probes
    }

    // MARK: edits

    func preparedCases() throws -> [PreparedCase] {
        let raw: [InterventionCase]
        if FileManager.default.fileExists(atPath: casesFile.path) {
            raw = try InterventionCases.read(from: casesFile)
        } else {
            raw = try InterventionCases.generate(from: games, count: plan.cases, seed: plan.seed, maxPositions: config.nCtx)
            try InterventionCases.write(raw, to: casesFile)
        }
        return try raw.enumerated().map { try PreparedCase($1, maxPositions: config.nCtx, source: "\(casesFile.path), case \($0)") }
    }

    var sweepOptions: InterventionSweep.Options {
        var options = InterventionSweep.Options()
        options.scales = plan.scales
        options.multiLayerScales = plan.multiScales
        options.liSteps = plan.gradientSteps
        options.learningRates = plan.learningRates ?? []
        options.includeGradient = !options.learningRates.isEmpty
        // --quick: single-hook gradient edits only (the multi-layer ones are in the full study).
        options.multiLayerGradient = !plan.quick
        return options
    }

    func edits() throws {
        let cases = try preparedCases()
        let study = try InterventionStudy(model: model, cases: cases, probes: try editProbes(), batchSize: batchSize)
        study.split = InterventionStudy.halves(count: cases.count, seed: plan.seed)
        let plans = InterventionSweep.plans(config: config, options: sweepOptions)
        let results = try InterventionSweep.run(study: study, plans: plans)
        let report = InterventionSweepReport(results: results, layers: config.nLayers, seconds: 0)
        try report.figure().write(to: figures.appendingPathComponent("intervene-sweep.png"))
        if let strength = try report.strengthFigure() { try PNG.write(strength, to: figures.appendingPathComponent("intervene-strength.png")) }
        record.edits = EditSection(cases: cases.count, nullError: results.first?.nullError ?? 0, nullExact: results.first?.nullExact ?? 0, results: results)
    }

    // MARK: what the edit changes

    /// The best single-hook direction edit at the last position, as a plan.
    func bestPlan() throws -> EditPlan {
        guard let best = record.edits?.bestSingleDirection, let scale = best.scale else { throw WorkbenchError("the study has no direction edits to follow up") }
        return EditPlan(method: .direction(scale: scale), hooks: try best.hooks.map { try HookPoint(name: $0) })
    }

    func effect() throws {
        let plan = try bestPlan()
        let cases = try preparedCases()
        let study = try InterventionStudy(model: model, cases: cases, probes: try editProbes(), batchSize: batchSize)
        let average = try study.effect(of: plan)
        try EditEffectFigures.draw(average, study: study, plan: plan, in: figures)
        // The example: the case the edit helps most (largest drop of its error), the first of equals.
        let before = try study.logits(plan: nil), after = try study.logits(plan: plan)
        let errors = cases.indices.map { (InterventionStudy.topNError(logits: before[$0], legal: cases[$0].legalAfter),
                                          InterventionStudy.topNError(logits: after[$0], legal: cases[$0].legalAfter)) }
        let index = cases.indices.max { (errors[$0].0 - errors[$0].1, -$0) < (errors[$1].0 - errors[$1].1, -$1) }!
        let chosen = cases[index]
        let one = try InterventionStudy(model: model, cases: [chosen], probes: study.probes, batchSize: batchSize)
        let exampleFolder = figures.appendingPathComponent("example-case")
        try FileManager.default.createDirectory(at: exampleFolder, withIntermediateDirectories: true)
        try EditEffectFigures.draw(try one.effect(of: plan), study: one, plan: plan, in: exampleFolder)
        let game = games.games.firstIndex { $0.starts(with: chosen.base.moves) }
        record.effect = EffectSection(plan: plan.label, hook: plan.hooks[0].name, scale: plan.method.scale ?? 0, average: average,
                                      example: .init(caseIndex: index, game: game, moves: chosen.base.moves.count,
                                                     square: SquareNotation.othelloGPT.label(chosen.square), error: errors[index].1, nullError: errors[index].0))
    }

    // MARK: worked examples

    func examples() throws {
        // The example case's prefix (a game the edits were tried on), or 30 moves of the first held-out game.
        let game = record.effect?.example?.game ?? split.test[0]
        let moves = Array(games[game].prefix(record.effect?.example?.moves ?? max(1, min(30, games[game].count - 1))))
        guard moves.count >= 2 else { throw WorkbenchError("\(gamesSource), game \(game): the worked examples need a prefix of at least 2 moves") }
        let plan = try bestPlan()
        var section = ExampleSection(game: game, moves: moves.count, patching: nil, saliencyTopMove: "", saliency: [], heads: [],
                                     attributionTarget: "", topNeurons: [], topHeads: [])
        // Patching: a move five before the last (or the latest earlier one with an alternative after which the prefix
        // stays legal), so that the figure shows the information travelling to the last position; then the same
        // corruption averaged over up to 20 held-out games (10 with --quick: its cost grows with the prefix's square).
        // Of the moves five or more before the last, the latest whose corruption moves the metric by a logit or more (a
        // smaller change normalises into noise), else the one that moves it most; the later moves only when none of
        // those has an alternative.
        let latest = ActivationPatching.defaultCorruptionIndex(count: moves.count)
        var chosen: (index: Int, corrupted: [Int], token: Int, change: Double)?
        for group in [Array((0...latest).reversed()), Array(((latest + 1)..<moves.count).reversed())] where chosen == nil {
            for index in group {
                guard let corrupted = ActivationPatching.corrupt(moves, at: index) else { continue }
                let metric = try ActivationPatching.defaultMetric(model: model, clean: moves, corrupted: corrupted)
                if chosen == nil || abs(metric.change) > abs(chosen!.change) { chosen = (index, corrupted, metric.token, metric.change) }
                if abs(metric.change) >= 1 { break }
            }
        }
        if let (index, corrupted, token, _) = chosen {
            let result = try ActivationPatching.run(model: model, clean: moves, corrupted: corrupted, kind: .residPre, token: token, batchSize: batchSize)
            try patchingFigure(result, clean: moves, corrupted: corrupted, at: index, hook: "resid_pre").write(to: figures.appendingPathComponent("patching.png"))
            let cells = result.normalised.enumerated().flatMap { r, row in row.enumerated().map { (r, $0.offset, $0.element) } }
            let best = cells.filter { $0.2.isFinite }.max { $0.2 < $1.2 } ?? (0, 0, 0)
            section.patching = .init(corruptedAt: index, corruptedWith: SquareNotation.othelloGPT.label(corrupted[index]),
                                     target: SquareNotation.othelloGPT.label(Vocabulary.squareUnchecked(forToken: token)),
                                     cleanLogit: result.clean, corruptedLogit: result.corrupted, bestLayer: result.rows[best.0], bestPosition: best.1,
                                     bestRestoration: best.2, atCorruptedMove: result.normalised.map { $0[index] },
                                     atLastPosition: result.normalised.map { $0[moves.count - 1] })
            let heldOut = try GameDataset(games: split.test.map { games[$0] }, source: "\(gamesSource) (held-out games)")
            let pairs = ActivationPatching.pairs(from: heldOut, count: self.plan.quick ? 10 : 20, moves: moves.count, corruptAt: index)
            if let average = try? ActivationPatching.average(model: model, pairs: pairs, kind: .residPre, batchSize: batchSize) {
                try averagePatchingFigure(average, at: index, hook: "resid_pre").write(to: figures.appendingPathComponent("patching-average.png"))
                section.patching?.average = .init(pairs: average.pairs, atCorruptedMove: average.normalised.map { $0[index] },
                                                  atLastPosition: average.normalised.map { $0[moves.count - 1] },
                                                  between: average.normalised.map { row in row[min(index + 1, moves.count - 1)..<(moves.count - 1)].max() ?? 0 })
            }
        }
        let probes = try editProbes()
        let saliency = try LatentSaliency.run(model: model, moves: moves, probes: probes, plan: plan, batchSize: batchSize)
        try saliencyFigure(saliency, moves: moves, plan: plan).write(to: figures.appendingPathComponent("saliency.png"))
        section.saliencyTopMove = SquareNotation.othelloGPT.label(saliency.topMove)
        section.saliency = saliency.drops

        // Attention: the two heads that carry most of the edit's effect (by |attribution of the change|).
        let heads: [(Int, Int)]
        if let effect = record.effect?.average {
            heads = effect.heads.enumerated().flatMap { l, row in row.enumerated().map { (l, $0.offset, abs($0.element)) } }
                .sorted { $0.2 > $1.2 }.prefix(2).map { ($0.0, $0.1) }
        } else {
            heads = [(0, 0)]
        }
        let players = try GameReplay(moves: moves).steps.map(\.player)
        for (layer, head) in heads {
            let pattern = try DirectLogitAttribution.pattern(model: model, moves: moves, layer: layer, head: head)
            try attentionFigure(pattern, moves: moves, layer: layer, head: head, title: "game \(game), \(moves.count) moves")
                .write(to: figures.appendingPathComponent("attention-L\(layer)H\(head).png"))
            let summary = PrefixAttention(pattern: pattern, players: players)
            section.heads.append(.init(layer: layer, head: head, previousMove: summary.previousMove, samePlayer: summary.samePlayer))
        }
        let attribution = try DirectLogitAttribution.run(model: model, moves: moves, neurons: 8)
        try drawAttributionFigures(attribution, moves: moves, config: config, in: figures)
        section.attributionTarget = SquareNotation.othelloGPT.label(Vocabulary.squareUnchecked(forToken: attribution.token))
        section.topNeurons = attribution.neurons.map { .init(layer: $0.layer, neuron: $0.neuron, attribution: $0.attribution) }
        section.topHeads = attribution.heads.enumerated().map { l, row in
            let best = row.enumerated().max { $0.element[attribution.token] < $1.element[attribution.token] }!
            return String(format: "L%dH%d %+.2f", l, best.offset, best.element[attribution.token])
        }
        record.examples = section
    }

    // MARK: a circuit

    /// "Is this square empty?" on up to 400 of the held-out games (all games when fewer than 4 are held out), probed
    /// after block 1 (or 0 in a 1-layer model).
    func circuit() throws {
        let indices = split.test.count >= 4 ? Array(split.test.prefix(400)) : Array(0..<min(games.count, 400))
        let chosen = try GameDataset(games: indices.map { games[$0] }, source: "\(gamesSource) (held-out games)")
        try chosen.write(to: folder.appendingPathComponent("circuit-games.npy"))
        let circuit = try EmptyCircuit.run(model: model, games: chosen, layer: min(1, config.nLayers - 1), seed: plan.seed, batchSize: batchSize)
        try CircuitReport.drawFigures(circuit, in: figures, prefix: "circuit-")
        record.circuit = circuit
    }
}

