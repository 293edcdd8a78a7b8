import ArgumentParser
import Foundation
import OthelloBenchmarks
import OthelloRules
import WorkbenchSupport

/// `othello-gpt bench games`: random games per second and perft leaves per second, each beside the
/// plain C bitboard engine (`Sources/CBaselineOthello`) measured in the same run.
struct BenchGames: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "games",
        abstract: "Random games/s (one core, all cores) and perft leaves/s, against a plain C engine.",
        discussion: """
        Three measurements for the workbench and, alternating with it, for a small plain C bitboard \
        engine compiled into the tool (Sources/CBaselineOthello): random complete games per second on \
        one thread and on --threads threads (Li et al.'s generator, 60 int8 squares written per game), \
        and perft leaves per second at depth 10 on one thread (both engines must count 24,571,284). \
        Each figure is the best of --repeats runs. One-thread figures are timed by the thread's CPU \
        clock, so other programs on the machine disturb them less; the --threads figure is wall-clock.

        Build in release first:
          swift build -c release && .build/release/othello-gpt bench games
        """
    )

    @Option(name: .customLong("threads"), help: "Threads for the all-cores measurement (default: all cores).")
    var threadsOption: Int?
    var threads: Int { threadsOption ?? Parallel.coreCount }

    @Option(help: "Random games per thread in each run.")
    var games: Int = 200_000

    @Option(help: "Runs of each measurement; the fastest counts.")
    var repeats: Int = 3

    @Flag(help: "Print the figures as JSON.")
    var json = false

    func run() throws {
        var benchmark = EngineBenchmark(threads: threads)
        (benchmark.games, benchmark.repeats) = (games, repeats)
        let figures = try benchmark.run()
        if json {
            print(try JSONOutput.string(figures))
            return
        }
        print("measurement                           workbench     C baseline   ratio")
        for figure in figures {
            let name = "\(figure.name), \(figure.threads) thread\(figure.threads == 1 ? "" : "s")"
            print(name.padding(toLength: 32, withPad: " ", startingAt: 0),
                  RulesOutput.padded(rate(figure.workbench), 15),
                  RulesOutput.padded(rate(figure.baseline), 14),
                  RulesOutput.padded(String(format: "%.2f×", figure.ratio), 7))
        }
    }

    /// A rate for the table: millions with one decimal from 10 M, grouped digits below.
    private func rate(_ value: Double) -> String {
        value >= 1e7 ? String(format: "%.1f M", value / 1e6) : RulesOutput.grouped(Int(value.rounded()))
    }
}
