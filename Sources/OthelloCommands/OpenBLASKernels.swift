import Foundation

/// OpenBLAS picks its kernels for the CPU when it loads; Debian's OpenBLAS 0.3.21 does not know recent
/// Intel CPUs (Sapphire Rapids and later) and falls back to its generic "Prescott" (SSE3) kernels, which
/// multiply matrices several times slower than its AVX2/AVX-512 ones. The choice can only be forced
/// before the library loads, through the environment variable `OPENBLAS_CORETYPE`.
///
/// `ensureTunedKernels()` re-executes the process once with `OPENBLAS_CORETYPE` set (SkylakeX on CPUs
/// with AVX-512, Haswell on CPUs with AVX2 and FMA) when OpenBLAS reports "Prescott" on such a CPU.
/// It does nothing when the variable is already set (so `OPENBLAS_CORETYPE=Prescott` keeps the
/// generic kernels), on other systems, or when OpenBLAS chose well.
enum OpenBLASKernels {
    /// Off in tests, which run commands inside the test process.
    static var reexecutes = true

    static func ensureTunedKernels() {
        #if os(Linux)
        guard reexecutes, ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil, currentCore == "Prescott",
              let core = bestCore() else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        fflush(stdout)
        fflush(stderr)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv returns only on failure: carry on with the generic kernels.
        #endif
    }

    /// The kernels OpenBLAS chose (`openblas_get_corename`), nil if the symbol is missing.
    static var currentCore: String? {
        typealias CoreName = @convention(c) () -> UnsafePointer<CChar>?
        guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "openblas_get_corename"),
              let name = unsafeBitCast(symbol, to: CoreName.self)() else { return nil }
        return String(cString: name)
    }

    /// The best OpenBLAS core type for this CPU's instruction sets, from /proc/cpuinfo.
    static func bestCore() -> String? {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(line.split(separator: " ").map(String.init))
        if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }
}
