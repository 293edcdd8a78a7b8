import ArgumentParser
import Foundation
import OthelloModel
import WorkbenchSupport

/// The `othello-gpt` command: the root of every subcommand.
public struct OthelloGPTCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "othello-gpt",
        abstract: "The Othello-GPT world-model workbench: rules, games, the model, probes, edits, features and figures.",
        discussion: """
        Reproduce and extend the Othello-GPT studies (Li et al. 2023; Nanda 2023) on the CPU. \
        Squares use the Othello-GPT labels A0..H7 (row letter, 0-indexed column) unless a \
        command says otherwise. Run `othello-gpt help <subcommand>` for details.
        """,
        subcommands: allSubcommands
    )

    public init() {}

    /// Entry point used by the executable: sets up OpenBLAS (`Matmul.configureOpenBLAS`) and the allocator
    /// (`Allocator.keepFreedMemory`), then runs the command, turning a WorkbenchError into a one-line
    /// message and exit code 1.
    public static func mainWithErrors(_ arguments: [String]? = nil) async {
        Matmul.configureOpenBLAS()
        Allocator.keepFreedMemory()
        do {
            var command = try parseAsRoot(arguments)
            if var server = command as? AsyncParsableCommand {
                try await server.run()
            } else {
                try command.run()
            }
        } catch let error as WorkbenchError {
            FileHandle.standardError.write("error: \(error.description)\n".data(using: .utf8)!)
            Foundation.exit(1)
        } catch {
            exit(withError: error)
        }
    }
}
