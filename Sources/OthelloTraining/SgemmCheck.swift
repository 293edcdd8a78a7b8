import COpenBLAS
import Foundation
import OthelloModel
import WorkbenchSupport

/// Is the active OpenBLAS kernel right on this CPU? Its sgemm against a float64 product, on every matrix shape a
/// model's training step and forward pass use, with one thread and with several (OpenBLAS splits a product
/// between threads differently).
///
/// Each entry's error is measured against the classic bound of a float32 dot product of length k,
/// |ĉ − c| ≤ k·u·Σₚ|aₚ||bₚ| (u = 2⁻²⁴, the unit roundoff): `worstErrorToBound` is the largest ratio over the
/// product's entries. A correct kernel stays well under 1 (rounding errors mostly cancel: 0.001–0.15 on the
/// workbench's shapes, the most for the shortest products, k = 32); a wrong one (a kernel for another CPU, a bad build)
/// is far over it.
///
///     for shape in SgemmCheck.shapes(config: config) {
///         let result = SgemmCheck.run(shape, threads: 2)
///         print(shape, result.worstErrorToBound, result.passed)
///     }
public enum SgemmCheck {
    /// One product `C[m, n] = op(A) · op(B)`, row-major, `op(X) = Xᵀ` when `transX`.
    public struct Shape: Hashable, Codable, CustomStringConvertible {
        public var transA: Bool
        public var transB: Bool
        public var m: Int
        public var n: Int
        public var k: Int

        public init(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int) {
            (self.transA, self.transB, self.m, self.n, self.k) = (transA, transB, m, n, k)
        }

        /// For example `944×256ᵀ · 256×768`: the shapes of op(A) and op(B), ᵀ where stored transposed.
        public var description: String { "\(m)×\(k)\(transA ? "ᵀ" : "") · \(k)×\(n)\(transB ? "ᵀ" : "")" }
        public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
    }

    public struct Result: Codable {
        public var shape: Shape
        public var threads: Int
        /// The largest |ĉ − c| / (k·u·Σ|a||b|) over the entries; nil when an entry is not finite (or not 0 where
        /// every term is 0).
        public var worstErrorToBound: Double?
        /// The sgemm rate on this shape (median of 5 timings).
        public var gflops: Double
        /// Every entry within the bound.
        public var passed: Bool { (worstErrorToBound ?? .infinity) <= 1 }
    }

    /// The distinct shapes of a training step (shards of `gamesPerShard` games) and of a forward pass over
    /// `forwardGames` games (the linear maps; attention is per game, as in training), in order of first use.
    public static func shapes(config: ModelConfig, gamesPerShard: Int = 16, forwardGames: Int = 64) -> [Shape] {
        var shapes = GemmReplay.calls(config: config, gamesPerShard: gamesPerShard)
            .map { Shape(transA: $0.transA, transB: $0.transB, m: $0.m, n: $0.n, k: $0.k) }
        let rows = forwardGames * Trainer.positions
        let (C, H, D, M, V) = (config.dModel, config.nHeads, config.dHead, config.dMLP, config.dVocab)
        shapes += [Shape(m: rows, n: rows >= Kernels.packedHeadsFromRows ? H * D : D, k: C),   // W_Q, W_K, W_V
                   Shape(m: rows, n: C, k: D),                                                  // W_O, per head
                   Shape(m: rows, n: M, k: C), Shape(m: rows, n: C, k: M), Shape(m: rows, n: V, k: C)]
        var seen = Set<Shape>()
        return shapes.filter { seen.insert($0).inserted }
    }

    /// Runs `shape` through `cblas_sgemm` with `threads` OpenBLAS threads on uniform random entries in [−1, 1)
    /// (from `seed`), compares it with the same product in float64, and times it.
    public static func run(_ shape: Shape, threads: Int, seed: UInt64 = 1) -> Result {
        let (m, n, k) = (shape.m, shape.n, shape.k)
        var random = SeededRandom(seed: seed, stream: UInt64(m * 1_000_003 + n * 1009 + k))
        let a = (0..<(m * k)).map { _ in Float.random(in: -1..<1, using: &random) }
        let b = (0..<(k * n)).map { _ in Float.random(in: -1..<1, using: &random) }
        var c = [Float](repeating: 0, count: m * n)
        let saved = Matmul.threads
        Matmul.setThreads(threads)
        defer { Matmul.setThreads(saved) }
        let lda = shape.transA ? m : k, ldb = shape.transB ? k : n
        func product() {
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer { c in
                        Matmul.gemm(m: m, n: n, k: k, a: a.baseAddress!, lda: lda, transposeA: shape.transA,
                                    b: b.baseAddress!, ldb: ldb, transposeB: shape.transB, c: c.baseAddress!, ldc: n)
                    }
                }
            }
        }
        product()
        let (exact, scale) = float64Product(shape, a: a, b: b)
        let worst = worstErrorToBound(computed: c, exact: exact, scale: scale, k: k)
        // Each timing repeats the product for about 10 ms at 100 GFLOP/s.
        let repeats = max(1, Int(1e9 / shape.flops))
        let seconds = (0..<5).map { _ in
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<repeats { product() }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(repeats)
        }.sorted()[2]
        return Result(shape: shape, threads: threads, worstErrorToBound: worst, gflops: shape.flops / seconds / 1e9)
    }

    /// `op(A) · op(B)` in float64 from the stored float32 entries, and `|op(A)| · |op(B)|` (the scale of each
    /// entry's rounding error).
    static func float64Product(_ shape: Shape, a: [Float], b: [Float]) -> (product: [Double], scale: [Double]) {
        let (m, n, k) = (shape.m, shape.n, shape.k)
        // op(A) as [m, k] and op(B) as [k, n], row-major.
        let opA = (0..<(m * k)).map { index -> Double in
            let (i, p) = index.quotientAndRemainder(dividingBy: k)
            return Double(shape.transA ? a[p * m + i] : a[i * k + p])
        }
        let opB = (0..<(k * n)).map { index -> Double in
            let (p, j) = index.quotientAndRemainder(dividingBy: n)
            return Double(shape.transB ? b[j * k + p] : b[p * n + j])
        }
        var product = [Double](repeating: 0, count: m * n), scale = [Double](repeating: 0, count: m * n)
        opA.withUnsafeBufferPointer { opA in
            opB.withUnsafeBufferPointer { opB in
                product.withUnsafeMutableBufferPointer { product in
                    scale.withUnsafeMutableBufferPointer { scale in
                        for i in 0..<m {
                            for p in 0..<k {
                                let x = opA[i * k + p], magnitude = abs(x)
                                for j in 0..<n {
                                    let y = opB[p * n + j]
                                    product[i * n + j] += x * y
                                    scale[i * n + j] += magnitude * abs(y)
                                }
                            }
                        }
                    }
                }
            }
        }
        return (product, scale)
    }

    /// The largest |computed − exact| / (k·u·scale) over the entries, u = 2⁻²⁴; nil if a computed entry is not
    /// finite, or not 0 where its scale is 0 (every term of its dot product 0).
    public static func worstErrorToBound(computed: [Float], exact: [Double], scale: [Double], k: Int) -> Double? {
        precondition(computed.count == exact.count && exact.count == scale.count)
        let unit = Double(k) * 0x1p-24
        var worst = 0.0
        for index in computed.indices {
            guard computed[index].isFinite else { return nil }
            let error = abs(Double(computed[index]) - exact[index])
            if scale[index] > 0 {
                worst = max(worst, error / (unit * scale[index]))
            } else if error > 0 {
                return nil
            }
        }
        return worst
    }
}
