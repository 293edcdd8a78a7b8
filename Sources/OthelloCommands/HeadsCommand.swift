import ArgumentParser
import Foundation
import OthelloCircuits
import OthelloModel
import OthelloPlots
import OthelloReports
import OthelloRules
import WorkbenchSupport

/// `othello-gpt heads`: what each attention head attends to, and what it is worth.
struct HeadsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heads",
        abstract: "Attention-head scores (previous move, mine / theirs moves, first position, duplicate, induction) and head ablations.",
        subcommands: [HeadScoresCommand.self, HeadAblationCommand.self, HeadCircuitCommand.self, HeadControlCommand.self]
    )
}

/// Games for the head commands: a file, or fresh random games.
struct HeadGameOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Games file (.npy, .txt, .wtb, .pgn); default: --count fresh random games.", valueName: "file")) var games: String?
    @Option(help: "Random games when no --games file is given.") var count: Int = 500
    @Option(help: "Seed of the random games.") var seed: UInt64 = 3

    /// The model, the games and the output folder (created) of a heads command.
    func prepare(model: ModelOptions, out: String) throws -> (HookedTransformer, GameDataset, URL) {
        let transformer = try model.load()
        let games = try load()
        let folder = URL(fileURLWithPath: out)
        try createOutputFolder(folder)
        return (transformer, games, folder)
    }

    func load() throws -> GameDataset {
        try (games.map { GameSource.file($0) } ?? .random(count: count, seed: seed, fullLength: false)).load()
    }
}

struct HeadScoresCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scores",
        abstract: "Per-head attention scores over many games, as layer × head figures and JSON.",
        discussion: """
        Mean attention, over every position of the games, to: the previous move; the earlier moves of the player \
        who moves next ("mine", the position itself included) and of the other player ("theirs"); position 0. \
        And TransformerLens' duplicate-token and induction detectors on random token sequences repeated twice \
        (not games, as the tutorials' GPT-2 inputs are not: attention from the second copy to the same token in \
        the first, and to the token after it). Writes one figure per score into --out.

        Example:
          othello-gpt heads scores --count 500 --out heads
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var data: HeadGameOptions
    @Option(help: "Output folder.") var out: String = "heads"
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let (transformer, games, folder) = try data.prepare(model: model, out: out)
        let bar = ProgressBar(total: games.count, label: "head scores")
        let scores = try HeadScores.compute(model: transformer, games: games, seed: data.seed, batchSize: model.batchSize, progress: bar)
        bar.finish()
        try HeadReport.write(scores, to: folder)
        if json { return try printJSON(scores) }
        for (file, _, values) in HeadReport.named(scores) {
            let best = HeadReport.strongest(values)
            print(String(format: "%@: strongest L%dH%d %.2f", file, best.layer, best.head, best.value))
        }
        print("wrote \(out)/*.png and scores.json")
    }
}

struct HeadAblationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ablate",
        abstract: "The change of legal top-1 and next-move loss when each head, or each layer's attention, is ablated.",
        discussion: """
        Each head's hook_z (and, per layer, hook_attn_out) is replaced by zeros, or with --mean by its mean over \
        the games at each position; the model is scored on the same games (Li et al.'s legal top-1 and the \
        cross-entropy of the move played next). Writes legal.png and loss.png (layer × head) into --out.

        Example:
          othello-gpt heads ablate --count 300 --mean --out heads-ablation
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var data: HeadGameOptions
    @Flag(help: "Mean-ablate instead of zero-ablate.") var mean = false
    @Option(help: "Output folder.") var out: String = "heads-ablation"
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let (transformer, games, folder) = try data.prepare(model: model, out: out)
        let c = transformer.config
        let bar = ProgressBar(total: c.nLayers * (c.nHeads + 1), label: "ablations")
        let result = try HeadAblation.run(model: transformer, games: games, mean: mean, batchSize: model.batchSize, progress: bar)
        bar.finish()
        try HeadReport.write(result, to: folder)
        if json { return try printJSON(result) }
        print(String(format: "clean: loss %.4f, legal top-1 %.2f%% on %d positions", result.clean.loss, 100 * result.clean.legalTop1, result.clean.positions))
        for l in 0..<c.nLayers {
            let worst = result.legalChange[l].enumerated().min { $0.element < $1.element }!
            print(String(format: "  layer %d: whole attention %+.2f points, %+.3f nats; worst head H%d %+.2f points", l, 100 * result.layerLegalChange[l],
                         result.layerLossChange[l], worst.offset, 100 * worst.element))
        }
        print("wrote \(out)/legal.png, loss.png, ablation.json")
    }
}

struct HeadCircuitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "circuit",
        abstract: "A circuit for \"is this square empty?\": attribution to a linear empty probe, logit attribution, ablations.",
        discussion: """
        Trains a linear empty-vs-occupied probe at blocks.L.hook_resid_post (--layer) on half the games and, on the \
        other half: splits the probe's logit difference exactly into the contributions of the embeddings, every \
        head (hook_result) and every MLP of layers 0…L, each signed towards the right answer and averaged over \
        positions and squares; ranks the MLP neurons the same way; gives each head's direct logit attribution to \
        the move logits of occupied squares minus empty ones (which heads keep the model off occupied squares); \
        and mean-ablates the top heads and neurons, beside as many others at random, to see how much of the probe's \
        accuracy (over the trivial baseline) survives. Writes circuit.md, circuit.json, heads.png, \
        head-ablation.png and occupied-logits.png into --out.

        Example:
          othello-gpt heads circuit --layer 1 --count 400 --out circuit
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var data: HeadGameOptions
    @Option(help: "The probe's layer (its resid_post).") var layer: Int = 1
    @Option(name: .customLong("top-heads"), help: "Heads ablated.") var topHeads: Int = 3
    @Option(name: .customLong("top-neurons"), help: "Neurons ablated.") var topNeurons: Int = 20
    @Option(help: "Output folder.") var out: String = "circuit"
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let (transformer, games, folder) = try data.prepare(model: model, out: out)
        let circuit = try EmptyCircuit.run(model: transformer, games: games, layer: layer, topHeads: topHeads, topNeurons: topNeurons, seed: data.seed,
                                           batchSize: model.batchSize) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        try CircuitReport.write(circuit, to: folder)
        if json { return try printJSON(circuit) }
        print(CircuitReport.markdown(circuit))
    }

}

struct HeadControlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "control",
        abstract: "The head scores' positive control: a toy attention-only model that learns an induction head.",
        discussion: """
        Trains a small attention-only transformer (2 layers by default) with the workbench's trainer on random token \
        sequences whose last part is a period of distinct random tokens twice (the period's length varies), so that \
        every token of the second copy can be copied from one period back. Such a model learns a previous-token head and an induction head. \
        Then runs TransformerLens' detectors on every head (sequences of n random tokens repeated twice: attention to \
        the previous token, and from the second copy to the token after the same token in the first), names the \
        induction heads (score ≥ 0.5; a model may grow two) and the previous-token head of layer 0, and zero-ablates \
        them: without the induction heads the loss on the repeated tokens rises to that of the unrepeated ones. For \
        comparison it scores --model (the shipped Othello-GPT by default), which has no induction head. The circuit \
        depends on the learning rate: at --lr 3e-4 it is the canonical one; at 1e-3 the toy learns to copy through \
        heads that attend a few positions off, which the detectors rightly do not call induction heads.

        Example:
          othello-gpt heads control
          othello-gpt heads control --json
        """
    )

    @OptionGroup var model: ModelOptions
    @Option(help: "Layers of the toy model.") var layers: Int = 2
    @Option(name: .customLong("d-model"), help: "Width of the toy model.") var dModel: Int = 64
    @Option(name: .customLong("heads-per-layer"), help: "Heads per layer of the toy model.") var heads: Int = 2
    @Option(help: "Vocabulary (d_vocab; tokens 1..<vocabulary are drawn).") var vocabulary: Int = 64
    @Option(help: "Context (n_ctx).") var context: Int = 32
    @Option(help: "Shortest period (the longest is context / 2).") var minPeriod: Int = 4
    @Option(help: "Training steps.") var steps: Int = 3000
    @Option(help: "Sequences per step.") var batch: Int = 128
    @Option(help: "Peak learning rate (the circuit is sensitive to it; see the discussion).") var lr: Float = 3e-4
    @Option(help: "Seed of the weights and sequences.") var seed: UInt64 = 1
    @Flag(help: "Skip scoring --model.") var noCompare = false
    @Flag(help: "Print one JSON object.") var json = false

    struct Output: Encodable {
        var toy: InductionHeadControl.Result
        var compared: String?
        var comparedInductionMax: Double?
        var comparedPreviousTokenMax: Double?
    }

    func run() throws {
        var control = InductionHeadControl()
        (control.layers, control.dModel, control.heads, control.vocabulary, control.context) = (layers, dModel, heads, vocabulary, context)
        (control.minPeriod, control.steps, control.batch, control.learningRate, control.seed) = (minPeriod, steps, batch, lr, seed)
        let bar = ProgressBar(total: steps, label: "train toy")
        let result = try control.run(progress: bar)
        bar.finish()
        var output = Output(toy: result)
        if !noCompare {
            let compared = try model.load()
            let scores = try RepeatedTokenAttention.measure(model: compared, seed: seed)
            output.compared = model.model ?? "the shipped model"
            output.comparedInductionMax = scores.induction.joined().max()
            output.comparedPreviousTokenMax = scores.previousToken.joined().max()
        }
        if json { return try printJSON(output) }
        print(String(format: "toy model (%@), %d steps in %.1f s, final training loss %.3f", result.model, result.steps, result.seconds, result.finalTrainingLoss))
        print(String(format: "induction heads %@: induction scores %@ (largest of the other heads %.3f)", result.inductionHeads.map(\.description).joined(separator: ", "),
                     result.inductionHeads.map { String(format: "%.3f", result.scores.induction[$0.layer][$0.head]) }.joined(separator: ", "), result.otherInductionMax))
        print(String(format: "previous-token head %@: previous-token score %.3f (largest of the other heads %.3f)", result.previousTokenHead.description, result.previousTokenScore, result.otherPreviousTokenMax))
        print(String(format: "loss on the tokens that cannot be predicted %.3f (uniform %.3f); on the repeated ones %.3f, %.3f with the induction heads ablated (%@ alone: %@), %.3f with %@ ablated",
                     result.firstPeriodLoss, result.uniformLoss, result.repeatedLoss, result.repeatedLossAblated,
                     result.inductionHeads.map(\.description).joined(separator: ", "), result.repeatedLossEachAblated.map { String(format: "%.3f", $0) }.joined(separator: ", "),
                     result.repeatedLossPreviousTokenAblated, result.previousTokenHead.description))
        if let name = output.compared, let induction = output.comparedInductionMax, let previous = output.comparedPreviousTokenMax {
            print(String(format: "%@: largest induction score %.3f, largest previous-token score %.3f (same detectors)", name, induction, previous))
        }
        for l in 0..<layers {
            print("  layer \(l) induction: " + result.scores.induction[l].map { String(format: "%.3f", $0) }.joined(separator: " ")
                  + "   previous token: " + result.scores.previousToken[l].map { String(format: "%.3f", $0) }.joined(separator: " "))
        }
    }
}
