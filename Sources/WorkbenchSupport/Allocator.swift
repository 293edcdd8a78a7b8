#if canImport(Glibc)
import Glibc
#endif

/// Process-wide settings of the C allocator, which every Swift array and activation buffer comes from.
public enum Allocator {
    /// Makes `malloc` keep the memory a program frees and hand it out again, instead of returning it to the
    /// system and taking fresh pages (which the kernel must fault in and zero) for the next allocation.
    ///
    /// A run with cache allocates its tensors anew on every call — for 64 games and every hook point about
    /// 1.3 GB — and by default glibc serves blocks of that size with `mmap` and unmaps them on `free`, so each
    /// call paid for ~300,000 page faults (a quarter of a forward pass). With a mmap threshold of 1 GiB and a
    /// trim threshold of 4 GiB, freed blocks stay in the heap for the next call. The resident size of a process
    /// then stays at its peak. Glibc only; elsewhere this does nothing. The `othello-gpt` executable calls it
    /// at start.
    public static func keepFreedMemory() {
        #if canImport(Glibc)
        // `mallopt` is declared in <malloc.h>, which Swift's Glibc module leaves out; look it up instead.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let (trimThreshold, mmapThreshold): (Int32, Int32) = (-1, -3)   // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
        _ = mallopt(mmapThreshold, 1 << 30)
        _ = mallopt(trimThreshold, Int32.max)
        #endif
    }
}
