import Foundation

/// A NumPy `.npy` array: element type, shape and the raw little-endian bytes in C order.
///
/// Reads format versions 1–3 and writes version 1, so files open with `numpy.load`.
///
///     let games = try NPYArray.read(from: URL(fileURLWithPath: "Games/synthetic.npy"))
///     let moves: [Int8] = try games.elements(of: Int8.self)      // dtype checked
///     try NPYArray(shape: [2, 3], values: [Float](repeating: 0, count: 6)).write(to: out)
public struct NPYArray: Equatable {
    /// The NumPy dtype string, little-endian: `|i1`, `|u1`, `|b1`, `<i4`, `<i8`, `<f2`, `<f4`, `<f8`.
    public var dtype: String
    /// The dimensions, outermost first (C order).
    public var shape: [Int]
    /// The raw little-endian elements, `count` × the dtype's size bytes.
    public var data: Data

    /// The number of elements (the product of `shape`).
    public var count: Int { shape.reduce(1, *) }

    /// An array of raw `data` (which must hold `count` elements of `dtype`).
    public init(dtype: String, shape: [Int], data: Data) {
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    /// An array of `values` (a supported element type) with `shape`.
    public init<T: NPYElement>(shape: [Int], values: [T]) {
        precondition(shape.reduce(1, *) == values.count, "NPYArray: shape \(shape) does not hold \(values.count) values")
        self.init(dtype: T.npyDType, shape: shape, data: values.withUnsafeBufferPointer { Data(buffer: $0) })
    }

    /// The elements, checking that the file's dtype is `T`'s.
    public func elements<T: NPYElement>(of type: T.Type, file: String = "array") throws -> [T] {
        guard dtype == T.npyDType || (T.npyDType.dropFirst() == dtype.dropFirst() && dtype.first == "=") else {
            throw WorkbenchError("\(file): expected dtype \(T.npyDType) (\(T.self)), found \(dtype)")
        }
        var result = [T](repeating: T.zero, count: count)
        _ = result.withUnsafeMutableBytes { data.copyBytes(to: $0) }
        return result
    }

    // MARK: Reading

    /// Reads and parses the file at `url`; throws a `WorkbenchError` naming it for a missing, damaged or unsupported file.
    public static func read(from url: URL) throws -> NPYArray {
        try parse(readFile(url, mapped: true), file: url.path)
    }

    /// Parses the bytes of a `.npy` file (format 1–3, C order, a supported dtype); `file` names it in errors.
    public static func parse(_ data: Data, file: String = "array") throws -> NPYArray {
        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw WorkbenchError("\(file): not a NumPy .npy file (the magic bytes \\x93NUMPY are missing)")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw WorkbenchError("\(file): truncated .npy header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw WorkbenchError("\(file): unsupported .npy format version \(major)")
        }
        guard data.count >= headerStart + headerLength else {
            throw WorkbenchError("\(file): truncated .npy header (file has \(data.count) bytes)")
        }
        let start = data.startIndex
        guard let header = String(data: data[(start + headerStart)..<(start + headerStart + headerLength)], encoding: .utf8) else {
            throw WorkbenchError("\(file): the .npy header is not text")
        }
        guard let descr = headerValue(header, key: "descr"), let order = headerValue(header, key: "fortran_order"),
              let shapeText = headerValue(header, key: "shape") else {
            throw WorkbenchError("\(file): malformed .npy header: \(header.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        guard order == "False" else {
            throw WorkbenchError("\(file): Fortran-ordered arrays are not supported; save with numpy.ascontiguousarray")
        }
        let dtype = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        guard let size = elementSize(dtype) else {
            throw WorkbenchError("\(file): unsupported dtype \(dtype) (supported: int8, uint8, bool, int32, int64, float16, float32, float64, little-endian)")
        }
        let inner = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()"))
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let n = Int(trimmed), n >= 0 else { throw WorkbenchError("\(file): malformed shape \(shapeText) in .npy header") }
            shape.append(n)
        }
        let payloadStart = start + headerStart + headerLength
        guard let expected = checkedSize(of: shape, elementSize: size) else {
            throw WorkbenchError("\(file): the .npy header's shape \(shape) of \(dtype) is too large for any file; the header is damaged")
        }
        guard data.count - headerStart - headerLength >= expected else {
            throw WorkbenchError("\(file): truncated .npy data: shape \(shape) of \(dtype) needs \(expected) bytes, the file has \(data.count - headerStart - headerLength)")
        }
        return NPYArray(dtype: dtype, shape: shape, data: Data(data[payloadStart..<(payloadStart + expected)]))
    }

    /// Bytes per element for the supported dtypes, nil otherwise.
    static func elementSize(_ dtype: String) -> Int? {
        let kind = dtype.drop(while: { "<|=".contains($0) })
        switch kind {
        case "i1", "u1", "b1": return 1
        case "i2", "u2", "f2": return 2
        case "i4", "u4", "f4": return 4
        case "i8", "u8", "f8": return 8
        default: return nil
        }
    }

    /// The value text of `'key': value` in a .npy header dictionary.
    private static func headerValue(_ header: String, key: String) -> String? {
        guard let keyRange = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\"") else { return nil }
        var rest = header[keyRange.upperBound...].drop(while: { $0 == " " || $0 == ":" })
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { return nil }
            return String(rest[...close])
        }
        rest = rest.prefix(while: { $0 != "," && $0 != "}" })
        return rest.trimmingCharacters(in: .whitespaces)
    }

    // MARK: Writing

    /// The file contents (format version 1, header padded to a multiple of 64 bytes).
    public func encoded() -> Data {
        var out = Self.header(dtype: dtype, shape: shape)
        out.append(data)
        return out
    }

    /// The bytes before the data in a version-1 file of `dtype` and `shape`: for writers that stream
    /// the data themselves.
    ///
    ///     try handle.write(contentsOf: NPYArray.header(dtype: "<f4", shape: [games, 59, 512]))
    public static func header(dtype: String, shape: [Int]) -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(dtype)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        out.append(contentsOf: [UInt8(length & 0xff), UInt8(length >> 8)])
        out.append(contentsOf: Array(header.utf8))
        return out
    }

    /// Writes the array to `url` atomically.
    public func write(to url: URL) throws {
        try AtomicFile.write(encoded(), to: url)
    }
}

/// Element types a `.npy` file can hold here.
public protocol NPYElement {
    static var npyDType: String { get }
    static var zero: Self { get }
}

extension Int8: NPYElement { public static var npyDType: String { "|i1" } }
extension UInt8: NPYElement { public static var npyDType: String { "|u1" } }
extension Int32: NPYElement { public static var npyDType: String { "<i4" } }
extension Int64: NPYElement { public static var npyDType: String { "<i8" } }
extension Float: NPYElement { public static var npyDType: String { "<f4" } }
extension Double: NPYElement { public static var npyDType: String { "<f8" } }
