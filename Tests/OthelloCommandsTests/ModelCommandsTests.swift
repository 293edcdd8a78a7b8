import Foundation
@testable import OthelloCommands
import OthelloModel
import OthelloRules
import WorkbenchSupport
import XCTest

/// The model commands end to end on a small random model and a small games file.
final class ModelCommandsTests: CommandTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        let model = HookedTransformer.random(config: try ModelConfig(nLayers: 2, dModel: 32, nHeads: 4, dMLP: 64), seed: 4, std: 0.2)
        try model.save(to: folder.appendingPathComponent("model.safetensors"))
        // Three random games; the second cut after 20 moves (padded with token 0 for the model).
        var games = RandomGames.generate(count: 3, seed: 3).games
        games[1] = Array(games[1].prefix(20))
        try GameDataset(games: games).write(to: folder.appendingPathComponent("games.npy"))
    }

    func testCacheWritesOneArrayPerHookWithTransformerLensShapes() throws {
        let out = folder.appendingPathComponent("acts")
        var command = try OthelloGPTCommand.parseAsRoot([
            "cache", "--model", folder.appendingPathComponent("model.safetensors").path,
            "--games", folder.appendingPathComponent("games.npy").path,
            "--hooks", "blocks.*.hook_resid_post,blocks.1.attn.hook_pattern", "--out", out.path, "--batch-size", "2",
        ])
        try command.run()
        let resid = try NPYArray.read(from: out.appendingPathComponent("blocks.1.hook_resid_post.npy"))
        XCTAssertEqual(resid.shape, [3, 59, 32])
        XCTAssertEqual(try NPYArray.read(from: out.appendingPathComponent("blocks.1.attn.hook_pattern.npy")).shape, [3, 4, 59, 59])
        let logits = try NPYArray.read(from: out.appendingPathComponent("logits.npy"))
        XCTAssertEqual(logits.shape, [3, 59, 61])
        // The files hold the same values as a direct run.
        let model = try HookedTransformer.load(from: folder.appendingPathComponent("model.safetensors"))
        let input = try TokenizedGames(path: folder.appendingPathComponent("games.npy").path, positions: 59)
        let direct = try model.runWithCache(tokens: input.tokens, games: 3, positions: 59, names: ["blocks.1.hook_resid_post"])
        // (Batches of 2 here, of 3 there: sums may round differently.)
        let residDifference = zip(try resid.elements(of: Float.self), direct["blocks.1.hook_resid_post"]!.values).map { abs($0 - $1) }.max()!
        let logitsDifference = zip(try logits.elements(of: Float.self), direct.logits!.values).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(residDifference, 1e-5)
        XCTAssertLessThan(logitsDifference, 1e-5)
        // Nothing but the arrays is left in the folder.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted(),
                       ["blocks.0.hook_resid_post.npy", "blocks.1.attn.hook_pattern.npy", "blocks.1.hook_resid_post.npy", "logits.npy"])
    }

    func testTokensArePaddedAfterTheGame() throws {
        let input = try TokenizedGames(path: folder.appendingPathComponent("games.npy").path, positions: 59, only: 1)
        XCTAssertEqual(input.tokens.count, 59)
        XCTAssertEqual(input.tokens[..<20].map(Int.init), input.moves(0).map(Vocabulary.tokenUnchecked(forSquare:)))
        XCTAssertTrue(input.tokens[20...].allSatisfy { $0 == 0 })
    }

    func testEvalCountsLegalTopPredictions() throws {
        // A random model: its top-1 predictions are legal at some positions, not all; the count is checked by hand.
        let path = folder.appendingPathComponent("games.npy").path
        let model = try HookedTransformer.load(from: folder.appendingPathComponent("model.safetensors"))
        let input = try TokenizedGames(path: path, positions: 59)
        let logits = try model.logits(tokens: input.tokens, games: 3, positions: 59)
        var legal = 0, total = 0
        for game in 0..<3 {
            let replay = try GameReplay(moves: input.moves(game))
            for (position, step) in replay.steps.prefix(59).enumerated() where !step.legalSquares.isEmpty {
                let row = Array(logits.slice(game).slice(position).values)
                let best = row.indices.max { row[$0] < row[$1] }!
                total += 1
                if best != 0, step.legalSquares.contains(try Vocabulary.square(forToken: best)) { legal += 1 }
            }
        }
        XCTAssertGreaterThan(total, 20)
        let output = try captureStandardOutput {
            var command = try OthelloGPTCommand.parseAsRoot(["eval", "--model", folder.appendingPathComponent("model.safetensors").path,
                                                             "--games", path, "--json", "--batch-size", "2"])
            try command.run()
        }
        let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [String: Any]
        XCTAssertEqual(json["positions"] as? Int, total)
        XCTAssertEqual(json["legal"] as? Int, legal)
        XCTAssertEqual(json["games"] as? Int, 3)
    }

    func testBadInputIsAOneLineError() throws {
        let model = folder.appendingPathComponent("model.safetensors").path
        var command = try OthelloGPTCommand.parseAsRoot(["run", "--model", model, "--games", folder.appendingPathComponent("games.npy").path, "--game", "7"])
        XCTAssertThrowsError(try command.run()) { XCTAssertTrue("\($0)".contains("--game 7")) }
        command = try OthelloGPTCommand.parseAsRoot(["cache", "--model", model, "--games", folder.appendingPathComponent("games.npy").path,
                                                     "--hooks", "blocks.5.hook_resid_post", "--out", folder.path])
        XCTAssertThrowsError(try command.run()) { XCTAssertTrue("\($0)".contains("blocks.5.hook_resid_post")) }
        command = try OthelloGPTCommand.parseAsRoot(["run", "--model", folder.appendingPathComponent("missing.pth").path,
                                                     "--games", folder.appendingPathComponent("games.npy").path])
        XCTAssertThrowsError(try command.run()) { XCTAssertTrue("\($0)".contains("missing.pth")) }
    }
}

/// Runs `body` with standard output redirected to a pipe and returns what it printed.
func captureStandardOutput(_ body: () throws -> Void) throws -> String {
    fflush(stdout)
    let pipe = Pipe()
    let saved = dup(STDOUT_FILENO)
    dup2(pipe.fileHandleForWriting.fileDescriptor, STDOUT_FILENO)
    defer { fflush(stdout); dup2(saved, STDOUT_FILENO); close(saved) }
    try body()
    fflush(stdout)
    dup2(saved, STDOUT_FILENO)
    try pipe.fileHandleForWriting.close()
    return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
}
