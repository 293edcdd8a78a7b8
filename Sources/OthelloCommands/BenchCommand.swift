import ArgumentParser

/// `othello-gpt bench`: speed of the hot paths, each beside a reference measured in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the speed of the hot paths against references run alongside.",
        discussion: "Build with `swift build -c release` first: debug builds are many times slower.",
        subcommands: [BenchGames.self, BenchForward.self, BenchTrain.self, BenchProbe.self, BenchSAE.self, BenchBLAS.self]
    )
}
