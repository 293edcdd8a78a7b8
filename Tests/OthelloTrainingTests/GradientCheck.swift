import Foundation
import WorkbenchSupport
import XCTest

/// Finite-difference checks of analytic gradients.
///
/// `loss()` is a scalar computed (in Double) from a Float forward pass; each sampled element of `values`
/// is nudged by ±h and the central difference compared with `analytic` at that element, within
/// `tolerance` × (the largest |analytic| of the tensor) + `floor`.
func checkGradient(_ name: String, values: UnsafeMutablePointer<Float>, count: Int, analytic: [Float],
                   samples: Int = 16, h: Float = 1e-2, tolerance: Double = 1e-2, floor: Double = 1e-6,
                   seed: UInt64 = 1, loss: () throws -> Double, file: StaticString = #filePath, line: UInt = #line) rethrows {
    XCTAssertEqual(analytic.count, count, "\(name): analytic gradient size", file: file, line: line)
    let scale = Double(analytic.map(abs).max() ?? 0)
    XCTAssertGreaterThan(scale, 0, "\(name): the analytic gradient is all zeros", file: file, line: line)
    var random = SeededRandom(seed: seed, stream: UInt64(count))
    // The largest element is always checked, the rest sampled.
    let largest = analytic.indices.max { abs(analytic[$0]) < abs(analytic[$1]) } ?? 0
    let indices = [largest] + (0..<min(samples, count)).map { _ in random.next(below: count) }
    for i in indices {
        let saved = values[i]
        values[i] = saved + h
        let plus = try loss()
        values[i] = saved - h
        let minus = try loss()
        values[i] = saved
        let numeric = (plus - minus) / Double(2 * h)
        XCTAssertEqual(numeric, Double(analytic[i]), accuracy: tolerance * scale + floor,
                       "\(name)[\(i)]: finite difference \(numeric), backward \(analytic[i])", file: file, line: line)
    }
}

/// `count` seeded Gaussian floats times `std`.
func gaussian(_ count: Int, seed: UInt64, std: Float = 1) -> [Float] {
    var random = SeededRandom(seed: seed, stream: 99)
    return (0..<count).map { _ in std * random.nextGaussian() }
}

/// Σ r_i · x_i in Double: a scalar whose gradient with respect to x is r.
func weightedSum(_ x: UnsafePointer<Float>, _ r: [Float]) -> Double {
    var total = 0.0
    for i in r.indices { total += Double(r[i]) * Double(x[i]) }
    return total
}

/// A heap buffer of Floats for kernel tests (kernels take raw pointers).
final class Buffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(_ values: [Float]) {
        count = values.count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }

    convenience init(zeros count: Int) { self.init([Float](repeating: 0, count: count)) }

    deinit { pointer.deallocate() }

    var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
    func zero() { pointer.update(repeating: 0, count: count) }
}
