import Foundation

/// Writes a float32 `.npy` file in pieces, atomically: it appears under its name only on `commit()`.
public struct NPYStreamWriter {
    private let file: AtomicFile.Writer
    private let expected: Int
    private var written = 0

    public init(url: URL, shape: [Int]) throws {
        file = try AtomicFile.Writer(url: url)
        expected = shape.reduce(1, *)
        try file.write(NPYArray.header(dtype: Float.npyDType, shape: shape))
    }

    public mutating func append(_ values: [Float]) throws {
        try values.withUnsafeBufferPointer { try file.write(Data(buffer: $0)) }
        written += values.count
    }

    /// Renames the finished file onto its name.
    public func commit() throws {
        guard written == expected else { throw WorkbenchError("\(file.url.path): wrote \(written) of \(expected) values") }
        try file.commit()
    }

    /// Removes the temporary file if it was not committed.
    public func discard() { file.discard() }
}
