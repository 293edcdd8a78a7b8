import Foundation
@testable import OthelloAtlas
import OthelloModel
import OthelloProbes
import OthelloRules
import OthelloSAEs
import WorkbenchSupport
import XCTest

/// Bad input to the atlas: a one-line error naming the problem, and nothing half-written.
final class AtlasInputTests: XCTestCase {
    let config = try! ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 32)
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("atlas-input-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func plan() -> AtlasPlan {
        var plan = AtlasPlan(model: "random", games: "games", seed: 1)
        plan.ruleTrainRows = 200; plan.ruleTestRows = 100; plan.probeGames = 12; plan.probeTestGames = 6; plan.topCount = 3
        return plan
    }

    func assertError(_ body: () throws -> Void, contains text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(text), "\(error)", file: file, line: line)
        }
    }

    func testAFolderThatHoldsSomethingElseIsRefusedUnlessFresh() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        assertError({ _ = try Atlas.prepare(folder: folder, plan: plan(), resume: false, fresh: false) }, contains: "holds no atlas")
        assertError({ _ = try Atlas.prepare(folder: folder, plan: plan(), resume: true, fresh: false) }, contains: "holds no atlas")
        XCTAssertFalse(try Atlas.prepare(folder: folder, plan: plan(), resume: false, fresh: true))
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("notes.txt").path), "--fresh removes only the atlas's own files")
    }

    func testAnAtlasIsResumedOnlyWithItsOwnPlanAndNeverOverwrittenSilently() throws {
        let model = HookedTransformer.random(config: config, seed: 1, std: 0.3)
        _ = try Atlas.prepare(folder: folder, plan: plan(), resume: false, fresh: false)
        var atlas = Atlas(folder: folder, plan: plan(), model: model, games: RandomGames.generate(count: 12, seed: 1))
        atlas.log = { _ in }
        try atlas.build()
        assertError({ _ = try Atlas.prepare(folder: folder, plan: plan(), resume: false, fresh: false) }, contains: "give --resume to finish it or --fresh")
        var other = plan()
        other.seed = 2
        assertError({ _ = try Atlas.prepare(folder: folder, plan: other, resume: true, fresh: false) }, contains: "other settings")
        XCTAssertTrue(try Atlas.prepare(folder: folder, plan: plan(), resume: true, fresh: false))
        // A resumed build skips every finished step and writes the same index.
        let index = try Data(contentsOf: folder.appendingPathComponent("data/index.js"))
        var logged: [String] = []
        atlas.log = { logged.append($0) }
        try atlas.build()
        XCTAssertTrue(logged.contains("neurons: done already"), "\(logged)")
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("data/index.js")), index)
    }

    func testTooFewGamesAnSAEOfAnotherModelAndProbesOfAnotherWidthAreRefused() throws {
        let model = HookedTransformer.random(config: config, seed: 1, std: 0.3)
        _ = try Atlas.prepare(folder: folder, plan: plan(), resume: false, fresh: false)
        let few = Atlas(folder: folder, plan: plan(), model: model, games: RandomGames.generate(count: 5, seed: 1))
        assertError({ try few.build() }, contains: "at least 8 games")
        let atlas = Atlas(folder: folder, plan: plan(), model: model, games: RandomGames.generate(count: 12, seed: 1))
        let wide = SparseAutoencoder(dIn: 32, dSAE: 8, kind: .topK(2), hook: "blocks.1.hook_resid_post", seed: 1)
        assertError({ try atlas.build(saes: [("wide.safetensors", wide)]) }, contains: "wide.safetensors")
        let deep = SparseAutoencoder(dIn: 16, dSAE: 8, kind: .topK(2), hook: "blocks.5.hook_resid_post", seed: 1)
        assertError({ try atlas.build(saes: [("deep.safetensors", deep)]) }, contains: "layers 0…1")
        let probes = ProbeFolder(folder.appendingPathComponent("other-probes"))
        try FileManager.default.createDirectory(at: probes.url, withIntermediateDirectories: true)
        try probes.save(Probe(kind: .linear, basis: .relative, hook: "blocks.0.hook_resid_mid", modes: [.all], inputWidth: 24))
        assertError({ try atlas.build(probeFolder: probes) }, contains: "a probe folder of another model?")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("index.html").path), "nothing half-written")
    }
}
