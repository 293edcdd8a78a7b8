import Foundation
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport

/// A circuit, end to end, for the sub-task "is this square empty?".
///
/// 1. A linear `empty` probe (occupied / empty) is trained at `blocks.L.hook_resid_post`; its raw direction per
///    square, d_s = W[:, s, empty] − W[:, s, occupied], turns the probe's logit difference into a sum over the
///    components that write the residual stream: the embeddings, every head's `hook_result` and every MLP's
///    output of layers 0…L (the probe reads the raw stream, so the sum is exact up to the bias).
/// 2. Attribution: each component's mean contribution to that difference, signed towards the right answer
///    (+ where the square is empty, − where it is occupied), over held-out positions and all 64 squares; the same
///    for every MLP neuron (its activation × W_out row · d_s).
/// 3. Direct logit attribution of each head to the move logits of occupied squares minus those of empty squares
///    (an occupied square is never a legal move: the model must push its logit down).
/// 4. Ablation: the probe's accuracy lost when each head of layers 0…L alone is mean-ablated (its total effect);
///    then when the top heads by that effect, the top heads by direct attribution, or the top neurons
///    (`mlp.hook_post`) are mean-ablated together, beside as many other heads/neurons chosen at random.
public struct EmptyCircuit: Codable, Sendable {
    public var hook: String
    public var probeAccuracy: Double
    public var trivialAccuracy: Double
    /// Signed attribution of the embeddings, per [layer][head], per MLP layer.
    public var embedding: Double
    public var heads: [[Double]]
    public var mlps: [Double]
    /// The top neurons: (layer, neuron, attribution).
    public var neurons: [Neuron]
    /// [layer][head]: mean direct logit attribution to occupied squares' move logits minus empty squares'.
    public var occupiedLogitAttribution: [[Double]]
    /// [layer][head] for layers 0…L: the probe's accuracy lost when that head alone is mean-ablated (its total
    /// effect, through the later components too — direct attribution sees only the direct path).
    public var headAblationEffect: [[Double]]
    public var ablations: [Ablation]

    public struct Neuron: Codable, Sendable { public var layer: Int, neuron: Int, attribution: Double }
    public struct Ablation: Codable, Sendable {
        public var what: String
        public var accuracy: Double
    }

    /// The probe's accuracy that survives an ablation, as a share of its margin over the trivial baseline.
    /// 0 when the probe has no margin over the baseline.
    public func surviving(_ accuracy: Double) -> Double {
        probeAccuracy - trivialAccuracy > 1e-9 ? (accuracy - trivialAccuracy) / (probeAccuracy - trivialAccuracy) : 0
    }

    public static func run(model: HookedTransformer, games: GameDataset, layer: Int, topHeads: Int = 3, topNeurons: Int = 20,
                           seed: UInt64 = 1, batchSize: Int = 64, progress: (String) -> Void = { _ in }) throws -> EmptyCircuit {
        let config = model.config
        let (T, d, H, M) = (config.nCtx, config.dModel, config.nHeads, config.dMLP)
        guard (0..<config.nLayers).contains(layer) else { throw WorkbenchError("--layer \(layer): the model has layers 0…\(config.nLayers - 1)") }
        guard games.count >= 4 else { throw WorkbenchError("the circuit needs at least 4 games (to train the probe and to score it)") }
        let split = try GameSplit(count: games.count, testFraction: 0.5, seed: seed)
        let hook = try ProbeHook(layer: layer, config: config)
        progress("training the empty probe at \(hook.name)")
        let trainData = try ProbeData.collect(model: model, games: games, indices: split.train, hooks: [hook], batchSize: batchSize)
        var settings = ProbeTrainingSettings()
        settings.seed = seed
        let probe = try ProbeTrainer.train(kind: .linear, basis: .empty, hook: hook, on: trainData, settings: settings)
        let testData = try ProbeData.collect(model: model, games: games, indices: split.test, hooks: [hook], batchSize: batchSize)
        let score = try ProbeEvaluator.evaluate(probe, on: testData, hook: hook, positions: T).headline
        let trivial = TrivialBaseline(basis: .empty, fittedOn: trainData, positions: T).score(on: testData).accuracy
        // Raw directions D [d, 64] and biases.
        let w = probe.tensor("W", mode: 0), b = probe.tensor("b", mode: 0)
        var D = [Float](repeating: 0, count: d * 64)
        for j in 0..<d { for s in 0..<64 { D[j * 64 + s] = w[(j * 64 + s) * 2 + 1] - w[(j * 64 + s) * 2] } }
        let bias = (0..<64).map { b[$0 * 2 + 1] - b[$0 * 2] }

        // Attribution over the held-out games, batch by batch.
        var points = [HookPoint(.embed), HookPoint(.posEmbed)] + LogitAttribution.cachedPoints
        for l in 0...layer { points += [HookPoint(.mlpOut, layer: l), HookPoint(.mlpPost, layer: l)] }
        points += (0..<config.nLayers).map { HookPoint(.result, layer: $0) }
        var embedding = 0.0
        var heads = [[Double]](repeating: [Double](repeating: 0, count: H), count: layer + 1)
        var mlps = [Double](repeating: 0, count: layer + 1)
        var neuronScore = [[Double]](repeating: [Double](repeating: 0, count: M), count: layer + 1)
        var occupiedDLA = [[Double]](repeating: [Double](repeating: 0, count: H), count: config.nLayers)
        var count = 0.0, dlaCount = 0.0
        // W_out · D per layer: [d_mlp, 64].
        let layout = model.parameters.layout, base = model.parameters.base
        var outD = [[Float]](repeating: [Float](repeating: 0, count: M * 64), count: layer + 1)
        for l in 0...layer {
            outD[l].withUnsafeMutableBufferPointer { o in
                D.withUnsafeBufferPointer { Dp in
                    Matmul.gemm(m: M, n: 64, k: d, a: base + layout.blocks[l].W_out, lda: d, b: Dp.baseAddress!, ldb: 64, c: o.baseAddress!, ldc: 64)
                }
            }
        }
        for start in stride(from: 0, to: split.test.count, by: batchSize) {
            let batch = Array(split.test[start..<min(start + batchSize, split.test.count)])
            let cache = try model.runWithCache(tokens: games.tokenBatch(batch, positions: T), games: batch.count, positions: T,
                                               points: points, options: .init(batchSize: batch.count))
            let dla = try LogitAttribution(model: model, cache: cache)
            let embed = try cache.values(HookPoint(.embed)), posEmbed = try cache.values(HookPoint(.posEmbed))
            let results = try (0..<config.nLayers).map { try cache.values(HookPoint(.result, layer: $0)) }
            let mlpOuts = try (0...layer).map { try cache.values(HookPoint(.mlpOut, layer: $0)) }
            let posts = try (0...layer).map { try cache.values(HookPoint(.mlpPost, layer: $0)) }
            for (row, g) in batch.enumerated() {
                let steps = try GameReplay(moves: games[g]).steps
                for t in 0..<min(T, steps.count) {
                    let empty = steps[t].board.empty
                    let sign = (0..<64).map { empty & (1 << UInt64($0)) != 0 ? 1.0 : -1.0 }
                    func signed(_ x: UnsafePointer<Float>) -> Double {
                        var total = 0.0
                        for s in 0..<64 {
                            var dot: Float = 0
                            for j in 0..<d { dot += x[j] * D[j * 64 + s] }
                            total += sign[s] * Double(dot)
                        }
                        return total / 64
                    }
                    let offset = (row * T + t) * d
                    embed.withUnsafeBufferPointer { e in
                        posEmbed.withUnsafeBufferPointer { p in
                            var sum = [Float](repeating: 0, count: d)
                            for j in 0..<d { sum[j] = e[offset + j] + p[offset + j] }
                            embedding += signed(sum)
                        }
                    }
                    for l in 0...layer {
                        results[l].withUnsafeBufferPointer { r in
                            for h in 0..<H { heads[l][h] += signed(r.baseAddress! + ((row * T + t) * H + h) * d) }
                        }
                        mlpOuts[l].withUnsafeBufferPointer { m in mlps[l] += signed(m.baseAddress! + offset) }
                        for n in 0..<M {
                            let a = Double(posts[l][(row * T + t) * M + n])
                            guard a != 0 else { continue }
                            var s2 = 0.0
                            for s in 0..<64 { s2 += sign[s] * Double(outD[l][n * 64 + s]) }
                            neuronScore[l][n] += a * s2 / 64
                        }
                    }
                    // DLA of each head to occupied minus empty squares' move logits.
                    guard steps[t].next != nil else { continue }
                    let occupied = (0..<64).filter { sign[$0] < 0 && !Vocabulary.centreSquares.contains($0) }.map(Vocabulary.tokenUnchecked(forSquare:))
                    let free = (0..<64).filter { sign[$0] > 0 }.map(Vocabulary.tokenUnchecked(forSquare:))
                    guard !occupied.isEmpty, !free.isEmpty else { continue }
                    let stack = try cache.stackHeadResults(game: row, position: t, config: config).stack
                    let attributions = dla.logitAttributions(stack, game: row, position: t, tokens: occupied + free)
                    for l in 0..<config.nLayers {
                        for h in 0..<H {
                            let attribution = attributions[l * H + h]
                            occupiedDLA[l][h] += attribution[..<occupied.count].reduce(0, +) / Double(occupied.count)
                                - attribution[occupied.count...].reduce(0, +) / Double(free.count)
                        }
                    }
                    dlaCount += 1
                }
            }
            count += Double(batch.reduce(0) { $0 + min(T, games.lengths[$1]) })
        }
        count = max(count, 1)
        embedding /= count
        for l in 0...layer {
            for h in 0..<H { heads[l][h] /= count }
            mlps[l] /= count
            for n in 0..<M { neuronScore[l][n] /= count }
        }
        for l in 0..<config.nLayers { for h in 0..<H { occupiedDLA[l][h] /= max(dlaCount, 1) } }
        let neurons = (0...layer).flatMap { l in (0..<M).map { Neuron(layer: l, neuron: $0, attribution: neuronScore[l][$0]) } }
            .sorted { $0.attribution > $1.attribution }

        // Ablations: mean-ablate the top heads / neurons, or as many others at random.
        progress("ablating")
        let headRanking = (0...layer).flatMap { l in (0..<H).map { (l, $0, heads[l][$0]) } }.sorted { $0.2 > $1.2 }
        let top = Array(headRanking.prefix(topHeads)).map { ($0.0, $0.1) }
        var random = SeededRandom(seed: seed, stream: 5)
        var others = Array(headRanking.dropFirst(topHeads)).map { ($0.0, $0.1) }
        for i in stride(from: others.count - 1, to: 0, by: -1) { others.swapAt(i, random.next(below: i + 1)) }
        let topN = Array(neurons.prefix(topNeurons)).map { ($0.layer, $0.neuron) }
        var otherNeurons = Array(neurons.dropFirst(topNeurons)).map { ($0.layer, $0.neuron) }
        for i in stride(from: otherNeurons.count - 1, to: 0, by: -1) { otherNeurons.swapAt(i, random.next(below: i + 1)) }
        let means = try Self.means(model: model, games: games, indices: split.train, layer: layer, batchSize: batchSize)
        func accuracy(heads ablatedHeads: [(Int, Int)], neurons ablatedNeurons: [(Int, Int)]) throws -> Double {
            var hooks: [Hook] = []
            let dHead = config.dHead
            for l in Set(ablatedHeads.map(\.0)) {
                let hs = ablatedHeads.filter { $0.0 == l }.map(\.1)
                hooks.append(Hook(HookPoint(.z, layer: l)) { act in
                    for g in 0..<act.shape[0] { for t in 0..<T {
                        let row = act.row(game: g, position: t)
                        for h in hs { for i in 0..<dHead { row[h * dHead + i] = means.z[l][(t * H + h) * dHead + i] } }
                    } }
                })
            }
            for l in Set(ablatedNeurons.map(\.0)) {
                let ns = ablatedNeurons.filter { $0.0 == l }.map(\.1)
                hooks.append(Hook(HookPoint(.mlpPost, layer: l)) { act in
                    for g in 0..<act.shape[0] { for t in 0..<T {
                        let row = act.row(game: g, position: t)
                        for n in ns { row[n] = means.post[l][t * M + n] }
                    } }
                })
            }
            var correct = 0, total = 0
            for start in stride(from: 0, to: split.test.count, by: batchSize) {
                let batch = Array(split.test[start..<min(start + batchSize, split.test.count)])
                let cache = try model.runWithCache(tokens: games.tokenBatch(batch, positions: T), games: batch.count, positions: T,
                                                   points: [HookPoint(.residPost, layer: layer)], hooks: hooks, options: .init(batchSize: batch.count, stopAtLayer: layer + 1, computeLogits: false))
                let x = try cache.values(HookPoint(.residPost, layer: layer))
                for (row, g) in batch.enumerated() {
                    let steps = try GameReplay(moves: games[g]).steps
                    for t in 0..<min(T, steps.count) {
                        let empty = steps[t].board.empty
                        for s in 0..<64 {
                            var logit = bias[s]
                            for j in 0..<d { logit += x[(row * T + t) * d + j] * D[j * 64 + s] }
                            if (logit > 0) == (empty & (1 << UInt64(s)) != 0) { correct += 1 }
                            total += 1
                        }
                    }
                }
            }
            return Double(correct) / Double(max(total, 1))
        }
        let label = { (hs: [(Int, Int)]) in hs.map { "L\($0.0)H\($0.1)" }.joined(separator: ", ") }
        let clean = try accuracy(heads: [], neurons: [])
        var headEffect = [[Double]](repeating: [Double](repeating: 0, count: H), count: layer + 1)
        for l in 0...layer { for h in 0..<H { headEffect[l][h] = clean - (try accuracy(heads: [(l, h)], neurons: [])) } }
        let byEffect = (0...layer).flatMap { l in (0..<H).map { (l, $0, headEffect[l][$0]) } }.sorted { $0.2 > $1.2 }
        let topByEffect = Array(byEffect.prefix(topHeads)).map { ($0.0, $0.1) }
        var ablations: [Ablation] = [Ablation(what: "none", accuracy: clean)]
        ablations.append(Ablation(what: "top \(topByEffect.count) heads by ablation effect (\(label(topByEffect)))", accuracy: try accuracy(heads: topByEffect, neurons: [])))
        ablations.append(Ablation(what: "top \(top.count) heads by direct attribution (\(label(top)))", accuracy: try accuracy(heads: top, neurons: [])))
        let randomHeads = Array(others.filter { h in !topByEffect.contains { $0 == h } }.prefix(top.count))
        ablations.append(Ablation(what: "\(randomHeads.count) other heads at random (\(label(randomHeads)))", accuracy: try accuracy(heads: randomHeads, neurons: [])))
        ablations.append(Ablation(what: "top \(topN.count) neurons", accuracy: try accuracy(heads: [], neurons: topN)))
        ablations.append(Ablation(what: "\(topN.count) other neurons at random", accuracy: try accuracy(heads: [], neurons: Array(otherNeurons.prefix(topN.count)))))
        ablations.append(Ablation(what: "top heads by effect and top neurons", accuracy: try accuracy(heads: topByEffect, neurons: topN)))
        return EmptyCircuit(hook: hook.name, probeAccuracy: score.accuracy, trivialAccuracy: trivial, embedding: embedding, heads: heads, mlps: mlps,
                            neurons: Array(neurons.prefix(topNeurons)), occupiedLogitAttribution: occupiedDLA, headAblationEffect: headEffect,
                            ablations: ablations)
    }

    /// Per layer 0…layer: the mean of `hook_z` [T, H, d_head] and of `mlp.hook_post` [T, d_mlp] over `indices`.
    static func means(model: HookedTransformer, games: GameDataset, indices: [Int], layer: Int, batchSize: Int) throws -> (z: [[Float]], post: [[Float]]) {
        let c = model.config, T = c.nCtx
        var z = [[Float]](repeating: [Float](repeating: 0, count: T * c.nHeads * c.dHead), count: layer + 1)
        var post = [[Float]](repeating: [Float](repeating: 0, count: T * c.dMLP), count: layer + 1)
        let means = (0...layer).flatMap { [HookPoint(.z, layer: $0), HookPoint(.mlpPost, layer: $0)] }
        for start in stride(from: 0, to: indices.count, by: batchSize) {
            let batch = Array(indices[start..<min(start + batchSize, indices.count)])
            let cache = try model.runWithCache(tokens: games.tokenBatch(batch, positions: T), games: batch.count, positions: T, points: means,
                                               options: .init(batchSize: batch.count, stopAtLayer: layer + 1, computeLogits: false))
            for l in 0...layer {
                let zs = try cache.values(HookPoint(.z, layer: l)), ps = try cache.values(HookPoint(.mlpPost, layer: l))
                for i in 0..<zs.count { z[l][i % z[l].count] += zs[i] / Float(indices.count) }
                for i in 0..<ps.count { post[l][i % post[l].count] += ps[i] / Float(indices.count) }
            }
        }
        return (z, post)
    }
}
