import Foundation

/// Clocks for the benchmarks.
public enum Timing {
    /// Runs `body` repeatedly for at least `seconds` (and once); returns (runs, elapsed seconds).
    public static func repeated(for seconds: Double, _ body: () throws -> Void) rethrows -> (runs: Int, seconds: Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        var runs = 0
        while true {
            try body()
            runs += 1
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if elapsed >= seconds { return (runs, elapsed) }
        }
    }

    /// Median wall time of `repeats` runs of `body`, in seconds.
    public static func median(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }

    /// The best rates (units per second) of `repeats` runs of each of two pieces of work, each returning its unit
    /// count. The runs alternate, so both see the same load from other programs. With `threadCPU` the work is
    /// timed by this thread's CPU clock (time descheduled by other programs does not count), else by the wall clock.
    public static func bestRates(repeats: Int, threadCPU: Bool, _ first: () throws -> Int, _ second: () throws -> Int) rethrows -> (Double, Double) {
        let clock = threadCPU ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC
        func seconds() -> Double {
            var time = timespec()
            clock_gettime(clock, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        }
        func rate(_ work: () throws -> Int) rethrows -> Double {
            let start = seconds()
            let units = try work()
            return Double(units) / (seconds() - start)
        }
        var best = (0.0, 0.0)
        for _ in 0..<repeats {
            best.0 = max(best.0, try rate(first))
            best.1 = max(best.1, try rate(second))
        }
        return best
    }
}
