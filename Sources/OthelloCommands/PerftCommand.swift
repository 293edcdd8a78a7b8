import ArgumentParser
import Foundation
import OthelloRules
import WorkbenchSupport

/// `othello-gpt perft DEPTH`: leaf counts from the start position, to check the move generator.
struct PerftCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perft",
        abstract: "Count the move sequences of each length from the start (checks the rules engine).",
        discussion: """
        Prints the number of leaves at depths 1...DEPTH from the standard start position. A pass counts \
        as one ply and a game that ends before the depth counts as one leaf (Aart Bik's convention): \
        depth 9 gives 3,005,288, depth 10 24,571,284, depth 11 212,258,800.

        Example:
          othello-gpt perft 9
          othello-gpt perft 11 --json
        """
    )

    @Argument(help: "The deepest depth to count, 1...20 (each depth about 8× the time of the one before).")
    var depth: Int

    @Option(name: .customLong("threads"), help: "Threads to share the tree between (default: all cores).")
    var threadsOption: Int?
    var threads: Int { threadsOption ?? Parallel.coreCount }

    @Flag(help: "Print the counts as JSON.")
    var json = false

    struct Row: Codable {
        var depth: Int
        var leaves: UInt64
        var seconds: Double
    }

    func run() throws {
        guard Perft.depthRange.contains(depth) else {
            throw WorkbenchError("perft: depth \(depth) is out of range; use \(Perft.depthRange.lowerBound)...\(Perft.depthRange.upperBound)")
        }
        guard threads >= 1 else { throw WorkbenchError("perft: --threads must be at least 1, got \(threads)") }
        if !json { print("depth         leaves   seconds   leaves/s") }
        var rows: [Row] = []
        for depth in 1...depth {
            let start = Date()
            let leaves = Perft.leaves(depth: depth, threads: threads)
            let row = Row(depth: depth, leaves: leaves, seconds: Date().timeIntervalSince(start))
            rows.append(row)
            if !json {
                let rate = row.seconds > 0 ? String(format: "%9.1fM", Double(row.leaves) / row.seconds / 1e6) : ""
                let line = RulesOutput.padded("\(row.depth)", 5) + " " + RulesOutput.padded(RulesOutput.grouped(row.leaves), 14)
                    + String(format: " %9.3f", row.seconds) + (row.depth >= 8 ? " " + rate : "")
                print(line)
                fflush(stdout)
            }
        }
        if json { print(try JSONOutput.string(rows)) }
    }
}

