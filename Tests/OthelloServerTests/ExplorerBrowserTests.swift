import BrowserTesting
import Foundation
import OthelloExplorer
import OthelloInterventions
import OthelloModel
import OthelloRules
import OthelloServer
import XCTest

/// The explorer's page in headless Chromium against a live server on loopback: play three moves by clicking,
/// flip a disc, and see the after-edit heatmap change and the legal-move marks follow the edited board.
/// With ATLAS_SCREENSHOTS=DIR it saves the README's screenshot (explorer.png).
final class ExplorerBrowserTests: XCTestCase {
    final class Port: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Int?
        func set(_ port: Int) { lock.lock(); value = port; lock.unlock() }
        func get() -> Int? { lock.lock(); defer { lock.unlock() }; return value }
    }

    func testPlayThreeMovesFlipADiscAndWatchThePredictionsFollow() throws {
        let browser = try WebDriver(width: 1250, height: 1400)
        let port = Port()
        // The server runs on its own tasks; this test's WebDriver calls block only the main thread.
        let server = Task.detached { try await ExplorerServer.serve(explorer: ExplorerServerTests.explorer, host: "127.0.0.1", port: 0, atlas: nil) { port.set($0) } }
        defer { server.cancel() }
        for _ in 0..<500 where port.get() == nil { Thread.sleep(forTimeInterval: 0.02) }
        let bound = try XCTUnwrap(port.get(), "the server did not start")
        try browser.open(URL(string: "http://127.0.0.1:\(bound)/")!)
        try browser.wait(for: "window.explorerReady")
        // Three moves, each the first legal square the page marks.
        var moves: [Int] = []
        for _ in 0..<3 {
            let legal = try browser.execute("return [...document.querySelectorAll('#play-board .sq.legal')].map(c => +c.dataset.square);") as? [Int] ?? []
            let steps = moves.isEmpty ? nil : try GameReplay(moves: moves).steps
            XCTAssertEqual(legal, Bitboard.squares(steps?.last?.legalMoves ?? Board.start.legalMoves(.black)), "the page marks the rules engine's legal moves")
            moves.append(legal[0])
            try browser.click("#play-board [data-square=\"\(legal[0])\"]")
            try browser.wait(for: "document.querySelectorAll('#moves').length && document.querySelector('#moves').textContent.split('.').length === \(moves.count + 1) && document.querySelectorAll('#probes .board').length === 2")
        }
        XCTAssertTrue((try browser.execute("return location.hash;") as? String ?? "").contains("moves=\(moves.map { SquareNotation.othelloGPT.label($0) }.joined(separator: ","))"), "the URL holds the moves")
        // A disc whose flip changes the legal moves, clicked in edit mode.
        let last = try GameReplay(moves: moves).steps.last!
        let square = try XCTUnwrap(Bitboard.squares(~last.board.empty).first { s in
            (try? PreparedCase(InterventionCase(moves: moves, square: s), maxPositions: 59, source: "test")).map { $0.legalAfter != $0.legalBefore } ?? false
        })
        let prepared = try PreparedCase(InterventionCase(moves: moves, square: square), maxPositions: 59, source: "test")
        try browser.execute("document.getElementById('click-mode').value = 'edit';")
        try browser.click("#play-board [data-square=\"\(square)\"]")
        try browser.wait(for: "document.querySelector('#after-board') && document.querySelector('#edit-numbers')")
        let before = try browser.execute("return [...document.querySelectorAll('#before-board [data-square]')].map(c => c.dataset.value === undefined ? -1 : +c.dataset.value);") as? [Double] ?? []
        let after = try browser.execute("return [...document.querySelectorAll('#after-board [data-square]')].map(c => c.dataset.value === undefined ? -1 : +c.dataset.value);") as? [Double] ?? []
        XCTAssertEqual(before.count, 64)
        XCTAssertNotEqual(before, after, "the edit changes the predicted moves")
        let marked = try browser.execute("return [...document.querySelectorAll('#after-board .sq.legal')].map(c => +c.dataset.square);") as? [Int] ?? []
        XCTAssertEqual(marked, Bitboard.squares(prepared.legalAfter), "the after-edit marks are the edited board's legal moves")
        let flipped = try browser.execute("return document.querySelector('#edited-board [data-square=\"\(square)\"]').dataset.state;") as? String
        XCTAssertEqual(flipped, prepared.editedBoard(at: prepared.position)[square] == .black ? "x" : "o", "the edited board shows the flipped disc")
        XCTAssertEqual(try browser.execute("return window.explorerErrors;") as? [String], [])
        XCTAssertEqual(try browser.execute("return document.getElementById('error').textContent;") as? String, "")
        if let dir = ProcessInfo.processInfo.environment["ATLAS_SCREENSHOTS"] {
            try browser.screenshot().write(to: URL(fileURLWithPath: dir).appendingPathComponent("small-explorer.png"))
        }
    }
}
