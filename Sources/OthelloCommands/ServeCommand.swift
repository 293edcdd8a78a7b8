import ArgumentParser
import Foundation
import OthelloExplorer
import OthelloInterventions
import OthelloModel
import OthelloProbes
import OthelloRules
import OthelloServer
import WorkbenchSupport

/// `othello-gpt serve`: the live explorer.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "The live explorer: play a game, read the probes layer by layer, flip a disc in the model and watch the predictions.",
        discussion: """
        Starts a web server (Hummingbird 2) and prints its address; open it in a browser. The page: a board to play \
        on (click a legal move; undo, redo, a random game, paste a move list in A0…H7 or a1…h8 notation, or load \
        game N of --games), the \
        model's next-move probabilities as a heatmap with the legal moves marked, every layer's probe board (P(mine) \
        − P(theirs), squares read wrongly outlined), edits (click a disc in "edit" mode or name a square: flip, \
        empty, mine or theirs; direction or gradient; a hook or a span of layers; the last position or from the \
        edited move) with the predictions before and after, the edited board's legal moves and Li et al.'s error \
        beside the null edit's — the numbers `intervene eval` gives on that case — and a head's attention and the \
        direct logit attribution by head. The URL holds the state, so a view can be bookmarked.

        The JSON API (curl examples in docs/commands.md): GET /api/model; POST /api/run {"moves": [...]}; POST \
        /api/edit {"moves", "square", "edit", "method", "hook" | "layers", "scale", "lr", "steps", "positions"}; POST \
        /api/attention {"moves", "layer", "head"}; POST /api/attribution {"moves", "square"}. Bad input is HTTP 400 \
        with {"error": "..."}; no request reads or writes a file.

        Probes: the linear relative probes of --probe-dir (a study's or an atlas's probes/), or else trained once on \
        fresh random games at every resid_mid and resid_post and kept in a cache folder for the next start \
        ($XDG_CACHE_HOME or ~/.cache, othello-gpt/probes-<model fingerprint>). Bound to 127.0.0.1; another --host \
        serves the network (a warning says so). Ctrl-C stops it.

        Examples:
          othello-gpt serve
          othello-gpt serve --probe-dir study/probes --atlas atlas --port 8080
        """
    )

    @OptionGroup var model: ModelOptions
    @Option(name: .customLong("probe-dir"), help: ArgumentHelp("Folder of linear relative probes (a study's or an atlas's probes/).", valueName: "dir")) var probeDir: String?
    @Option(name: .customLong("probe-games"), help: "Random games to train the probes on when no --probe-dir is given.") var probeGames: Int = 1000
    @Option(help: ArgumentHelp("An atlas (othello-gpt scope --out folder, or its URL) that the page links units to.", valueName: "dir-or-url")) var atlas: String?
    @Option(help: ArgumentHelp("A games file (.npy, .txt, .wtb, .pgn) whose games the page can load by number.", valueName: "file")) var games: String?
    @Option(help: "Address to bind (127.0.0.1: this machine only).") var host: String = "127.0.0.1"
    @Option(help: "Port (0: any free port).") var port: Int = 8080
    @Option(help: "The most Adam steps a gradient edit may ask for.") var maxSteps: Int = 1000

    func run() async throws {
        guard (0...65535).contains(port) else { throw WorkbenchError("--port \(port): give 0…65535") }
        guard probeGames >= 10 else { throw WorkbenchError("--probe-games must be at least 10") }
        let transformer = try model.load()
        let dataset = try games.map { try GameSource.file($0).load() }
        let probes = try Self.probes(model: transformer, folder: probeDir, games: probeGames)
        var limits = Explorer.Limits()
        limits.gradientSteps = maxSteps
        let explorer = try Explorer(model: transformer, probes: probes, limits: limits)
        if host != "127.0.0.1" && host != "localhost" && host != "::1" {
            FileHandle.standardError.write(Data("warning: serving on \(host): anyone who can reach this address can use the explorer (and its CPU)\n".utf8))
        }
        let atlasURL = atlas.map { $0.contains("://") ? $0 : URL(fileURLWithPath: $0).appendingPathComponent("index.html").absoluteString }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        try await ExplorerServer.serve(explorer: explorer, host: host, port: port, atlas: atlasURL, games: dataset) { bound in
            print("the live explorer: http://\(shownHost):\(bound)/   (Ctrl-C stops it)")
            fflush(stdout)
        }
    }

    /// The linear relative probes of every resid_mid and resid_post: from `folder`, or the cache, or trained now (and cached).
    static func probes(model: HookedTransformer, folder: String?, games: Int) throws -> [HookPoint: Probe] {
        let hooks = (0..<model.config.nLayers).flatMap { [HookPoint(.residMid, layer: $0), HookPoint(.residPost, layer: $0)] }
        func load(_ folder: ProbeFolder) throws -> [HookPoint: Probe] {
            var found: [HookPoint: Probe] = [:]
            for point in hooks { if let probe = try folder.load(hook: point.name) { found[point] = probe } }
            return found
        }
        if let folder {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw WorkbenchError("--probe-dir \(folder): no such folder (give a folder of probe files, e.g. a study's probes/)")
            }
            let found = try load(ProbeFolder(URL(fileURLWithPath: folder)))
            let missing = hooks.filter { $0.kind == .residPost && found[$0] == nil }
            guard missing.isEmpty else {
                throw WorkbenchError("--probe-dir \(folder) has no linear relative probe for \(missing.map(\.name).joined(separator: ", ")); give a study's or an atlas's probes/, or leave out --probe-dir to train them")
            }
            return found
        }
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: NSHomeDirectory()).appendingPathComponent(".cache")
        let cache = ProbeFolder(base.appendingPathComponent("othello-gpt/probes-\(fingerprint(model))-\(games)"))
        let cached = try load(cache)
        if hooks.allSatisfy({ cached[$0] != nil }) {
            FileHandle.standardError.write(Data("probes: \(cache.url.path)\n".utf8))
            return cached
        }
        FileHandle.standardError.write(Data("probes: training linear probes at \(hooks.count) hooks on \(games) fresh games (once; kept in \(cache.url.path))\n".utf8))
        let trained = try EditProbes.train(model: model, hooks: hooks, games: RandomGames.generate(count: games, seed: 1, fullLength: true))
        try FileManager.default.createDirectory(at: cache.url, withIntermediateDirectories: true)
        for probe in trained.values { try cache.save(probe) }
        return trained
    }

    /// A short fingerprint of the model's weights (FNV-1a over their bytes), naming its probe cache.
    static func fingerprint(_ model: HookedTransformer) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let bytes = UnsafeRawBufferPointer(start: model.parameters.base, count: model.parameters.layout.count * 4)
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(format: "%016llx", hash)
    }
}
