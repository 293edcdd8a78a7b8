import Foundation
import Hummingbird
import HummingbirdTesting
import OthelloExplorer
import OthelloInterventions
import OthelloModel
import OthelloProbes
import OthelloRules
import OthelloServer
import WorkbenchSupport
import XCTest

/// Every endpoint of `othello-gpt serve` and its errors, through Hummingbird's test client, on a small random model
/// with random probes; `/api/edit` against `intervene eval`'s computation on the same one-case file.
final class ExplorerServerTests: XCTestCase {
    static let config = try! ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 32)
    static let model = HookedTransformer.random(config: config, seed: 5, std: 0.3)
    static let probes: [HookPoint: Probe] = {
        var random = SeededRandom(seed: 9)
        var out: [HookPoint: Probe] = [:]
        for l in 0..<2 {
            for kind in [HookPoint.Kind.residMid, .residPost] {
                let point = HookPoint(kind, layer: l)
                var probe = Probe(kind: .linear, basis: .relative, hook: point.name, modes: [.all], inputWidth: 16)
                for i in probe.parameters[0].indices { probe.parameters[0][i] = random.nextGaussian() }
                out[point] = probe
            }
        }
        return out
    }()
    static let explorer = try! Explorer(model: model, probes: probes)

    func withClient(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(router: try ExplorerServer.router(explorer: Self.explorer, atlas: "file:///atlas/index.html",
                                                                 games: RandomGames.generate(count: 3, seed: 6)))
        try await app.test(.router, body)
    }

    static func post(_ client: any TestClientProtocol, _ path: String, _ json: String) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await client.execute(uri: path, method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: json)) { response in
            let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any] ?? [:]
            return (response.status, object)
        }
    }

    func testModelRunAttentionAndAttribution() async throws {
        try await withClient { client in
            try await client.execute(uri: "/api/model", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                let model = object?["model"] as? [String: Any]
                XCTAssertEqual(model?["layers"] as? Int, 2)
                XCTAssertEqual((model?["probes"] as? [String])?.count, 4)
                XCTAssertEqual(object?["atlas"] as? String, "file:///atlas/index.html")
            }
            // Game 2 of the games file given at start; an index out of range is a 400.
            try await client.execute(uri: "/api/games/2", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                XCTAssertEqual(object?["moves"] as? [String], RandomGames.generate(count: 3, seed: 6)[2].map { SquareNotation.othelloGPT.label($0) })
            }
            try await client.execute(uri: "/api/games/3", method: .get) { response in XCTAssertEqual(response.status, .badRequest) }
            // C3 then D2 … as labels and as indices: the rules engine's board, the model's distribution, one reading per layer.
            let (status, run) = try await Self.post(client, "/api/run", #"{"moves": ["C3", 18]}"#)
            XCTAssertEqual(status, .ok, "\(run)")
            XCTAssertEqual(run["moves"] as? [String], ["C3", "C2"])
            let steps = try GameReplay(moves: [19, 18]).steps
            XCTAssertEqual(run["legal"] as? [Int], Bitboard.squares(steps.last!.legalMoves))
            let probabilities = run["probabilities"] as? [Double] ?? []
            XCTAssertEqual(probabilities.count, 64)
            // The model's own softmax at the last position, read at each move square's token.
            let logits = try Self.model.logits(tokens: Vocabulary.tokens(forMoves: [19, 18]), games: 1, positions: 2).values
            let softmax = Softmax.probabilities(logits[61..<122])
            for s in Vocabulary.squares { XCTAssertEqual(probabilities[s], Double(softmax[Vocabulary.tokenUnchecked(forSquare: s)]), accuracy: 1e-4) }
            XCTAssertEqual(probabilities[27], 0, "a centre square is never a move")
            XCTAssertEqual((run["layers"] as? [[String: Any]])?.count, 2)
            let (aStatus, attention) = try await Self.post(client, "/api/attention", #"{"moves": ["C3", "C2", "C1"], "layer": 1, "head": 0}"#)
            XCTAssertEqual(aStatus, .ok, "\(attention)")
            let pattern = attention["pattern"] as? [[Double]] ?? []
            XCTAssertEqual(pattern.count, 3)
            for row in pattern { XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-3) }
            let (dStatus, attribution) = try await Self.post(client, "/api/attribution", #"{"moves": ["C3", "C2"], "square": "B2"}"#)
            XCTAssertEqual(dStatus, .ok, "\(attribution)")
            XCTAssertEqual(attribution["square"] as? Int, 10, "B2: row B, column 2")
            XCTAssertEqual((attribution["heads"] as? [[Double]])?.count, 2)
        }
    }

    /// /api/edit gives the numbers `intervene eval` computes on a one-case file with the same probes.
    func testEditMatchesInterveneEvalOnAOneCaseFile() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("serve-edit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases = try InterventionCases.generate(from: RandomGames.generate(count: 20, seed: 4), count: 3, seed: 2, maxPositions: 59)
        try InterventionCases.write(cases, to: folder.appendingPathComponent("cases.jsonl"))
        for (i, c) in cases.enumerated() {
            let read = try InterventionCases.read(from: folder.appendingPathComponent("cases.jsonl"))[i]
            for (method, json) in [(EditMethod.direction(scale: 3), #""method": "direction", "scale": 3"#),
                                   (.gradient(GradientEdit.scaleFree), #""method": "gradient""#)] {
                let plan = EditPlan(method: method, hooks: [HookPoint(.residPost, layer: 0)], positions: .fromEdit)
                let study = try InterventionStudy(model: Self.model, cases: [try PreparedCase(read, maxPositions: 59, source: "case")], probes: Self.probes)
                let expected = try study.evaluate(plan)
                let body = #"{"moves": \#(c.moves), "square": \#(c.square), "hook": "blocks.0.hook_resid_post", "positions": "from-edit", \#(json)}"#
                try await withClient { client in
                    let (status, answer) = try await Self.post(client, "/api/edit", body)
                    XCTAssertEqual(status, .ok, "\(answer)")
                    XCTAssertEqual(answer["error"] as? Double, expected.error)
                    XCTAssertEqual(answer["null_error"] as? Double, expected.nullError)
                    XCTAssertEqual(answer["label"] as? String, expected.label)
                    XCTAssertEqual(answer["legal"] as? [Int], Bitboard.squares(try PreparedCase(read, maxPositions: 59, source: "case").legalAfter))
                }
            }
        }
    }

    func testBadInputIsA400WithAOneLineErrorAndUnknownPathsA404() async throws {
        try await withClient { client in
            let cases: [(String, String, String)] = [
                ("/api/run", #"{"moves": ["C3", "A0"]}"#, "A0"),
                ("/api/run", #"{"moves": ["Z9"]}"#, "not a square label"),
                ("/api/run", #"{"moves": "C3"}"#, "no \"moves\" list"),
                ("/api/run", "{not json", "not JSON"),
                ("/api/run", "[1, 2]", "must be a JSON object"),
                ("/api/run", "", "no body"),
                ("/api/edit", #"{"moves": ["C3"], "square": "D3", "hook": "blocks.9.hook_resid_post"}"#, "layers 0…1"),
                ("/api/edit", #"{"moves": ["C3"], "square": "D3", "hook": "blocks.0.attn.hook_z"}"#, "residual stream"),
                ("/api/edit", #"{"moves": ["C3"], "square": "D3", "scale": 1000}"#, "scale"),
                ("/api/edit", #"{"moves": ["C3"], "square": "D3", "method": "gradient", "steps": 100000}"#, "at most 1000 steps"),
                ("/api/edit", #"{"moves": ["C3"], "square": "A0"}"#, "empty after the prefix"),
                ("/api/edit", #"{"moves": ["C3"], "square": "D3", "colour": "red"}"#, "unknown field"),
                ("/api/attention", #"{"moves": ["C3"], "layer": 5, "head": 0}"#, "layers 0…1"),
                ("/api/attribution", #"{"moves": ["C3"], "square": "D3"}"#, "centre square"),
            ]
            for (path, body, expected) in cases {
                let (status, answer) = try await Self.post(client, path, body)
                XCTAssertEqual(status, .badRequest, "\(path) \(body)")
                let message = answer["error"] as? String ?? ""
                XCTAssertTrue(message.contains(expected), "\(path) \(body): \(message)")
                XCTAssertFalse(message.contains("\n"), "one line: \(message)")
            }
            // A body over 64 KB.
            let big = #"{"moves": ["C3"], "pad": ""# + String(repeating: "x", count: 70_000) + #""}"#
            let (status, answer) = try await Self.post(client, "/api/run", big)
            XCTAssertEqual(status, .badRequest)
            XCTAssertTrue((answer["error"] as? String ?? "").contains("65536"), "\(answer)")
            try await client.execute(uri: "/api/nothing", method: .get) { response in
                XCTAssertEqual(response.status, .notFound)
                let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                XCTAssertTrue((object?["error"] as? String ?? "").contains("/api/nothing"))
            }
            // The server goes on serving.
            let (okStatus, _) = try await Self.post(client, "/api/run", #"{"moves": ["C3"]}"#)
            XCTAssertEqual(okStatus, .ok)
        }
    }

    /// Concurrent edits share the model and probes read-only: each answer equals the same request run alone.
    func testConcurrentEditsGiveTheSerialAnswers() async throws {
        let cases = try InterventionCases.generate(from: RandomGames.generate(count: 20, seed: 8), count: 8, seed: 3, maxPositions: 59)
        let bodies = cases.enumerated().map { i, c in
            #"{"moves": \#(c.moves), "square": \#(c.square), "method": "\#(i % 2 == 0 ? "direction" : "gradient")", "hook": "blocks.1.hook_resid_mid"}"#
        }
        var serial: [String] = []
        try await withClient { client in
            for body in bodies {
                let (status, answer) = try await Self.post(client, "/api/edit", body)
                XCTAssertEqual(status, .ok, "\(answer)")
                serial.append("\(answer["error"]!) \(answer["null_error"]!) \(answer["after"]!)")
            }
        }
        let expected = serial
        try await withClient { client in
            try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for (i, body) in bodies.enumerated() {
                    group.addTask {
                        let (_, answer) = try await Self.post(client, "/api/edit", body)
                        return (i, "\(answer["error"] ?? "") \(answer["null_error"] ?? "") \(answer["after"] ?? "")")
                    }
                }
                for try await (i, answer) in group { XCTAssertEqual(answer, expected[i], "request \(i)") }
            }
        }
    }
}
