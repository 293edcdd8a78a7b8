import COpenBLAS
import Foundation

/// A dense, row-major array of `Float` with a shape: what the cache hands out, what weight files
/// are read into, and what the small one-off computations of weight processing use.
///
/// The hot path (the forward pass) does not use `Tensor`; it runs the kernels in `Kernels` over
/// flat buffers. `Tensor` is for everything around it.
///
///     var x = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
///     let y = x.matmul(Tensor(shape: [3, 1], values: [1, 1, 1]))   // [[6], [15]]
///     x[[1, 2]] = 0
public struct Tensor: Equatable {
    public private(set) var shape: [Int]
    /// The elements in row-major (C) order; `values.count == shape.reduce(1, *)`.
    public var values: [Float]

    /// A tensor with `shape` holding `values` (row-major). The counts must agree.
    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "Tensor: shape \(shape) does not hold \(values.count) values")
        self.shape = shape
        self.values = values
    }

    /// A tensor of zeros (or `value`) with `shape`.
    public init(shape: [Int], repeating value: Float = 0) {
        self.shape = shape
        self.values = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor whose values are left for the caller to write (every one of them) before reading.
    init(uninitializedShape shape: [Int]) {
        self.shape = shape
        let count = shape.reduce(1, *)
        self.values = [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    /// A tensor copied from `count` floats at `pointer`.
    public init(shape: [Int], copying pointer: UnsafePointer<Float>) {
        self.shape = shape
        self.values = Array(UnsafeBufferPointer(start: pointer, count: shape.reduce(1, *)))
    }

    public var count: Int { values.count }
    public var rank: Int { shape.count }

    /// Row-major strides of `shape`.
    public static func strides(of shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = step
            step *= shape[axis]
        }
        return strides
    }

    /// The flat offset of a multi-index.
    public func offset(_ index: [Int]) -> Int { Self.offset(of: index, in: shape) }

    /// The row-major flat offset of `index` in an array of `shape` (traps on an index outside it).
    static func offset(of index: [Int], in shape: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) for shape \(shape)")
        var offset = 0
        for (axis, i) in index.enumerated() {
            precondition(i >= 0 && i < shape[axis], "index \(index) out of range for shape \(shape)")
            offset = offset * shape[axis] + i
        }
        return offset
    }

    /// The element at a full multi-index (traps outside the shape).
    public subscript(_ index: [Int]) -> Float {
        get { values[offset(index)] }
        set { values[offset(index)] = newValue }
    }

    /// The same values with another shape of the same count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, values: values)
    }

    /// The sub-tensor at `index` along the first axis (e.g. one game of a batch).
    public func slice(_ index: Int) -> Tensor {
        precondition(rank >= 1 && index >= 0 && index < shape[0], "Tensor: slice \(index) of shape \(shape)")
        let size = count / shape[0]
        return Tensor(shape: Array(shape.dropFirst()), values: Array(values[(index * size)..<((index + 1) * size)]))
    }

    /// The transpose of a matrix.
    public func transposed() -> Tensor {
        precondition(rank == 2, "Tensor.transposed: rank \(rank)")
        let (rows, cols) = (shape[0], shape[1])
        var out = [Float](repeating: 0, count: count)
        for r in 0..<rows { for c in 0..<cols { out[c * rows + r] = values[r * cols + c] } }
        return Tensor(shape: [cols, rows], values: out)
    }

    /// The matrix product `self · other` of `[m, k]` and `[k, n]` (OpenBLAS sgemm).
    public func matmul(_ other: Tensor) -> Tensor {
        precondition(rank == 2 && other.rank == 2 && shape[1] == other.shape[0], "Tensor.matmul: \(shape) · \(other.shape)")
        let (m, k, n) = (shape[0], shape[1], other.shape[1])
        var out = Tensor(shape: [m, n])
        values.withUnsafeBufferPointer { a in
            other.values.withUnsafeBufferPointer { b in
                out.values.withUnsafeMutableBufferPointer { c in
                    Matmul.gemm(m: m, n: n, k: k, a: a.baseAddress!, lda: k, b: b.baseAddress!, ldb: n,
                                c: c.baseAddress!, ldc: n)
                }
            }
        }
        return out
    }

    /// The largest absolute difference to `other` (same shape), for tests and checks.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "Tensor.maxAbsDifference: \(shape) vs \(other.shape)")
        var worst: Float = 0
        for i in 0..<count {
            let (a, b) = (values[i], other.values[i])
            if a == b { continue }   // equal infinities
            worst = max(worst, abs(a - b))
        }
        return worst
    }
}

/// Row-major matrix products through OpenBLAS `cblas_sgemm`, the only way this package multiplies matrices.
///
///     // C[m,n] = A[m,k] · B[k,n]
///     Matmul.gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: c, ldc: n)
public enum Matmul {
    /// `C = alpha · op(A) · op(B) + beta · C`, all row-major; `op(X)` is `Xᵀ` when `transposeX`.
    /// `op(A)` is `[m, k]`, `op(B)` is `[k, n]`, `C` is `[m, n]`; `ld*` are the row strides as stored.
    @inline(__always)
    public static func gemm(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        alpha: Float = 1, beta: Float = 0
    ) {
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Sets up OpenBLAS for this workbench before it loads: the CPU's own kernels, and worker threads that
    /// go to sleep soon after a product instead of spinning.
    ///
    /// - Kernels: OpenBLAS picks them from the CPU model when it loads; inside some virtual machines it does not
    ///   recognise the processor and falls back to its generic `Prescott` kernels, 4–5× slower. Then, when the
    ///   CPU has AVX-512 or AVX2, `OPENBLAS_CORETYPE` is set (`SkylakeX` or `Haswell`).
    /// - Spinning: after a product OpenBLAS' threads busy-wait for new work for 2²⁸ cycles (about 0.1 s) by
    ///   default. The forward pass alternates products with its own threaded kernels (layer norms, GELU,
    ///   attention), which then compete with the spinning threads for the cores: with 2 cores, a pass ran
    ///   20–40% slower. `OPENBLAS_THREAD_TIMEOUT=16` (2¹⁶ cycles, tens of microseconds) ends that.
    ///
    /// OpenBLAS reads both variables only at load time, so when one must be set this re-runs the current program
    /// with it. Variables the user set are kept as they are. Does nothing inside a test runner (an `.xctest`
    /// executable, which must not start over). The `othello-gpt` executable calls it first thing.
    public static func configureOpenBLAS() {
        let environment = ProcessInfo.processInfo.environment
        guard !(CommandLine.arguments.first ?? "").hasSuffix(".xctest") else { return }
        var restart = false
        if environment["OPENBLAS_THREAD_TIMEOUT"] == nil {
            setenv("OPENBLAS_THREAD_TIMEOUT", "16", 1)
            restart = true
        }
        if environment["OPENBLAS_CORETYPE"] == nil, let core = betterCore() {
            setenv("OPENBLAS_CORETYPE", core, 1)
            restart = true
        }
        guard restart else { return }
        let arguments = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", arguments)   // returns only on failure: then carry on as loaded
    }

    /// `SkylakeX` or `Haswell` when OpenBLAS fell back to its generic `Prescott` kernels on a CPU with AVX-512 or
    /// AVX2; nil when it recognised the CPU.
    private static func betterCore() -> String? {
        guard coreName == "Prescott", let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// The kernels OpenBLAS chose (`openblas_get_corename`: `SkylakeX`, `Haswell`, `Prescott`, …), or `unknown`.
    public static var coreName: String {
        typealias CoreName = @convention(c) () -> UnsafePointer<CChar>?
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "openblas_get_corename"),
              let name = unsafeBitCast(symbol, to: CoreName.self)() else { return "unknown" }
        return String(cString: name)
    }

    /// Sets the number of OpenBLAS threads (for benchmarks and `--threads`); OpenBLAS caps it at what it supports.
    public static func setThreads(_ threads: Int) {
        openblas_set_num_threads(Int32(clamping: max(1, threads)))
    }

    /// The number of OpenBLAS threads in use.
    public static var threads: Int { Int(openblas_get_num_threads()) }
}
