import Foundation
@testable import OthelloAtlas
import OthelloCircuits
import OthelloModel
import OthelloProbes
import OthelloRules
import OthelloSAEs
import BrowserTesting
import WorkbenchSupport
import XCTest

/// The atlas of a small random model, written once and opened in headless Chromium: the pages render with no
/// error, the boards show what the workbench computed (labels, values, colours, the rules engine's positions), and
/// search and deep links reach the right unit. With ATLAS_SCREENSHOTS=DIR the test saves the README's screenshots.
final class AtlasBrowserTests: XCTestCase {
    static let config = try! ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 32)
    static let model = HookedTransformer.random(config: config, seed: 11, std: 0.3)
    static let folder = FileManager.default.temporaryDirectory.appendingPathComponent("atlas-browser-\(ProcessInfo.processInfo.processIdentifier)")
    static var built: Error?
    static var isBuilt = false

    /// Builds the atlas once for every test of the class.
    static func buildAtlas() throws {
        if isBuilt { if let built { throw built }; return }
        isBuilt = true
        do {
            var plan = AtlasPlan(model: "random d16", games: "40 random games (seed 2)", seed: 2)
            plan.ruleTrainRows = 600
            plan.ruleTestRows = 300
            plan.probeGames = 40
            plan.probeTestGames = 20
            plan.topCount = 6
            _ = try Atlas.prepare(folder: folder, plan: plan, resume: false, fresh: true)
            var atlas = Atlas(folder: folder, plan: plan, model: model, games: RandomGames.generate(count: 40, seed: 2))
            atlas.log = { _ in }
            let sae = SparseAutoencoder(dIn: 16, dSAE: 24, kind: .topK(4), hook: "blocks.1.hook_resid_post", seed: 3)
            try atlas.build(saes: [("random.safetensors", sae)], findings: [.init(question: "Is it a test?", answer: "Yes.")], explorer: "http://127.0.0.1:8080/")
        } catch {
            built = error
            throw error
        }
    }

    var browser: WebDriver!

    override func setUpWithError() throws {
        try Self.buildAtlas()
        browser = try WebDriver()
    }

    override func tearDown() { browser = nil }

    func open(_ fragment: String) throws {
        try browser.open(URL(string: Self.folder.appendingPathComponent("index.html").absoluteString + fragment)!)
    }

    /// Cells of the board in card `n` of the page (selector), as [square: (value, title, class, background, state)].
    func cells(_ selector: String) throws -> [[String: Any]] {
        try browser.execute("""
            const board = document.querySelector(arguments[0]);
            if (!board) return null;
            return [...board.querySelectorAll('[data-square]')].map(c => ({square: +c.dataset.square, value: c.dataset.value === undefined ? null : +c.dataset.value,
              title: c.title, na: c.classList.contains('na'), background: getComputedStyle(c).backgroundColor, state: c.dataset.state || null}));
            """, [selector]) as? [[String: Any]] ?? []
    }

    func saveScreenshot(_ name: String) throws {
        guard let dir = ProcessInfo.processInfo.environment["ATLAS_SCREENSHOTS"] else { return }
        try browser.screenshot().write(to: URL(fileURLWithPath: dir).appendingPathComponent(name))
    }

    func testIndexOpensFromFileWithoutErrorsAndSearchFindsANeuron() throws {
        try open("")
        try browser.wait(for: "document.querySelector('#page').dataset.route === 'index' && document.querySelectorAll('table.units tbody tr').length > 0")
        XCTAssertEqual(try browser.execute("return window.atlasErrors;") as? [String], [])
        XCTAssertEqual(try browser.consoleErrors(), [])
        XCTAssertEqual(try browser.execute("return document.querySelectorAll('table.units')[0].querySelectorAll('tbody tr').length;") as? Int, 32, "layer 0's 32 neurons")
        XCTAssertEqual(try browser.execute("return document.body.textContent.includes('Is it a test?');") as? Bool, true, "the study's findings")
        // A filter: only rows that pass it.
        try browser.type("frequency > 2", into: ".table input")
        try browser.wait(for: "document.querySelectorAll('table.units')[0].querySelectorAll('tbody tr').length === 0")
        try saveScreenshot("small-atlas-index.png")
        // Search: type a unit id, press Go.
        try browser.type("L1N3", into: "#search-box")
        try browser.click("#search button")
        try browser.wait(for: "document.querySelector('#page').dataset.route === 'neuron' && document.querySelector('h1').textContent.includes('L1N3')")
        XCTAssertEqual(try browser.execute("return window.atlasErrors;") as? [String], [])
    }

    func testNeuronPageBoardsShowTheWorkbenchNumbersAtTheRightSquares() throws {
        try open("#/neuron/L1N3")
        try browser.wait(for: "document.querySelector('#page').dataset.route === 'neuron' && document.querySelectorAll('.board').length > 10")
        XCTAssertEqual(try browser.execute("return window.atlasErrors;") as? [String], [])
        // Every board has 64 squares.
        let counts = try browser.execute("return [...document.querySelectorAll('.board')].map(b => b.querySelectorAll('[data-square]').length);") as? [Int] ?? []
        XCTAssertFalse(counts.isEmpty)
        XCTAssertTrue(counts.allSatisfy { $0 == 64 }, "\(counts)")
        // The direct logit effect: the 60 move squares carry W_out · W_U of their own token, the 4 centre squares none.
        let weights = try NeuronWeights.compute(model: Self.model)
        let expected = Array(weights.logitEffect[1][(3 * 64)..<(4 * 64)])
        let scale = expected.map(abs).max()!
        let logit = try cells(".board.large")
        XCTAssertEqual(logit.count, 64)
        for cell in logit {
            let s = cell["square"] as! Int
            let title = cell["title"] as! String
            XCTAssertTrue(title.hasPrefix("\(SquareNotation.othelloGPT.label(s)) (\(SquareNotation.standard.label(s))):"), title)
            if [27, 28, 35, 36].contains(s) {
                XCTAssertEqual(cell["na"] as? Bool, true, "centre square \(s) is never a move")
                continue
            }
            XCTAssertEqual(cell["na"] as? Bool, false, "square \(s) (\(SquareNotation.othelloGPT.label(s))) is a move")
            let value = Float(cell["value"] as! Double)
            XCTAssertEqual(value, expected[s], accuracy: scale / 120, "square \(s)")
            // The colour rule: white at 0, red toward +max, blue toward −max.
            let t = max(-1, min(1, Double(value) / Double(scale)))
            let fade = Int((255 * (1 - abs(t))).rounded())
            XCTAssertEqual(cell["background"] as? String, t >= 0 ? "rgb(255, \(fade), \(fade))" : "rgb(\(fade), \(fade), 255)", "square \(s)")
        }
        // The top-activation boards are the rules engine's positions.
        let examples = try browser.execute("""
            return [...document.querySelectorAll('.example')].map(e => ({game: +e.dataset.game, position: +e.dataset.position,
              states: [...e.querySelectorAll('[data-square]')].map(c => c.dataset.state).join('')}));
            """) as? [[String: Any]] ?? []
        XCTAssertEqual(examples.count, 6)
        let games = RandomGames.generate(count: 40, seed: 2)
        for example in examples {
            let (g, p) = (example["game"] as! Int, example["position"] as! Int)
            let board = try GameReplay(moves: games[g]).steps[p].board
            let expectedStates = String((0..<64).map { board[$0] == .black ? "x" : board[$0] == .white ? "o" : "." })
            XCTAssertEqual(example["states"] as? String, expectedStates, "game \(g), position \(p)")
        }
        try saveScreenshot("small-atlas-neuron.png")
    }

    func testHeadFeatureAndProbePagesRenderTheirBoards() throws {
        try open("#/head/L1H0")
        try browser.wait(for: "document.querySelector('#page').dataset.route === 'head' && document.querySelectorAll('.board').length >= 1")
        XCTAssertEqual(try browser.execute("return document.querySelector('h1').textContent;") as? String, "Head L1H0 blocks.1.attn, head 0")
        XCTAssertEqual(try browser.execute("return [...document.querySelectorAll('.board')].every(b => b.querySelectorAll('[data-square]').length === 64);") as? Bool, true)
        try open("#/sae/F3")
        try browser.wait(for: "document.querySelector('#page').dataset.route === 'feature' && document.querySelectorAll('.board').length >= 1")
        XCTAssertEqual(try browser.execute("return document.querySelector('h1').textContent.startsWith('Feature F3');") as? Bool, true)
        XCTAssertEqual(try cells(".board.large").count, 64, "the feature's logit board")
        try saveScreenshot("small-atlas-feature.png")
        try open("#/probes")
        try browser.wait(for: "document.querySelector('#page').dataset.route === 'probes' && document.querySelectorAll('.board').length === 2")
        XCTAssertEqual(try browser.execute("return window.atlasErrors;") as? [String], [])
        // A deep link to a unit that does not exist says so.
        try open("#/neuron/L7N0")
        try browser.wait(for: "document.querySelector('#page .error')")
        XCTAssertEqual(try browser.execute("return document.querySelector('#page .error').textContent.includes('layers 0–1');") as? Bool, true)
    }

    /// The README's screenshots and the load times of a real atlas (ATLAS_SCREENSHOTS=DIR ATLAS_SOURCE=atlas-folder,
    /// e.g. the shipped model's `othello-gpt scope` output): each page opened fresh from file://.
    func testScreenshotsAndLoadTimesOfARealAtlas() throws {
        guard let source = ProcessInfo.processInfo.environment["ATLAS_SOURCE"], ProcessInfo.processInfo.environment["ATLAS_SCREENSHOTS"] != nil else {
            throw XCTSkip("set ATLAS_SOURCE=folder and ATLAS_SCREENSHOTS=dir to take the README's screenshots")
        }
        let index = URL(fileURLWithPath: source).appendingPathComponent("index.html")
        let environment = ProcessInfo.processInfo.environment
        let neuron = environment["ATLAS_NEURON"] ?? "L5N724", feature = environment["ATLAS_FEATURE"] ?? "F955"
        for (fragment, route, name) in [("", "index", "atlas-index.png"), ("#/neuron/\(neuron)", "neuron", "atlas-neuron.png"), ("#/sae/\(feature)", "feature", "atlas-feature.png"),
                                        ("#/head/L1H3", "head", nil), ("#/probes", "probes", nil)] {
            try browser.open(URL(string: "about:blank")!)
            try browser.open(URL(string: index.absoluteString + fragment)!)
            try browser.wait(for: "document.querySelector('#page').dataset.route === '\(route)' && window.atlasRendered", seconds: 30)
            let ms = try browser.execute("return window.atlasRendered;") as? Double ?? -1
            print("atlas page \(fragment.isEmpty ? "index" : fragment): rendered \(Int(ms)) ms after the page began to load")
            XCTAssertEqual(try browser.execute("return window.atlasErrors;") as? [String], [])
            if let name { try saveScreenshot(name) }
        }
    }
}
