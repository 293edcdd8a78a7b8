import Foundation
import OthelloSAEs
import OthelloModel
import OthelloPlots
import OthelloRules
import WorkbenchSupport

/// An SAE's features as figures and JSON (`sae features`): for the `top` features with the best board F1, the
/// correlation of each one's activation with every square being mine, theirs and empty (correlations.png) and its
/// most activating positions (top-positions.png); the histogram of every feature's log10 firing frequency
/// (frequencies.png); and per feature its frequency, best board element and F1 (features.json).
public enum SAEFeatureReport {
    /// One feature in features.json.
    public struct Feature: Codable {
        public var feature: Int
        public var frequency: Double
        public var bestElement: String
        public var bestF1: Double
    }

    /// Features per bin of `frequencyHistogram`: bin 0 holds the dead features, bin k (1…7) those with
    /// 10^(k−7) ≤ frequency < 10^(k−6) (the last bin also takes frequency 1).
    public static func frequencyHistogram(_ frequencies: [Double]) -> [Double] {
        var histogram = [Double](repeating: 0, count: 8)
        for f in frequencies { histogram[f == 0 ? 0 : min(7, max(1, Int((log10(f) + 7).rounded(.down))))] += 1 }
        return histogram
    }

    public static func write(_ evaluation: SAEEvaluation, of autoencoder: SparseAutoencoder, model transformer: HookedTransformer,
                             games: GameDataset, top: Int, batchSize: Int, to folder: URL) throws {
        let chosen = zip(evaluation.board.features, zip(evaluation.board.bestElement, evaluation.board.bestF1))
            .sorted { $0.1.1 > $1.1.1 }.prefix(top).map { (feature: $0.0, element: $0.1.0, f1: $0.1.1) }
        let profiles = try SAEFeatureProfiles.compute(autoencoder, model: transformer, games: games, features: chosen.map(\.feature), batchSize: batchSize)
        var boards: [BoardHeatmap] = []
        for (i, c) in chosen.enumerated() {
            for (k, name) in ["mine", "theirs", "empty"].enumerated() {
                boards.append(BoardHeatmap(values: profiles.correlation[i][k].map { Optional($0) },
                                           title: String(format: "F%d %@ (best: %@ %.2f)", c.feature, name, BoardProperty.name(c.element), c.f1)))
            }
        }
        try BoardGrid(boards: boards, columns: 3, title: "Correlation of each feature's activation with the squares' states",
                      scale: .diverging(limit: 1, label: "correlation"), cellSize: 18)
            .write(to: folder.appendingPathComponent("correlations.png"))
        let histogram = frequencyHistogram(evaluation.frequencies)
        try LinePlot(series: [LineSeries("features", x: (0..<8).map(Double.init), y: histogram, markers: true)],
                     title: "Firing frequency of the \(autoencoder.dSAE) features (x = 0: dead; x = k: 10^(k−7) ≤ frequency < 10^(k−6))",
                     xLabel: "log10(frequency) + 7", yLabel: "features")
            .write(to: folder.appendingPathComponent("frequencies.png"))
        var topBoards: [BoardHeatmap] = []
        for (i, c) in chosen.enumerated() {
            for (game, position, value) in profiles.top[i] {
                let step = try GameReplay(moves: Array(games[game].prefix(position + 1))).steps.last!
                let discs: [Disc?] = step.board.colours.map { $0 == .black ? .black : $0 == .white ? .white : nil }
                topBoards.append(BoardHeatmap(values: [Double?](repeating: nil, count: 64), discs: discs, marks: [BoardMark(step.move, .played)],
                                              title: String(format: "F%d %.2f", c.feature, value)))
            }
        }
        try BoardGrid(boards: topBoards, columns: SAEFeatureProfiles.topCount, title: "Most activating positions of each feature (ring: the last move)",
                      scale: .diverging(limit: 1, label: ""), cellSize: 14)
            .write(to: folder.appendingPathComponent("top-positions.png"))
        let json = zip(evaluation.board.features, zip(evaluation.board.bestElement, evaluation.board.bestF1)).map {
            Feature(feature: $0.0, frequency: evaluation.frequencies[$0.0], bestElement: BoardProperty.name($0.1.0), bestF1: $0.1.1)
        }
        try AtomicFile.write(try JSONOutput.encoder.encode(json), to: folder.appendingPathComponent("features.json"))
    }
}
