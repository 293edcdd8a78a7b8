import Foundation
import OthelloModel
import WorkbenchSupport

/// A positive control for the SAE trainer: activations built from known sparse directions plus noise, on which a
/// trained SAE must find those directions again (`othello-gpt sae control`).
///
/// Each of `samples` rows is `Σ aᵢ dᵢ + noise · ε`: `active` of the `features` unit directions `dᵢ` (random, seeded),
/// each with a magnitude `aᵢ` uniform in [0.5, 1.5], and Gaussian noise. A TopK SAE with k = `active` and as many
/// latents as there are features is trained on them with the workbench's SAE step; the score is, for every known
/// direction, the largest cosine with a decoder row, averaged (1: every direction found).
///
///     let result = KnownFeaturesControl().run()
///     result.meanMaxCosine   // ≥ 0.95 when the trainer works
public struct KnownFeaturesControl {
    public var dIn = 64
    public var features = 128
    public var active = 4
    public var samples = 20_000
    public var noise: Float = 0.01
    public var steps = 3000
    public var batch = 256
    public var learningRate: Float = 1e-3
    public var seed: UInt64 = 1

    public init() {}

    public struct Result: Codable, Sendable {
        /// Mean over the known directions of the largest cosine with a decoder row.
        public var meanMaxCosine: Double
        /// Share of the known directions with a decoder row at cosine ≥ 0.9.
        public var recovered: Double
        /// The SAE's mean active latents per row and explained variance on the data.
        public var l0: Double
        public var explainedVariance: Double
        public var seconds: Double
    }

    /// The known directions (`features × d_in`, unit rows) and the activations (`samples × d_in`).
    public func data() -> (directions: [Float], activations: [Float]) {
        var random = SeededRandom(seed: seed, stream: 29)
        var directions = (0..<(features * dIn)).map { _ in random.nextGaussian() }
        for f in 0..<features {
            let norm = (0..<dIn).reduce(Float(0)) { $0 + directions[f * dIn + $1] * directions[f * dIn + $1] }.squareRoot()
            for j in 0..<dIn { directions[f * dIn + j] /= norm }
        }
        var x = [Float](repeating: 0, count: samples * dIn)
        for r in 0..<samples {
            var chosen: Set<Int> = []
            while chosen.count < active { chosen.insert(random.next(below: features)) }
            for f in chosen.sorted() {
                let a = 0.5 + random.nextUnitFloat()
                for j in 0..<dIn { x[r * dIn + j] += a * directions[f * dIn + j] }
            }
            for j in 0..<dIn { x[r * dIn + j] += noise * random.nextGaussian() }
        }
        return (directions, x)
    }

    public func run() throws -> Result {
        guard dIn >= 1, features >= 1, (1...features).contains(active), samples >= batch, steps >= 1, batch >= 1 else {
            throw WorkbenchError("sae control: give --d-in, --features, --steps and --batch ≥ 1, --active from 1 to --features, --samples ≥ --batch")
        }
        let (directions, x) = data()
        var sae = SparseAutoencoder(dIn: dIn, dSAE: features, kind: .topK(active), hook: "synthetic", seed: seed)
        let (seconds, _) = SAEBenchmark.time(&sae, data: x, rows: samples, steps: steps, batch: batch, learningRate: learningRate)
        // Cosines of every known direction with every decoder row (unit rows both).
        var best = [Float](repeating: -1, count: features)
        for f in 0..<features {
            for i in 0..<sae.dSAE {
                var dot: Float = 0
                for j in 0..<dIn { dot += directions[f * dIn + j] * sae.parameters[sae.decoderWeights + i * dIn + j] }
                best[f] = max(best[f], dot)
            }
        }
        let f = sae.encode(x, rows: samples), reconstruction = sae.decode(f, rows: samples)
        var mean = [Double](repeating: 0, count: dIn)
        for r in 0..<samples { for j in 0..<dIn { mean[j] += Double(x[r * dIn + j]) / Double(samples) } }
        var error = 0.0, variance = 0.0
        for r in 0..<samples {
            for j in 0..<dIn {
                let v = Double(x[r * dIn + j])
                error += (Double(reconstruction[r * dIn + j]) - v) * (Double(reconstruction[r * dIn + j]) - v)
                variance += (v - mean[j]) * (v - mean[j])
            }
        }
        return Result(meanMaxCosine: best.map(Double.init).reduce(0, +) / Double(features),
                      recovered: Double(best.filter { $0 >= 0.9 }.count) / Double(features),
                      l0: Double(f.filter { $0 > 0 }.count) / Double(samples), explainedVariance: 1 - error / max(variance, 1e-12), seconds: seconds)
    }
}
