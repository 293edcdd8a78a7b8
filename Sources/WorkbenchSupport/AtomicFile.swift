import Foundation

/// Writes files so that an interrupted run never leaves a half-written output behind.
///
/// Everything is written to a temporary file in the destination's folder and renamed onto
/// the destination only once complete (`rename(2)` is atomic within a file system).
///
///     try AtomicFile.write(data, to: URL(fileURLWithPath: "games.npy"))
public enum AtomicFile {
    /// Writes `data` to `url` atomically.
    public static func write(_ data: Data, to url: URL) throws {
        try write(to: url) { handle in try handle.write(contentsOf: data) }
    }

    /// Streams output to `url` atomically: `body` writes to a handle on a temporary file,
    /// which replaces `url` only if `body` returns without throwing.
    public static func write(to url: URL, _ body: (FileHandle) throws -> Void) throws {
        let directory = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw WorkbenchError("\(url.path): the folder \(directory.path) does not exist; create it first")
        }
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw WorkbenchError("\(url.path): cannot write in \(directory.path) (permission denied or read-only); choose another output path")
        }
        do {
            let handle = try FileHandle(forWritingTo: temporary)
            do {
                try body(handle)
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            if rename(temporary.path, url.path) != 0 {
                throw WorkbenchError("\(url.path): cannot replace the file (\(String(cString: strerror(errno))))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }
}
