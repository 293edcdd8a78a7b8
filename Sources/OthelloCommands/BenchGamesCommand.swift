import ArgumentParser
import CBaselineOthello
import Foundation
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

    struct Figure: Codable {
        var name: String
        var unit: String
        var threads: Int
        var workbench: Double
        var baseline: Double
        /// workbench / baseline: above 1 the workbench is faster.
        var ratio: Double
    }

    func run() throws {
        guard threads >= 1, games >= 1, repeats >= 1 else {
            throw WorkbenchError("bench games: --threads, --games and --repeats must be at least 1")
        }
        let (perRun, overflow) = games.multipliedReportingOverflow(by: threads)
        guard !overflow, perRun <= 10_000_000 else {
            throw WorkbenchError("bench games: --games \(games) per thread on \(threads) threads is too many games for one run; keep --games × --threads at most 10000000")
        }
        try checkBaselineGames()
        var figures: [Figure] = []
        for threadCount in Set([1, threads]).sorted() {
            let count = games * threadCount
            let (swift, c) = try bestRates(
                threads: threadCount,
                workbench: { RandomGames.generate(count: count, seed: 1, threads: threadCount).count },
                baseline: { baselineGames(count: count, threads: threadCount) })
            figures.append(Figure(name: "random games", unit: "games/s", threads: threadCount,
                                  workbench: swift, baseline: c, ratio: swift / c))
        }
        let expected: UInt64 = 24_571_284
        let start = Board.start
        let (swiftPerft, cPerft) = try bestRates(
            threads: 1,
            workbench: { try checkedLeaves(Perft.leaves(depth: 10), expected: expected, engine: "workbench") },
            baseline: { try checkedLeaves(cbo_perft(start.black, start.white, 10), expected: expected, engine: "C baseline") })
        figures.append(Figure(name: "perft depth 10 leaves", unit: "leaves/s", threads: 1,
                              workbench: swiftPerft, baseline: cPerft, ratio: swiftPerft / cPerft))
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

    /// The best rates (units per second) of `repeats` runs of each engine's work, which returns its
    /// unit count. The runs alternate, so both engines see the same load from other programs. With
    /// `threads == 1` the work runs on this thread and is timed by this thread's CPU clock (time the
    /// thread spends descheduled by other programs does not count); otherwise by the wall clock.
    private func bestRates(threads: Int, workbench: () throws -> Int, baseline: () throws -> Int) throws -> (Double, Double) {
        let clock = threads == 1 ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC
        func seconds() -> Double {
            var time = timespec()
            clock_gettime(clock, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        }
        func rate(_ work: () throws -> Int) throws -> Double {
            let start = seconds()
            let units = try work()
            return Double(units) / (seconds() - start)
        }
        var best = (0.0, 0.0)
        for _ in 0..<repeats {
            best.0 = max(best.0, try rate(workbench))
            best.1 = max(best.1, try rate(baseline))
        }
        return best
    }

    /// Checks that the C engine's random games are legal and complete, so both engines do the same work.
    private func checkBaselineGames() throws {
        var squares = [Int8](repeating: 0, count: 1000 * GameDataset.maxLength)
        _ = cbo_random_games(1, 0, 1000, &squares)
        let dataset = try GameDataset(squares: squares, source: "bench games: the C baseline's games")
        for index in 0..<dataset.count where try !GameReplay(moves: dataset[index]).isComplete {
            throw WorkbenchError("bench games: the C baseline's game \(index) stops before the end")
        }
    }

    /// Random games from the C engine on `threads` threads, in chunks like the workbench's.
    private func baselineGames(count: Int, threads: Int) -> Int {
        var squares = [Int8](repeating: 0, count: count * GameDataset.maxLength)
        let chunkSize = 2048
        squares.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let output = SharedPointer(base)
            Parallel.forEach(chunks: (count + chunkSize - 1) / chunkSize, threads: threads) { chunk in
                let first = chunk * chunkSize, size = min(chunkSize, count - first)
                _ = cbo_random_games(1, Int64(first), Int64(size), output.base + first * GameDataset.maxLength)
            }
        }
        return count
    }

    private func checkedLeaves(_ leaves: UInt64, expected: UInt64, engine: String) throws -> Int {
        guard leaves == expected else {
            throw WorkbenchError("bench games: the \(engine) counts \(leaves) leaves at depth 10, expected \(expected)")
        }
        return Int(leaves)
    }

    /// A rate for the table: millions with one decimal from 10 M, grouped digits below.
    private func rate(_ value: Double) -> String {
        value >= 1e7 ? String(format: "%.1f M", value / 1e6) : RulesOutput.grouped(Int(value.rounded()))
    }
}
