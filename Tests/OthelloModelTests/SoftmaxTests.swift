import Foundation
import OthelloModel
import XCTest

/// The one softmax / cross-entropy against a float64 reference, including logits large enough that a naive
/// `exp` overflows (1e4) or underflows for every class but one.
final class SoftmaxTests: XCTestCase {
    /// Float64 reference: log-softmax by the max-shifted log-sum-exp.
    func referenceLogSoftmax(_ z: [Double]) -> [Double] {
        let maximum = z.max()!
        let logSum = log(z.reduce(0) { $0 + exp($1 - maximum) }) + maximum
        return z.map { $0 - logSum }
    }

    let rows: [[Float]] = [
        [0, 0, Float(log(2.0))],                 // hand-worked: [1/4, 1/4, 1/2]
        [1e4, 1e4 - 1, -1e4, 3],                 // exp(1e4) overflows without the shift
        [-1e4, -1e4 + 2, -1e4 + 1],              // exp(-1e4) underflows without the shift
        [88, 89, 90, -90, 0.5],
        [0.1, -0.2, 0.3, 0.05, -1.5, 2.25, 0, -0.75],
    ]

    func testProbabilitiesMatchFloat64() {
        XCTAssertEqual(Softmax.probabilities([0, 0, Float(log(2.0))]), [0.25, 0.25, 0.5])
        XCTAssertEqual(Softmax.probabilities([Float]()), [])
        for row in rows {
            let expected = referenceLogSoftmax(row.map(Double.init)).map(exp)
            for (p, e) in zip(Softmax.probabilities(row), expected) { XCTAssertEqual(Double(p), e, accuracy: 1e-6) }
            for target in row.indices {
                XCTAssertEqual(Double(Softmax.probability(of: target, in: row)), expected[target], accuracy: 1e-6)
            }
        }
    }

    func testCrossEntropyAndGradientMatchFloat64() {
        for row in rows {
            let reference = referenceLogSoftmax(row.map(Double.init))
            for target in row.indices {
                let scale: Float = 0.25
                var gradient = [Float](repeating: .nan, count: row.count)
                let loss = row.withUnsafeBufferPointer { z in
                    Softmax.crossEntropy(logits: z.baseAddress!, gradient: &gradient, count: row.count, target: target, gradientScale: scale)
                }
                XCTAssertEqual(Double(loss), -reference[target], accuracy: 1e-6 * max(1, -reference[target]), "\(row) → \(target)")
                let metric = row.withUnsafeBufferPointer { Softmax.negativeLogProbability(of: target, logits: $0.baseAddress!, count: row.count) }
                XCTAssertEqual(metric, -reference[target], accuracy: 1e-6 * max(1, -reference[target]), "\(row) → \(target)")
                for k in row.indices {
                    let expected = Double(scale) * (exp(reference[k]) - (k == target ? 1 : 0))
                    XCTAssertEqual(Double(gradient[k]), expected, accuracy: 1e-6)
                }
                // In place: the gradient replaces the logits, with the same values.
                var inPlace = row
                let again = inPlace.withUnsafeMutableBufferPointer { z in
                    Softmax.crossEntropy(logits: z.baseAddress!, gradient: z.baseAddress!, count: row.count, target: target, gradientScale: scale)
                }
                XCTAssertEqual(again, loss)
                XCTAssertEqual(inPlace, gradient)
            }
        }
    }
}
