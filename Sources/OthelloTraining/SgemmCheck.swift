import COpenBLAS
import Foundation
import OthelloModel
import WorkbenchSupport

/// Is the active OpenBLAS kernel right on this CPU? Its sgemm against a float64 product, on every matrix shape a
/// model's training step and forward pass use, with one thread and with several (OpenBLAS splits a product
/// between threads differently).
///
/// Each entry's error is measured against the classic bound of a float32 dot product of length k, scaled by α and
/// added to β·c: |ĉ − c| ≤ (k + 2)·u·(|β·c₀| + |α|·Σₚ|aₚ||bₚ|) (u = 2⁻²⁴, the unit roundoff; two more roundings than
/// the k of the dot product): `worstErrorToBound` is the largest ratio over the product's entries. A correct kernel stays well under 1 (rounding errors mostly cancel: 0.001–0.15 on the
/// workbench's shapes, the most for the shortest products, k = 32); a wrong one (a kernel for another CPU, a bad build)
/// is far over it.
///
///     for shape in SgemmCheck.shapes(config: config) {
///         let result = SgemmCheck.run(shape, threads: 2)
///         print(shape, result.worstErrorToBound, result.passed)
///     }
public enum SgemmCheck {
    /// One product `C[m, n] = α · op(A) · op(B) + β · C`, row-major, `op(X) = Xᵀ` when `transX`.
    public struct Shape: Hashable, Codable, CustomStringConvertible {
        public var transA: Bool
        public var transB: Bool
        public var m: Int
        public var n: Int
        public var k: Int
        public var alpha: Float
        public var beta: Float

        public init(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0) {
            (self.transA, self.transB, self.m, self.n, self.k, self.alpha, self.beta) = (transA, transB, m, n, k, alpha, beta)
        }

        /// For example `944×256ᵀ · 256×768 + C`: the shapes of op(A) and op(B), ᵀ where stored transposed, then α and β
        /// where they are not 1 and 0.
        public var description: String {
            (alpha == 1 ? "" : String(format: "%.4g × ", alpha)) + "\(m)×\(k)\(transA ? "ᵀ" : "") · \(k)×\(n)\(transB ? "ᵀ" : "")"
                + (beta == 0 ? "" : beta == 1 ? " + C" : String(format: " + %.4g C", beta))
        }
        public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
    }

    public struct Result: Codable {
        public var shape: Shape
        /// OpenBLAS threads in use (it caps what is asked for at what it supports).
        public var threads: Int
        /// The largest |ĉ − c| / ((k + 2)·u·(|β·c₀| + |α|·Σ|a||b|)) over the entries; nil when an entry is not
        /// finite (or not exact where every term is 0).
        public var worstErrorToBound: Double?
        /// The sgemm rate on this shape (median of 5 timings).
        public var gflops: Double
        /// Every entry within the bound.
        public var passed: Bool { (worstErrorToBound ?? .infinity) <= 1 }
    }

    /// The distinct products of a training step (shards of `gamesPerShard` games, as `bench train` replays them) and
    /// of a forward pass over `forwardGames` games, in order of first use. The forward pass's linear maps start from
    /// their bias (β = 1) and its attention scores are scaled by 1/√d_head (α), as the model computes them (its
    /// strided operands are checked packed).
    public static func shapes(config: ModelConfig, gamesPerShard: Int = 16, forwardGames: Int = 64) -> [Shape] {
        var shapes = GemmReplay.calls(config: config, gamesPerShard: gamesPerShard)
            .map { Shape(transA: $0.transA, transB: $0.transB, m: $0.m, n: $0.n, k: $0.k) }
        let rows = forwardGames * Trainer.gamePositions, T = Trainer.gamePositions
        let (C, H, D, M, V) = (config.dModel, config.nHeads, config.dHead, config.dMLP, config.dVocab)
        shapes += [Shape(m: rows, n: rows >= Kernels.packedHeadsFromRows ? H * D : D, k: C, beta: 1),   // W_Q, W_K, W_V
                   Shape(m: T, n: T, k: D, alpha: 1 / Float(D).squareRoot()),                           // attention scores
                   Shape(m: rows, n: C, k: H * D, beta: 1),                                             // W_O
                   Shape(m: rows, n: C, k: D),                                                          // W_O per head (hook_result)
                   Shape(m: rows, n: M, k: C, beta: 1), Shape(m: rows, n: C, k: M, beta: 1), Shape(m: rows, n: V, k: C, beta: 1)]
        var seen = Set<Shape>()
        return shapes.filter { seen.insert($0).inserted }
    }

    /// Runs `shape` through `cblas_sgemm` with `threads` OpenBLAS threads on uniform random entries in [−1, 1)
    /// (from `seed`; C too, when β ≠ 0), compares it with the same product in float64, and times it.
    public static func run(_ shape: Shape, threads: Int, seed: UInt64 = 1) -> Result {
        let (m, n, k) = (shape.m, shape.n, shape.k)
        var random = SeededRandom(seed: seed, stream: UInt64(m * 1_000_003 + n * 1009 + k))
        let a = (0..<(m * k)).map { _ in Float.random(in: -1..<1, using: &random) }
        let b = (0..<(k * n)).map { _ in Float.random(in: -1..<1, using: &random) }
        let c0 = shape.beta == 0 ? [Float](repeating: 0, count: m * n) : (0..<(m * n)).map { _ in Float.random(in: -1..<1, using: &random) }
        var c = c0
        let saved = Matmul.threads
        Matmul.setThreads(threads)
        defer { Matmul.setThreads(saved) }
        let threadsInUse = Matmul.threads
        let lda = shape.transA ? m : k, ldb = shape.transB ? k : n
        func product() {
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer { c in
                        Matmul.gemm(m: m, n: n, k: k, a: a.baseAddress!, lda: lda, transposeA: shape.transA,
                                    b: b.baseAddress!, ldb: ldb, transposeB: shape.transB, c: c.baseAddress!, ldc: n,
                                    alpha: shape.alpha, beta: shape.beta)
                    }
                }
            }
        }
        product()
        let (exact, scale) = float64Product(shape, a: a, b: b, c: c0)
        let worst = worstErrorToBound(computed: c, exact: exact, scale: scale, k: k)
        // The timings accumulate into C when β ≠ 0; only its speed matters from here.
        // Each timing repeats the product for about 10 ms at 100 GFLOP/s.
        let repeats = max(1, Int(1e9 / shape.flops))
        let seconds = (0..<5).map { _ in
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<repeats { product() }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(repeats)
        }.sorted()[2]
        return Result(shape: shape, threads: threadsInUse, worstErrorToBound: worst, gflops: shape.flops / seconds / 1e9)
    }

    /// `α · op(A) · op(B) + β · C` in float64 from the stored float32 entries, and `|β · C| + |α| · |op(A)| · |op(B)|`
    /// (the scale of each entry's rounding error).
    static func float64Product(_ shape: Shape, a: [Float], b: [Float], c: [Float]) -> (product: [Double], scale: [Double]) {
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
        let (alpha, beta) = (Double(shape.alpha), Double(shape.beta))
        for index in product.indices {
            product[index] = alpha * product[index] + beta * Double(c[index])
            scale[index] = abs(alpha) * scale[index] + abs(beta * Double(c[index]))
        }
        return (product, scale)
    }

    /// The largest |computed − exact| / ((k + 2)·u·scale) over the entries, u = 2⁻²⁴; nil if a computed entry is not
    /// finite, or not exact where its scale is 0 (every term 0).
    public static func worstErrorToBound(computed: [Float], exact: [Double], scale: [Double], k: Int) -> Double? {
        precondition(computed.count == exact.count && exact.count == scale.count)
        let unit = Double(k + 2) * 0x1p-24
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
