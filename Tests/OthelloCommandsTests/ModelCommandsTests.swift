import Foundation
@testable import OthelloCommands
import OthelloModel
import WorkbenchSupport
import XCTest

/// The model commands end to end on a small random model and a small games file.
final class ModelCommandsTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("model-commands-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let model = HookedTransformer.random(config: try ModelConfig(nLayers: 2, dModel: 32, nHeads: 4, dMLP: 64), seed: 4, std: 0.2)
        try model.save(to: folder.appendingPathComponent("model.safetensors"))
        // Three "games" of playable squares (the model does not check legality), the second one short.
        let playable = (0..<64).filter { ![27, 28, 35, 36].contains($0) }
        var squares = [Int8](repeating: -1, count: 3 * 60)
        for game in 0..<3 {
            for move in 0..<(game == 1 ? 20 : 60) { squares[game * 60 + move] = Int8(playable[(move * 7 + game) % 60]) }
        }
        try NPYArray(shape: [3, 60], values: squares).write(to: folder.appendingPathComponent("games.npy"))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
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
        XCTAssertEqual(try resid.elements(of: Float.self), direct["blocks.1.hook_resid_post"]!.values)
        XCTAssertEqual(try logits.elements(of: Float.self), direct.logits!.values)
        // Nothing but the arrays is left in the folder.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted(),
                       ["blocks.0.hook_resid_post.npy", "blocks.1.attn.hook_pattern.npy", "blocks.1.hook_resid_post.npy", "logits.npy"])
    }

    func testTokensFollowTheOthelloGPTVocabulary() throws {
        let input = try TokenizedGames(path: folder.appendingPathComponent("games.npy").path, positions: 59, only: 1)
        XCTAssertEqual(input.tokens.count, 59)
        XCTAssertEqual(input.tokens[20...].allSatisfy { $0 == 0 }, true, "padded after the 20 moves")
        XCTAssertEqual(OthelloSquares.token(0), 1)
        XCTAssertEqual(OthelloSquares.token(26), 27)
        XCTAssertEqual(OthelloSquares.token(29), 28)
        XCTAssertEqual(OthelloSquares.token(37), 34)
        XCTAssertEqual(OthelloSquares.token(63), 60)
        XCTAssertNil(OthelloSquares.token(27))
        for token in 1...60 { XCTAssertEqual(OthelloSquares.token(OthelloSquares.square(token: token)!), token) }
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
