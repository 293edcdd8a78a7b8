import WorkbenchSupport

/// Games split into training and held-out games, by game (never by position within a game).
public struct GameSplit: Equatable {
    public var train: [Int]
    public var test: [Int]

    /// The games `0..<count` shuffled with `seed`, the last `testFraction` of them held out (at least one each).
    public init(count: Int, testFraction: Double, seed: UInt64, source: String = "games") throws {
        guard testFraction > 0, testFraction < 1 else {
            throw WorkbenchError("--test-fraction must be between 0 and 1 (exclusive), got \(testFraction)")
        }
        let tests = Int((Double(count) * testFraction).rounded())
        guard count >= 2, tests >= 1, tests < count else {
            throw WorkbenchError("\(source): \(count) game\(count == 1 ? "" : "s") cannot be split into training and held-out games with --test-fraction \(testFraction); give at least \(Int((1 / min(testFraction, 1 - testFraction)).rounded(.up))) games")
        }
        var order = Array(0..<count)
        var random = SeededRandom(seed: seed, stream: 77)
        for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, random.next(below: i + 1)) }
        train = Array(order[0..<(count - tests)])
        test = Array(order[(count - tests)...])
    }

    public init(train: [Int], test: [Int]) {
        self.train = train
        self.test = test
    }
}
