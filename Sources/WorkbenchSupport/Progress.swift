import Foundation

/// A progress bar on standard error for long work: count, rate, ETA and a free-form status.
///
/// Drawn only when standard error is a terminal (so logs and CI output stay clean), redrawn
/// at most ten times a second, and safe to call from several threads.
///
///     let progress = ProgressBar(total: games, label: "games")
///     for _ in 0..<games { progress.advance() }
///     progress.finish()
public final class ProgressBar: @unchecked Sendable {
    public let total: Int
    public let label: String
    private let enabled: Bool
    private let lock = NSLock()
    private var done = 0
    private var status = ""
    private let start = Date()
    private var lastDraw = Date.distantPast

    /// A bar for `total` units named `label`; drawn only if `enabled` (by default, when standard error is a terminal).
    public init(total: Int, label: String, enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.total = max(total, 0)
        self.label = label
        self.enabled = enabled
    }

    /// Seconds since the bar was created.
    public var elapsed: Double { Date().timeIntervalSince(start) }

    /// Adds `count` finished units; `status` (e.g. "loss 2.31") is shown after the bar.
    public func advance(by count: Int = 1, status: String? = nil) {
        lock.lock(); defer { lock.unlock() }
        done += count
        if let status { self.status = status }
        drawIfDue(force: false)
    }

    /// Sets the absolute number of finished units.
    public func update(done: Int, status: String? = nil) {
        lock.lock(); defer { lock.unlock() }
        self.done = done
        if let status { self.status = status }
        drawIfDue(force: false)
    }

    /// Draws the final state and moves to a new line.
    public func finish() {
        lock.lock(); defer { lock.unlock() }
        guard enabled else { return }
        drawIfDue(force: true)
        FileHandle.standardError.write("\n".data(using: .utf8)!)
    }

    private func drawIfDue(force: Bool) {
        guard enabled else { return }
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let seconds = now.timeIntervalSince(start)
        let fraction = total > 0 ? min(Double(done) / Double(total), 1) : 0
        let width = 28
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let eta = rate > 0 && total > done ? Self.clock(Double(total - done) / rate) : "--:--"
        let line = String(format: "\r%@ %@ %d/%d %3.0f%% %@/s ETA %@ %@\u{1B}[K", label, bar, done, total,
                          fraction * 100, Self.compact(rate), eta, status)
        FileHandle.standardError.write(line.data(using: .utf8)!)
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }

    static func compact(_ x: Double) -> String {
        x >= 1e6 ? String(format: "%.2fM", x / 1e6) : x >= 1e4 ? String(format: "%.1fk", x / 1e3) : String(format: "%.1f", x)
    }
}
