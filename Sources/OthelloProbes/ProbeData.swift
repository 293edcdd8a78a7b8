import Foundation
import OthelloModel
import OthelloRules
import WorkbenchSupport

/// Where a probe reads the model: a per-position hook point (`blocks.5.hook_resid_post`, `blocks.3.hook_mlp_out`,
/// `blocks.2.mlp.hook_post`, `blocks.4.attn.hook_z` flattened over heads, …) or `embed`, the sum
/// `hook_embed + hook_pos_embed` (what block 0 reads).
///
///     let hook = try ProbeHook(name: "blocks.5.hook_resid_post", config: model.config)
///     let same = try ProbeHook(layer: 5, config: model.config)     // TransformerLens' cache["resid_post", 5]
public struct ProbeHook: Hashable, CustomStringConvertible {
    /// `embed` or the full TransformerLens hook name.
    public let name: String
    /// The hook point the activation comes from; nil for `embed`.
    public let point: HookPoint?

    public var description: String { name }

    /// The hook called `name` (`embed`, or a full hook name), checked against the model's layers and shapes.
    public init(name: String, config: ModelConfig) throws {
        if ["embed", "embeddings", "hook_embed+hook_pos_embed"].contains(name) {
            self.name = "embed"
            point = nil
            return
        }
        let point = try HookPoint(name: name)
        if let layer = point.layer, layer >= config.nLayers {
            throw WorkbenchError("hook \(name): the model has layers 0…\(config.nLayers - 1)")
        }
        let shape = point.shape(batch: 1, positions: 1, config: config)
        guard point.layer != nil || [.embed, .posEmbed].contains(point.kind) else {
            throw WorkbenchError("hook \(name): probes read the embeddings or a block's hooks; for the final residual stream use blocks.\(config.nLayers - 1).hook_resid_post")
        }
        guard ![.attnScores, .pattern, .result, .unembedOut].contains(point.kind), shape.count >= 3 else {
            throw WorkbenchError("hook \(name): probes read one vector per position; choose a residual-stream, attn_out, mlp_out, mlp.hook_post or attn.hook_z hook")
        }
        self.name = point.name
        self.point = point
    }

    /// `blocks.L.hook_resid_post` (TransformerLens numbering: layer 0 is the output of the first block).
    public init(layer: Int, config: ModelConfig) throws {
        guard layer >= 0 && layer < config.nLayers else {
            throw WorkbenchError("--layer \(layer): the model has layers 0…\(config.nLayers - 1) (blocks.L.hook_resid_post); use --hook embed for the embeddings")
        }
        try self.init(name: HookPoint(.residPost, layer: layer).name, config: config)
    }

    /// The embeddings and every block's `resid_post`: the rows of a probe sweep.
    public static func residualStream(config: ModelConfig) -> [ProbeHook] {
        [ProbeHook(embed: ())] + (0..<config.nLayers).map { try! ProbeHook(layer: $0, config: config) }
    }

    private init(embed: Void) {
        name = "embed"
        point = nil
    }

    /// The activation's width per position.
    public func width(config: ModelConfig) -> Int {
        point?.positionWidth(config: config) ?? config.dModel
    }

    /// The number of blocks a run must go through to reach this hook.
    var blocksNeeded: Int { point?.layer.map { $0 + 1 } ?? 0 }

    /// Short label for tables and figures: `embed`, `L5 resid_post`, `L3 mlp_out`.
    public var shortName: String {
        guard let point, let layer = point.layer else { return name }
        let suffix = point.name.split(separator: ".").last.map(String.init) ?? point.name
        return "L\(layer) " + (suffix.hasPrefix("hook_") ? String(suffix.dropFirst(5)) : suffix)
    }
}

/// Activations at one or more hooks for every probed position of some games, with the positions themselves
/// (the rules engine's boards), from which any basis's labels follow.
///
///     let data = try ProbeData.collect(model: model, games: dataset, indices: Array(0..<4000),
///                                      hooks: [hook], batchSize: 128)
///     let labels = data.labels(.relative)        // rows × 64 class indices
public struct ProbeData {
    /// One per row, in row order (games in the order given, positions increasing).
    public let positions: [ProbePosition]
    /// The activations of each hook, `positions.count × width`.
    public let activations: [ProbeHook: ActivationMatrix]

    public var rows: Int { positions.count }

    /// Data from activations computed elsewhere (`activations` rows line up with `positions`).
    public init(positions: [ProbePosition], activations: [ProbeHook: ActivationMatrix]) {
        self.positions = positions
        self.activations = activations
    }

    /// Runs `model` on the games `indices` of `games` in batches of `batchSize` (run-with-cache, stopping after
    /// the last block a hook needs) and keeps the activations at `hooks` for token positions in `positionRange`
    /// (all by default). A position counts while it is a move of the game and within the model's context.
    public static func collect(
        model: HookedTransformer, games: GameDataset, indices: [Int], hooks: [ProbeHook],
        positionRange: ClosedRange<Int>? = nil, batchSize: Int = 128, source: String = "games", progress: ProgressBar? = nil
    ) throws -> ProbeData {
        let config = model.config, T = config.nCtx
        guard !hooks.isEmpty else { throw WorkbenchError("probe data: no hook to read") }
        // Replay every game first: the rows, and the error for an illegal game before any model time is spent.
        var positions: [ProbePosition] = []
        var rowStart: [Int] = []
        for game in indices {
            rowStart.append(positions.count)
            var p = 0
            try GameReplay.replay(games[game], source: "\(source), game \(game)") { step in
                defer { p += 1 }
                guard p < T, positionRange?.contains(p) ?? true else { return }
                positions.append(ProbePosition(game: game, position: p, step: step))
            }
        }
        rowStart.append(positions.count)
        var activations: [ProbeHook: ActivationMatrix] = [:]
        for hook in hooks { activations[hook] = try ActivationMatrix(rows: positions.count, width: hook.width(config: config)) }

        var points = Set<HookPoint>()
        for hook in hooks {
            if let point = hook.point { points.insert(point) } else { points.formUnion([HookPoint(.embed), HookPoint(.posEmbed)]) }
        }
        let filter = HookFilter { points.contains($0) }
        let stop = hooks.map(\.blocksNeeded).max()!
        let batch = max(1, min(batchSize, indices.count))
        let arena = ActivationArena(config: config, maxBatch: batch, maxPositions: T, mode: .inference)
        var tokens = [Int32](repeating: 0, count: batch * T)
        for start in stride(from: 0, to: indices.count, by: batch) {
            let chunk = Array(indices[start..<min(start + batch, indices.count)])
            games.writeTokenBatch(chunk, positions: T, into: &tokens)
            let cache = try model.runWithCache(
                tokens: Array(tokens[0..<(chunk.count * T)]), games: chunk.count, positions: T, filter: filter,
                options: .init(batchSize: chunk.count, stopAtLayer: stop, computeLogits: false, arena: arena))
            for hook in hooks {
                let matrix = activations[hook]!, width = matrix.width
                let sources = hook.point.map { [cache[$0]!] } ?? [cache[HookPoint(.embed)]!, cache[HookPoint(.posEmbed)]!]
                for (offset, _) in chunk.enumerated() {
                    let first = rowStart[start + offset], last = rowStart[start + offset + 1]
                    for row in first..<last {
                        let p = positions[row].position
                        let out = matrix.row(row)
                        let from = (offset * T + p) * width
                        sources[0].values.withUnsafeBufferPointer { out.update(from: $0.baseAddress! + from, count: width) }
                        for extra in sources.dropFirst() {
                            extra.values.withUnsafeBufferPointer { values in
                                for i in 0..<width { out[i] += values[from + i] }
                            }
                        }
                    }
                }
            }
            progress?.advance(by: chunk.count)
        }
        return ProbeData(positions: positions, activations: activations)
    }

    /// The class of every square at every row in `basis`: `rows × 64` values in `0..<basis.classCount`.
    public func labels(_ basis: ProbeBasis) -> [UInt8] {
        var labels = [UInt8](repeating: 0, count: rows * 64)
        labels.withUnsafeMutableBufferPointer { buffer in
            for (row, position) in positions.enumerated() { basis.labels(of: position, into: buffer.baseAddress! + row * 64) }
        }
        return labels
    }

    /// The rows whose position belongs to `mode`.
    public func rows(in mode: ProbeMode) -> [Int] {
        positions.indices.filter { mode.contains(positions[$0]) }
    }
}

/// Which positions a probe is trained and scored on. Nanda's published probe has three modes in one file:
/// positions where black moves next, where white moves next, and all positions.
public enum ProbeMode: String, CaseIterable, Codable, Sendable {
    case blackToMove = "black_to_move"
    case whiteToMove = "white_to_move"
    case all

    /// Nanda's order of the three modes in `main_linear_probe.pth`.
    public static let nanda: [ProbeMode] = [.blackToMove, .whiteToMove, .all]

    public func contains(_ position: ProbePosition) -> Bool {
        switch self {
        case .all: return true
        case .blackToMove: return position.next == .black
        case .whiteToMove: return position.next == .white
        }
    }

    /// The mode matching a position among `modes`: the side-to-move mode when there is one, else `all`.
    public static func matched(_ position: ProbePosition, among modes: [ProbeMode]) -> Int? {
        let own: ProbeMode? = position.next == .black ? .blackToMove : position.next == .white ? .whiteToMove : nil
        if let own, let index = modes.firstIndex(of: own) { return index }
        return modes.firstIndex(of: .all)
    }
}
