import ArgumentParser
import Foundation
import OthelloModel
import OthelloTraining
import WorkbenchSupport

/// `othello-gpt bench blas`: the active OpenBLAS kernels' sgemm against a float64 product on the model's shapes.
struct BenchBLAS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blas",
        abstract: "Check the active OpenBLAS kernels' sgemm against a float64 product on every model shape, and time it.",
        discussion: """
        OpenBLAS picks its kernels for the CPU when it loads (`OPENBLAS_CORETYPE` overrides the choice). This \
        runs every distinct matrix product of a training step and of a forward pass of the given model \
        shape through the active kernels, with 1 thread and with --threads, on random entries in [−1, 1), \
        and compares each entry with the same product in float64 (the forward pass's products start from the bias, \
        β = 1, and scale the attention scores, α = 1/√d_head, as the model runs them). The error is given as \
        a fraction of the float32 bound (k + 2)·u·(|β·c| + |α|·Σ|a||b|) (u = 2⁻²⁴): a correct kernel stays well under 1 (rounding \
        errors mostly cancel: 0.001–0.14 on this workbench's shapes, the most for the shortest products). Any product over the bound (or not finite) makes the command fail, naming the shape; \
        then try other kernels, e.g. `OPENBLAS_CORETYPE=Haswell othello-gpt bench blas`. Also prints each \
        product's GFLOP/s.
          othello-gpt bench blas
          env -u OPENBLAS_CORETYPE othello-gpt bench blas --d-model 256 --heads 8 --d-mlp 1024
        """
    )

    @Option(name: .customLong("threads"), help: "Threads for the second run of each product (default: all cores).") var threadsOption: Int?
    var threads: Int { threadsOption ?? Parallel.coreCount }
    @Option(help: "Transformer blocks (default: the shipped model's).") var layers: Int = ModelConfig.shipped.nLayers
    @Option(name: .customLong("d-model"), help: "Residual stream width.") var dModel: Int = ModelConfig.shipped.dModel
    @Option(help: "Attention heads.") var heads: Int = ModelConfig.shipped.nHeads
    @Option(name: .customLong("d-mlp"), help: "MLP hidden width.") var dMLP: Int = ModelConfig.shipped.dMLP
    @Option(name: .customLong("games-per-shard"), help: "Games per shard of a training batch (the rows of its products: games × 59).") var gamesPerShard: Int = 16
    @Option(name: .customLong("forward-games"), help: "Games per forward pass (eval's --batch-size).") var forwardGames: Int = 64
    @Flag(help: "Print the results as JSON.") var json = false

    struct Report: Codable {
        var openBLASCore: String
        var threads: [Int]
        var results: [SgemmCheck.Result]
        var passed: Bool
    }

    func run() throws {
        guard threads >= 1, gamesPerShard >= 1, forwardGames >= 1 else {
            throw WorkbenchError("bench blas: --threads, --games-per-shard and --forward-games must be at least 1")
        }
        let config = try ModelConfig(nLayers: layers, dModel: dModel, nHeads: heads, dMLP: dMLP)
        let shapes = SgemmCheck.shapes(config: config, gamesPerShard: gamesPerShard, forwardGames: forwardGames)
        let threadCounts = threads == 1 ? [1] : [1, threads]
        let core = Matmul.coreName
        if !json {
            print("sgemm of OpenBLAS (\(core) kernels) against a float64 product: the \(shapes.count) shapes of a training step and a forward pass of \(config.shapeDescription)")
            print("  " + "product".padding(toLength: 30, withPad: " ", startingAt: 0)
                  + threadCounts.map { RulesOutput.padded("error/bound \($0)t", 16) }.joined()
                  + threadCounts.map { RulesOutput.padded("GFLOP/s \($0)t", 12) }.joined())
        }
        var results: [SgemmCheck.Result] = []
        for shape in shapes {
            let row = threadCounts.map { SgemmCheck.run(shape, threads: $0) }
            results += row
            if !json {
                print("  " + shape.description.padding(toLength: 30, withPad: " ", startingAt: 0)
                      + row.map { RulesOutput.padded($0.worstErrorToBound.map { String(format: "%.4f", $0) } ?? "not finite", 16) }.joined()
                      + row.map { RulesOutput.padded(String(format: "%.1f", $0.gflops), 12) }.joined()
                      + (row.allSatisfy(\.passed) ? "" : "   ← over the bound"))
            }
        }
        let failed = results.filter { !$0.passed }
        let report = Report(openBLASCore: core, threads: threadCounts, results: results, passed: failed.isEmpty)
        if json {
            print(try JSONOutput.string(report))
        } else if failed.isEmpty {
            let worst = results.compactMap(\.worstErrorToBound).max() ?? 0
            print(String(format: "all %d products within the float32 error bound (worst %.4f of it): the %@ kernels are right on this CPU", results.count, worst, core))
        }
        if !failed.isEmpty {
            let shapes = failed.map { "\($0.shape) (\($0.threads) thread\($0.threads == 1 ? "" : "s"))" }
            throw WorkbenchError("bench blas: OpenBLAS's \(core) sgemm is wrong on this CPU for \(shapes.joined(separator: ", ")); choose other kernels with OPENBLAS_CORETYPE (e.g. Haswell) and check again")
        }
    }
}
