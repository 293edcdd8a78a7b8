import Foundation
import OthelloCircuits
import OthelloPlots
import WorkbenchSupport

/// A layer × head matrix figure.
public func headMatrix(_ values: [[Double]], title: String, scale: ColorScale, decimals: Int = 2) -> MatrixHeatmap {
    MatrixHeatmap(values: values.map { $0.map { Optional($0) } }, rowLabels: values.indices.map { "L\($0)" },
                  columnLabels: (values.first ?? []).indices.map { "H\($0)" }, title: title, xLabel: "head", yLabel: "layer",
                  scale: scale, cellText: .values(decimals: decimals))
}

/// The "is this square empty?" circuit as figures and markdown (`heads circuit`, the study's circuit step).
/// The files of `heads scores` and `heads ablate`: one layer × head figure per score, and the JSON.
public enum HeadReport {
    /// Each score's file name, title and values.
    public static func named(_ scores: HeadScores) -> [(file: String, title: String, values: [[Double]])] {
        [("previous-move", "to the previous move", scores.previousMove), ("mine", "to the moves of the player who moves next", scores.mine),
         ("theirs", "to the other player's moves", scores.theirs), ("first-position", "to position 0", scores.firstPosition),
         ("duplicate-token", "duplicate-token score (repeated random tokens)", scores.duplicateToken),
         ("induction", "induction score (repeated random tokens)", scores.induction)]
    }

    /// The head with the largest value of `values` (`[layer][head]`).
    public static func strongest(_ values: [[Double]]) -> (layer: Int, head: Int, value: Double) {
        values.enumerated().flatMap { l, row in row.enumerated().map { (layer: l, head: $0.offset, value: $0.element) } }.max { $0.value < $1.value }!
    }

    /// Writes NAME.png per score and scores.json into `folder`.
    public static func write(_ scores: HeadScores, to folder: URL) throws {
        for (file, title, values) in named(scores) {
            try headMatrix(values, title: "Mean attention \(title)", scale: .probability).write(to: folder.appendingPathComponent("\(file).png"))
        }
        try AtomicFile.write(try JSONOutput.encoder.encode(scores), to: folder.appendingPathComponent("scores.json"))
    }

    /// Writes legal.png, loss.png and ablation.json into `folder`.
    public static func write(_ result: HeadAblation, to folder: URL) throws {
        try headMatrix(result.legalChange.map { $0.map { 100 * $0 } }, title: "Change of legal top-1 (points) when a head is \(result.method)-ablated",
                       scale: .diverging(label: "points"), decimals: 1).write(to: folder.appendingPathComponent("legal.png"))
        try headMatrix(result.lossChange, title: "Change of next-move loss when a head is \(result.method)-ablated",
                       scale: .diverging(label: "nats")).write(to: folder.appendingPathComponent("loss.png"))
        try AtomicFile.write(try JSONOutput.encoder.encode(result), to: folder.appendingPathComponent("ablation.json"))
    }
}

public enum CircuitReport {
    /// Writes the figures, circuit.json and circuit.md into `folder`.
    public static func write(_ circuit: EmptyCircuit, to folder: URL) throws {
        try drawFigures(circuit, in: folder)
        try AtomicFile.write(try JSONOutput.encoder.encode(circuit), to: folder.appendingPathComponent("circuit.json"))
        try AtomicFile.write(Data(markdown(circuit).utf8), to: folder.appendingPathComponent("circuit.md"))
    }

    /// heads.png, head-ablation.png and occupied-logits.png (each file name after `prefix`) into `folder`.
    public static func drawFigures(_ circuit: EmptyCircuit, in folder: URL, prefix: String = "") throws {
        try headMatrix(circuit.heads, title: "Signed contribution of each head to the empty probe at \(circuit.hook)", scale: .diverging(label: "logit"))
            .write(to: folder.appendingPathComponent("\(prefix)heads.png"))
        try headMatrix(circuit.headAblationEffect.map { $0.map { 100 * $0 } }, title: "Empty-probe accuracy lost (points) when one head is mean-ablated",
                       scale: .diverging(label: "points"), decimals: 1).write(to: folder.appendingPathComponent("\(prefix)head-ablation.png"))
        try headMatrix(circuit.occupiedLogitAttribution, title: "Direct logit attribution: occupied − empty squares' move logits",
                       scale: .diverging(label: "logit")).write(to: folder.appendingPathComponent("\(prefix)occupied-logits.png"))
    }

    public static func markdown(_ c: EmptyCircuit) -> String {
        let heads = c.heads.enumerated().flatMap { l, row in row.enumerated().map { (l, $0.offset, $0.element) } }.sorted { $0.2 > $1.2 }
        let effect = c.headAblationEffect.enumerated().flatMap { l, row in row.enumerated().map { (l, $0.offset, $0.element) } }.sorted { $0.2 > $1.2 }
        let suppress = c.occupiedLogitAttribution.enumerated().flatMap { l, row in row.enumerated().map { (l, $0.offset, $0.element) } }.sorted { $0.2 < $1.2 }
        var lines = ["## A circuit: is this square empty?", "",
                     String(format: "A linear probe at %@ reads empty vs occupied for %.1f%% of squares on held-out games (trivial baseline %.1f%%).",
                            c.hook, 100 * c.probeAccuracy, 100 * c.trivialAccuracy), "",
                     "**What writes it.** Signed contribution to the probe's logit difference (towards the right answer), averaged over positions and squares:",
                     String(format: "embeddings %+.2f; ", c.embedding) + heads.prefix(4).map { String(format: "L%dH%d %+.2f", $0.0, $0.1, $0.2) }.joined(separator: ", ")
                        + "; MLPs " + c.mlps.enumerated().map { String(format: "L%d %+.2f", $0.offset, $0.element) }.joined(separator: ", ") + ".",
                     "", "![heads](heads.png)", "",
                     "**What it depends on.** Probe accuracy lost when one head alone is mean-ablated (its total effect, through later components too): " +
                        effect.prefix(4).map { String(format: "L%dH%d %.1f points", $0.0, $0.1, 100 * $0.2) }.joined(separator: ", ") + ".", "",
                     "![head ablation](head-ablation.png)", "",
                     "**Which neurons read it.** Top neurons by signed contribution: " +
                        c.neurons.prefix(6).map { String(format: "L%dN%d %+.3f", $0.layer, $0.neuron, $0.attribution) }.joined(separator: ", ") + ".", "",
                     "**Which heads keep the model off occupied squares.** Most negative direct logit attribution to occupied minus empty squares' moves: " +
                        suppress.prefix(4).map { String(format: "L%dH%d %+.2f", $0.0, $0.1, $0.2) }.joined(separator: ", ") + ".", "",
                     "![occupied logits](occupied-logits.png)", "",
                     "**How much survives ablating them** (mean ablation; share of the probe's margin over the baseline):", "",
                     "| ablated | probe accuracy | margin kept |", "|---|---|---|"]
        for a in c.ablations { lines.append(String(format: "| %@ | %.1f%% | %.0f%% |", a.what, 100 * a.accuracy, 100 * c.surviving(a.accuracy))) }
        return lines.joined(separator: "\n") + "\n"
    }
}
