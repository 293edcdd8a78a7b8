import CBaselineOthello
import Foundation
import OthelloRules
import WorkbenchSupport

/// `bench games`: random complete games per second (one thread and `threads` threads) and perft leaves per second
/// at depth 10 (one thread), each beside the plain C bitboard engine (`Sources/CBaselineOthello`) measured
/// alternately in the same run; each figure the best of `repeats` runs.
public struct EngineBenchmark {
    public var threads: Int
    /// Random games per thread in each run.
    public var games = 200_000
    public var repeats = 3

    public init(threads: Int) { self.threads = threads }

    public struct Figure: Codable, Sendable {
        public var name: String
        public var unit: String
        public var threads: Int
        public var workbench: Double
        public var baseline: Double
        /// workbench / baseline: above 1 the workbench is faster.
        public var ratio: Double
    }

    public static let perftDepth10: UInt64 = 24_571_284

    public func run() throws -> [Figure] {
        guard threads >= 1, games >= 1, repeats >= 1 else {
            throw WorkbenchError("bench games: --threads, --games and --repeats must be at least 1")
        }
        let (perRun, overflow) = games.multipliedReportingOverflow(by: threads)
        guard !overflow, perRun <= 10_000_000 else {
            throw WorkbenchError("bench games: --games \(games) per thread on \(threads) threads is too many games for one run; keep --games × --threads at most 10000000")
        }
        try Self.checkBaselineGames()
        var figures: [Figure] = []
        for threadCount in Set([1, threads]).sorted() {
            let count = games * threadCount
            let (swift, c) = Timing.bestRates(repeats: repeats, threadCPU: threadCount == 1,
                                              { RandomGames.generate(count: count, seed: 1, threads: threadCount).count },
                                              { Self.baselineGames(count: count, threads: threadCount) })
            figures.append(Figure(name: "random games", unit: "games/s", threads: threadCount, workbench: swift, baseline: c, ratio: swift / c))
        }
        let start = Board.start
        let (swiftPerft, cPerft) = try Timing.bestRates(repeats: repeats, threadCPU: true,
            { try Self.checkedLeaves(Perft.leaves(depth: 10), engine: "workbench") },
            { try Self.checkedLeaves(cbo_perft(start.black, start.white, 10), engine: "C baseline") })
        figures.append(Figure(name: "perft depth 10 leaves", unit: "leaves/s", threads: 1, workbench: swiftPerft, baseline: cPerft, ratio: swiftPerft / cPerft))
        return figures
    }

    /// Checks that the C engine's random games are legal and complete, so both engines do the same work.
    static func checkBaselineGames() throws {
        var squares = [Int8](repeating: 0, count: 1000 * GameDataset.maxLength)
        _ = cbo_random_games(1, 0, 1000, &squares)
        let dataset = try GameDataset(squares: squares, source: "bench games: the C baseline's games")
        for index in 0..<dataset.count where try !GameReplay(moves: dataset[index]).isComplete {
            throw WorkbenchError("bench games: the C baseline's game \(index) stops before the end")
        }
    }

    /// Random games from the C engine on `threads` threads, in chunks like the workbench's.
    static func baselineGames(count: Int, threads: Int) -> Int {
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

    static func checkedLeaves(_ leaves: UInt64, engine: String) throws -> Int {
        guard leaves == perftDepth10 else {
            throw WorkbenchError("bench games: the \(engine) counts \(leaves) leaves at depth 10, expected \(perftDepth10)")
        }
        return Int(leaves)
    }
}
