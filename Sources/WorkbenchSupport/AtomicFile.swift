import Foundation

/// Writes files so that an interrupted run never leaves a half-written output behind.
///
/// Everything is written to a temporary file in the destination's folder and renamed onto
/// the destination only once complete (`rename(2)` is atomic within a file system).
///
///     try AtomicFile.write(data, to: URL(fileURLWithPath: "games.npy"))
///
///     let writer = try AtomicFile.Writer(url: out)      // several files written side by side
///     try writer.write(piece)
///     try writer.commit()                               // or discard(); released uncommitted, it discards
public enum AtomicFile {
    /// Writes `data` to `url` atomically.
    public static func write(_ data: Data, to url: URL) throws {
        try write(to: url) { handle in try handle.write(contentsOf: data) }
    }

    /// Streams output to `url` atomically: `body` writes to a handle on a temporary file,
    /// which replaces `url` only if `body` returns without throwing.
    public static func write(to url: URL, _ body: (FileHandle) throws -> Void) throws {
        let writer = try Writer(url: url)
        try body(writer.handle)
        try writer.commit()
    }

    /// A file written in pieces to a temporary file next to `url`, which `commit()` renames onto `url`.
    /// Until then `url` is untouched; `discard()`, or releasing the writer uncommitted, removes the temporary file.
    public final class Writer {
        /// The destination.
        public let url: URL
        let handle: FileHandle
        private let temporary: URL
        private var isOpen = true

        /// Opens a temporary file beside `url`; throws if its folder is missing or not writable.
        public init(url: URL) throws {
            self.url = url
            let directory = url.deletingLastPathComponent()
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw WorkbenchError("\(url.path): the folder \(directory.path) does not exist; create it first")
            }
            temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            guard FileManager.default.createFile(atPath: temporary.path, contents: nil),
                  let handle = FileHandle(forWritingAtPath: temporary.path) else {
                throw WorkbenchError("\(url.path): cannot write in \(directory.path) (permission denied or read-only); choose another output path")
            }
            self.handle = handle
        }

        deinit { discard() }

        /// Appends `data` to the temporary file.
        public func write(_ data: Data) throws {
            try handle.write(contentsOf: data)
        }

        /// Flushes the temporary file to disk and renames it onto `url`; on failure it is removed.
        public func commit() throws {
            guard isOpen else { throw WorkbenchError("\(url.path): the file was already committed or discarded") }
            isOpen = false
            do {
                try handle.synchronize()
                try handle.close()
                guard rename(temporary.path, url.path) == 0 else {
                    throw WorkbenchError("\(url.path): cannot replace the file (\(String(cString: strerror(errno))))")
                }
            } catch {
                try? handle.close()
                try? FileManager.default.removeItem(at: temporary)
                throw error
            }
        }

        /// Removes the temporary file, unless committed; `url` is left as it was.
        public func discard() {
            guard isOpen else { return }
            isOpen = false
            try? handle.close()
            try? FileManager.default.removeItem(at: temporary)
        }
    }
}
