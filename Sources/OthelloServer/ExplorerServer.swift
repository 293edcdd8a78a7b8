import Foundation
import Hummingbird
import OthelloAtlas
import OthelloExplorer
import OthelloRules
import WorkbenchSupport

/// `othello-gpt serve`: the live explorer on Hummingbird 2. The page (explorer.html, explorer.js, explorer.css and
/// the atlas's boards.js) and a JSON API over `Explorer`:
///
/// | endpoint | body | answer |
/// |---|---|---|
/// | `GET /api/model` | — | shape, editable hooks, probes loaded, limits |
/// | `POST /api/run` | `{"moves": [...]}` | the position, P(next move), the probes' boards per layer |
/// | `POST /api/edit` | `{"moves", "square", "edit", "method", "hook" \| "layers", "scale", "lr", "steps", "positions"}` | before/after, the edited board's legal moves, `error`, `null_error` |
/// | `POST /api/attention` | `{"moves", "layer", "head"}` | the head's pattern |
/// | `POST /api/attribution` | `{"moves", "square"?}` | direct logit attribution by head, top neurons |
/// | `GET /api/games/N` | — | game N of the games file given at start (`serve --games`) |
///
/// Bad input is HTTP 400 with `{"error": "…"}`; unknown paths 404 with the same shape. No request reads or writes a file.
public enum ExplorerServer {
    /// The router of the explorer's page and API.
    public static func router(explorer: Explorer, atlas: String? = nil, games: GameDataset? = nil) throws -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: JSONErrors())   // first: routes added after it (and the 404) go through it
        let pages: [(String, String, Data)] = try [
            ("/", "text/html; charset=utf-8", ExplorerSite.text("explorer.html")),
            ("/explorer.js", "text/javascript; charset=utf-8", ExplorerSite.text("explorer.js")),
            ("/explorer.css", "text/css; charset=utf-8", ExplorerSite.text("explorer.css")),
            ("/boards.js", "text/javascript; charset=utf-8", AtlasSite.text("boards.js")),
        ]
        for (path, type, data) in pages {
            router.get(RouterPath(path)) { _, _ in Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: data))) }
        }
        let info = ServerInfo(model: explorer.info(), atlas: atlas, games: games?.count ?? 0)
        let infoData = try JSONOutput.lineEncoder.encode(info)
        router.get("/api/model") { _, _ in json(infoData) }
        router.get("/api/games/:index") { _, context in
            let text = context.parameters.get("index") ?? ""
            guard let games else { throw WorkbenchError("no games file was given at start (othello-gpt serve --games FILE)") }
            guard let index = Int(text), (0..<games.count).contains(index) else {
                throw WorkbenchError("game \(text): give an index 0…\(games.count - 1)")
            }
            return try json(JSONOutput.lineEncoder.encode(["moves": games[index].map { SquareNotation.othelloGPT.label($0) }]))
        }
        router.post("/api/run") { request, _ in
            let body = try await collect(request)
            return try json(JSONOutput.lineEncoder.encode(explorer.run(moves: ExplorerRequest.moves(from: body))))
        }
        router.post("/api/edit") { request, _ in
            let body = try await collect(request)
            return try json(JSONOutput.lineEncoder.encode(explorer.edit(ExplorerRequest.edit(from: body, config: explorer.model.config))))
        }
        router.post("/api/attention") { request, _ in
            let r = try ExplorerRequest.attention(from: try await collect(request))
            return try json(JSONOutput.lineEncoder.encode(explorer.attention(moves: r.moves, layer: r.layer, head: r.head)))
        }
        router.post("/api/attribution") { request, _ in
            let r = try ExplorerRequest.attribution(from: try await collect(request))
            return try json(JSONOutput.lineEncoder.encode(explorer.attribution(moves: r.moves, square: r.square)))
        }
        return router
    }

    /// Serves until SIGINT or SIGTERM; `running` gets the bound port (useful with port 0).
    public static func serve(explorer: Explorer, host: String, port: Int, atlas: String?, games: GameDataset? = nil,
                             running: @escaping @Sendable (Int) -> Void) async throws {
        let app = Application(
            router: try router(explorer: explorer, atlas: atlas, games: games),
            configuration: .init(address: .hostname(host, port: port), serverName: "othello-gpt"),
            onServerRunning: { channel in running(channel.localAddress?.port ?? port) }
        )
        try await app.runService()
    }

    struct ServerInfo: Codable {
        var model: Explorer.ModelInfo
        var atlas: String?
        /// Games of the file given at start (0: none).
        var games: Int
    }

    /// The request body, at most `ExplorerRequest.maximumBytes`.
    static func collect(_ request: Request) async throws -> Data {
        var request = request
        let buffer: ByteBuffer
        do { buffer = try await request.collectBody(upTo: ExplorerRequest.maximumBytes) } catch {
            throw WorkbenchError("the request body is over \(ExplorerRequest.maximumBytes) bytes")
        }
        return Data(buffer.readableBytesView)
    }

    static func json(_ data: Data, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Every error as `{"error": "…"}`: the workbench's errors (bad input) as 400, the router's (unknown paths, 404) with
    /// their status.
    struct JSONErrors: RouterMiddleware {
        typealias Context = BasicRequestContext
        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            do {
                return try await next(request, context)
            } catch let error as HTTPError {
                let message = error.status == .notFound ? "no such page or endpoint: \(request.method) \(request.uri.path)" : (error.body ?? "\(error.status)")
                return json(body(message), status: error.status)
            } catch {
                return json(body("\(error)"), status: .badRequest)
            }
        }

        func body(_ message: String) -> Data { (try? JSONOutput.lineEncoder.encode(["error": message])) ?? Data() }
    }
}

/// The explorer's page files (`Site/`), from the module's resources.
public enum ExplorerSite {
    public static func text(_ name: String) throws -> Data {
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        guard let url = Bundle.module.url(forResource: parts[0], withExtension: parts[1], subdirectory: "Site")
            ?? Bundle.module.url(forResource: parts[0], withExtension: parts[1]) else {
            throw WorkbenchError("the explorer's page file \(name) is missing from the tool's resources; rebuild the tool (make build)")
        }
        return try Data(contentsOf: url)
    }
}
