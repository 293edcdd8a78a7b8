import Foundation

/// A share of memory that large buffers draw on together; what does not fit goes to a mapped temporary file.
///
///     let budget = MemoryBudget(bytes: 1 << 30)          // 1 GiB for the activation matrices made with it
///     let matrix = try ActivationMatrix(rows: 1_000_000, width: 512, budget: budget)
public final class MemoryBudget: @unchecked Sendable {
    public let bytes: Int
    private let lock = NSLock()
    private var used = 0

    public init(bytes: Int) { self.bytes = bytes }

    /// The budget every activation matrix shares unless given another: 4 GiB, or the
    /// `OTHELLO_GPT_ACTIVATION_MEMORY_MB` environment variable.
    public static let activations: MemoryBudget = {
        let megabytes = ProcessInfo.processInfo.environment["OTHELLO_GPT_ACTIVATION_MEMORY_MB"].flatMap { Int($0) }
        return MemoryBudget(bytes: (megabytes ?? 4096) << 20)
    }()

    /// Takes `count` bytes if they fit; false (and nothing taken) if not.
    func take(_ count: Int) -> Bool {
        lock.withLock {
            guard used + count <= bytes else { return false }
            used += count
            return true
        }
    }

    func give(_ count: Int) { lock.withLock { used -= count } }
}

/// A matrix of `rows × width` floats for cached activations: in memory while it fits in its `MemoryBudget`,
/// beyond it in an anonymous temporary file (mapped, and removed from its folder at once), so that the operating
/// system can page it out and 100,000 games' activations need not fit in memory.
public final class ActivationMatrix: @unchecked Sendable {
    public let rows: Int
    public let width: Int
    public let pointer: UnsafeMutablePointer<Float>
    private let bytes: Int
    private let budget: MemoryBudget?

    public init(rows: Int, width: Int, budget: MemoryBudget = .activations) throws {
        self.rows = rows
        self.width = width
        guard let bytes = checkedSize(of: [rows, width], elementSize: 4) else {
            throw WorkbenchError("activations of \(rows) rows × \(width) are too large")
        }
        self.bytes = bytes
        if budget.take(bytes) {
            self.budget = budget
            pointer = .allocate(capacity: max(1, rows * width))
            return
        }
        self.budget = nil
        let folder = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var template = Array("\(folder)/othello-gpt-activations-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw WorkbenchError("cannot create a temporary file in \(folder) for \(bytes >> 20) MiB of activations; set TMPDIR to a folder with room") }
        unlink(template)
        defer { close(fd) }
        guard ftruncate(fd, off_t(bytes)) == 0,
              let base = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), base != MAP_FAILED else {
            throw WorkbenchError("cannot map \(bytes >> 20) MiB of activations in \(folder); set TMPDIR to a folder with room")
        }
        pointer = base.bindMemory(to: Float.self, capacity: rows * width)
    }

    /// Whether the matrix lives in a mapped temporary file (it did not fit in its budget).
    public var isMapped: Bool { budget == nil }

    deinit {
        if let budget {
            pointer.deallocate()
            budget.give(bytes)
        } else {
            munmap(pointer, bytes)
        }
    }

    /// Row `row` (`width` floats).
    @inlinable public func row(_ row: Int) -> UnsafeMutablePointer<Float> { pointer + row * width }
}
