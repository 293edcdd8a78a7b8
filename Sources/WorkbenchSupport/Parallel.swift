import Foundation

/// Runs `body(chunk)` for `chunks` chunks of work on up to `threads` threads and waits.
///
/// Work is split by index, not by thread, so seeded results do not depend on `threads`.
///
///     Parallel.forEach(chunks: 64, threads: 2) { chunk in work(chunk) }
public enum Parallel {
    /// The number of cores (`ProcessInfo.activeProcessorCount`).
    public static var coreCount: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// Runs `body` for every chunk `0..<chunks` and returns when all are done.
    public static func forEach(chunks: Int, threads: Int = Parallel.coreCount, _ body: @escaping @Sendable (Int) -> Void) {
        guard chunks > 0 else { return }
        let workers = max(1, min(threads, chunks))
        if workers == 1 {
            for chunk in 0..<chunks { body(chunk) }
            return
        }
        let next = ManagedCounter()
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let chunk = next.increment()
                if chunk >= chunks { break }
                body(chunk)
            }
        }
    }
}

extension Parallel {
    /// Runs `body(chunk, rows)` over `0..<rows` split into `chunks` contiguous, nearly equal ranges (chunk `c` is
    /// `rows·c/chunks ..< rows·(c+1)/chunks`), on up to `threads` threads: for loops over rows whose chunks keep
    /// partial sums of their own, indexed by `chunk`.
    ///
    ///     Parallel.forEachRowChunk(rows: B, chunks: 2) { chunk, rows in for r in rows { sums[chunk] += x[r] } }
    public static func forEachRowChunk(rows: Int, chunks: Int, threads: Int = Parallel.coreCount,
                                       _ body: @escaping @Sendable (_ chunk: Int, _ rows: Range<Int>) -> Void) {
        guard chunks > 0 else { return }
        forEach(chunks: chunks, threads: threads) { c in body(c, (rows * c / chunks)..<(rows * (c + 1) / chunks)) }
    }
}

/// A pointer handed to the chunks of `Parallel.forEach`, each of which reads or writes only its own part
/// of the memory (so sharing it is safe, which the compiler cannot see).
///
///     let out = SharedPointer(buffer.baseAddress!)
///     Parallel.forEach(chunks: 8) { chunk in out[chunk] = work(chunk) }
public struct SharedPointer<Element>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Element>

    public init(_ base: UnsafeMutablePointer<Element>) { self.base = base }
    public init(_ base: UnsafePointer<Element>) { self.base = UnsafeMutablePointer(mutating: base) }

    public subscript(index: Int) -> Element {
        get { base[index] }
        nonmutating set { base[index] = newValue }
    }
}

/// A thread-safe counter handing out 0, 1, 2, ...
final class ManagedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func increment() -> Int {
        lock.lock(); defer { lock.unlock() }
        value += 1
        return value - 1
    }
}
