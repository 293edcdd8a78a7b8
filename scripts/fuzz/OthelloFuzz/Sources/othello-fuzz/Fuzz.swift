import CFuzzerSupport
import Foundation
import OthelloModel
import WorkbenchSupport

/// `othello-fuzz --target=NAME [libFuzzer flags] [corpus folders or input files]` fuzzes one reader;
/// `othello-fuzz --list` names them.
///
/// Every input must end in a value or in a WorkbenchError that names the file. Anything else — a crash, a sanitizer
/// report, another error type, an allocation beyond the target's bound, a pickle global outside the allowlist —
/// stops the run, and libFuzzer keeps the input that did it (`crash-…`, `timeout-…`, `oom-…`).
@main
enum Fuzz {
    /// The target of this process.
    static var target: FuzzTarget!
    /// `FUZZ_VERBOSE=1` prints each input's error (why a seed is refused) and the most it made the reader allocate.
    static let verbose = ProcessInfo.processInfo.environment["FUZZ_VERBOSE"] == "1"

    static func main() {
        let arguments = CommandLine.arguments
        if arguments.contains("--list") {
            print(FuzzTarget.all.map(\.name).joined(separator: "\n"))
            return
        }
        let name = arguments.last { $0.hasPrefix("--target=") }.map { String($0.dropFirst("--target=".count)) }
        guard let chosen = FuzzTarget.all.first(where: { $0.name == name }) else {
            let names = FuzzTarget.all.map(\.name).joined(separator: ", ")
            fputs("usage: othello-fuzz --target=NAME [libFuzzer flags] [corpus folders or input files]\ntargets: \(names)\n", stderr)
            exit(2)
        }
        target = chosen
        PickleGlobals.observer = { global in
            if !PickleGlobals.allowed.contains(global) { fatalError("the unpickler reached the global \(global), outside its allowlist") }
        }
        // libFuzzer re-runs itself with these arguments (-fork, -merge), so --target stays among them.
        var argc = CInt(arguments.count)
        var argv = arguments.map { strdup($0) } + [nil]
        argv.withUnsafeMutableBufferPointer { buffer in
            var pointer = buffer.baseAddress
            exit(LLVMFuzzerRunDriver(&argc, &pointer, LLVMFuzzerTestOneInput))
        }
    }
}

/// Reads one input with the target's reader and checks what came of it.
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let target = Fuzz.target!
    let data = bytes.map { Data(bytes: $0, count: count) } ?? Data()
    allocation_watch_start()
    do {
        try target.read(data, target.source)
    } catch let error as WorkbenchError {
        if Fuzz.verbose { print(error) }
        if !error.description.contains(target.source) { fatalError("\(target.name): the error does not name the file: \(error)") }
    } catch {
        fatalError("\(target.name): a \(type(of: error)) escaped the reader instead of a WorkbenchError: \(error)")
    }
    let peak = Int(allocation_watch_peak()), allowed = target.bytesPerInputByte * count + FuzzTarget.slack
    if Fuzz.verbose { print("\(count) bytes read with at most \(peak) bytes allocated at once (\(allowed) allowed)") }
    if peak > allowed {
        fatalError("\(target.name): reading \(count) bytes allocated \(peak) bytes at once, more than the \(allowed) allowed")
    }
    return 0
}
