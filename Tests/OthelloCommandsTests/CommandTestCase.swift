import Foundation
@testable import OthelloCommands
import WorkbenchSupport
import XCTest

/// Base class for tests that run `othello-gpt` subcommands as the executable does, each test in a fresh
/// temporary folder (`folder`, removed afterwards).
class CommandTestCase: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("othello-gpt-\(Self.self)-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// The path of `name` inside the test's folder.
    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// What the test's folder holds now.
    var leftovers: [String] { (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] }

    /// Parses and runs `arguments`; any error is thrown.
    func run(_ arguments: [String]) throws {
        var command = try OthelloGPTCommand.parseAsRoot(arguments)
        try command.run()
    }

    /// Parses and runs `arguments`; returns the WorkbenchError message the user would see (checked to be
    /// one line; the argument parser's for a value it rejects), or nil on success. Other errors are thrown.
    func errorMessage(_ arguments: [String]) throws -> String? {
        do {
            try run(arguments)
            return nil
        } catch let error as WorkbenchError {
            XCTAssertFalse(error.description.contains("\n"), "one line")
            return error.description
        } catch where OthelloGPTCommand.exitCode(for: error) == .validationFailure {
            // A value the argument parser rejects (a kind or basis it does not know): its one-line message.
            let message = OthelloGPTCommand.message(for: error)
            XCTAssertFalse(message.contains("\n"), "one line: \(message)")
            return message
        }
    }
}
