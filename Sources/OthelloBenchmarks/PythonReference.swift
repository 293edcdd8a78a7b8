import Foundation
import WorkbenchSupport

/// The path of `scripts/NAME` of this package (found from the source tree, or the current folder), nil if absent.
public func referenceScript(_ name: String) -> String? {
    let fromSource = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/\(name)").standardized
    let fromCurrent = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("scripts/\(name)")
    return [fromSource, fromCurrent].first { FileManager.default.fileExists(atPath: $0.path) }?.path
}

/// What a reference script (scripts/bench_*.py) prints as its last line, or why it did not run (`skipped`).
public struct PythonReference: Codable, Sendable {
    public var skipped: String?
    public var torch: String?
    public var threads: Int?
    public var blas: String?
    /// bench_transformer_lens.py: forward-pass rates and PyTorch's matmul rate on the model's shapes.
    public var residPostTokensPerS, allHooksTokensPerS, matmulGflops: Double?
    /// bench_probe_torch.py and bench_sae_torch.py: training time, and the probe's accuracy or the SAE's final loss.
    public var seconds, accuracy, loss: Double?
    /// bench_probe_torch.py with --weights: TransformerLens caching the same activations.
    public var cacheSeconds: Double?

    public init(skipped: String) { self.skipped = skipped }

    /// Runs `python3 script arguments` and decodes the last line of its standard output; a `skipped` reference
    /// when python3 or the script's imports (`needs`) are missing or it fails.
    public static func run(_ script: String, _ arguments: [String], needs: String = "torch") -> PythonReference {
        let skipped = PythonReference(skipped: "python3 with \(needs) is not importable")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return skipped }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
              let reference = try? JSONOutput.decoder.decode(PythonReference.self, from: Data(line.utf8)) else { return skipped }
        return reference
    }
}

/// A temporary folder for the files a reference script reads, removed when the benchmark is done with it.
func withReferenceFolder<T>(_ name: String, _ body: (URL) throws -> T) throws -> T {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("othello-gpt-bench-\(name)-\(getpid())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    return try body(folder)
}

/// A reference script running beside this process that answers one request per line
/// (scripts/bench_train_torch.py: `step` → the seconds of one training step).
public final class PythonStepper {
    let process: Process
    let input: FileHandle
    let output: FileHandle
    private var buffer = Data()

    /// Starts `python3 script arguments` and waits until it prints `ready`.
    public init(script: String, arguments: [String]) throws {
        guard FileManager.default.fileExists(atPath: script) else { throw WorkbenchError("\(script) not found; pass --torch-script") }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        let inputPipe = Pipe(), outputPipe = Pipe()
        signal(SIGPIPE, SIG_IGN)   // a script that dies makes writes fail with an error instead of killing this process
        process.standardInput = inputPipe
        process.standardOutput = outputPipe
        process.standardError = FileHandle.nullDevice
        input = inputPipe.fileHandleForWriting
        output = outputPipe.fileHandleForReading
        do { try process.run() } catch { throw WorkbenchError("cannot run python3 (\(error.localizedDescription))") }
        while let line = readLine() {
            if line == "ready" { return }
        }
        process.waitUntilExit()
        throw WorkbenchError("python3 \(script) exited without training (is torch with transformer-lens 3.9 installed?)")
    }

    /// The next line the script prints, nil at its end.
    func readLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return line
            }
            let chunk = output.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }

    /// Sends `request` and returns the number the script answers.
    public func ask(_ request: String) throws -> Double {
        try input.write(contentsOf: Data("\(request)\n".utf8))
        guard let line = readLine(), let value = Double(line) else { throw WorkbenchError("the PyTorch reference stopped answering") }
        return value
    }

    public func stop() {
        try? input.close()
        process.waitUntilExit()
    }
}
