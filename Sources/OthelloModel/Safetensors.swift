import Foundation
import WorkbenchSupport

/// A safetensors file (Hugging Face's format): an 8-byte little-endian header length, a JSON header
/// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {…}}`, then the raw little-endian data.
///
/// Reads F32, F16 and BF16 (converted to `Float`); writes F32, F16 or BF16. The header is validated: every tensor's
/// byte range must lie in the file, match its shape and dtype, and not overlap another.
///
///     let file = try SafetensorsFile.read(from: url)
///     let wq = try file.tensor("blocks.0.attn.W_Q")        // Tensor, [8, 512, 64]
///     try SafetensorsFile.write([("embed.W_E", embedding)], metadata: ["format": "pt"], to: out)
public struct SafetensorsFile {
    /// One tensor's header entry.
    public struct Entry {
        public let name: String
        public let dtype: String
        public let shape: [Int]
        /// Byte range within the data section.
        public let begin: Int, end: Int
    }

    public let path: String
    public let metadata: [String: String]
    /// The entries in file order (by offset).
    public let entries: [Entry]
    private let data: Data
    private let dataStart: Int
    private let index: [String: Int]

    /// Bytes per element of the dtypes read here.
    static let elementSizes = ["F32": 4, "F16": 2, "BF16": 2]

    /// Reads (memory-maps) the file at `url` and validates its header.
    public static func read(from url: URL) throws -> SafetensorsFile {
        try SafetensorsFile(data: readFile(url, mapped: true), path: url.path)
    }

    /// Parses and validates the header of safetensors bytes; `path` names the file in errors. Tensors are
    /// converted only when asked for (`tensor(_:)`).
    public init(data: Data, path: String) throws {
        self.path = path
        self.data = data
        func fail(_ why: String) -> WorkbenchError { WorkbenchError("\(path): \(why)") }
        guard data.count >= 8 else { throw fail("not a safetensors file (shorter than its 8-byte header length)") }
        var headerLength: UInt64 = 0
        for i in (0..<8).reversed() { headerLength = headerLength << 8 | UInt64(data[data.startIndex + i]) }
        guard headerLength <= UInt64(data.count - 8), headerLength < 100_000_000 else {
            throw fail("not a safetensors file, or truncated: the header claims \(headerLength) bytes, the file has \(data.count)")
        }
        dataStart = 8 + Int(headerLength)
        let headerData = data[(data.startIndex + 8)..<(data.startIndex + dataStart)]
        guard let json = try? JSONSerialization.jsonObject(with: headerData), let header = json as? [String: Any] else {
            throw fail("the safetensors header is not a JSON object")
        }
        let payload = data.count - dataStart
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let dictionary = value as? [String: Any] else { throw fail("__metadata__ is not an object") }
                for (k, v) in dictionary { metadata[k] = v as? String ?? "\(v)" }
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = Self.integers(info["shape"]), let offsets = Self.integers(info["data_offsets"]), offsets.count == 2 else {
                throw fail("tensor \(name): malformed header entry (needs dtype, shape and data_offsets, as integers)")
            }
            guard let size = Self.elementSizes[dtype] else {
                throw fail("tensor \(name): unsupported dtype \(dtype) (supported: F32, F16, BF16)")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("tensor \(name): negative dimension in shape \(shape)") }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, end >= begin, end <= payload else {
                throw fail("tensor \(name): data_offsets [\(begin), \(end)] lie outside the \(payload) data bytes (file truncated?)")
            }
            let expected = checkedSize(of: shape, elementSize: size)
            guard expected == end - begin else {
                let needs = expected.map { "\($0) bytes" } ?? "more bytes than any file holds"
                throw fail("tensor \(name): shape \(shape) of \(dtype) needs \(needs), data_offsets give \(end - begin)")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end))
        }
        entries.sort { ($0.begin, $0.name) < ($1.begin, $1.name) }
        for (a, b) in zip(entries, entries.dropFirst()) where b.begin < a.end {
            throw fail("tensors \(a.name) and \(b.name) overlap in the data section")
        }
        self.metadata = metadata
        self.entries = entries
        self.index = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.name, $0) })
    }

    /// The integers of a JSON array, nil if it is not an array of exact integers that fit in `Int`.
    private static func integers(_ value: Any?) -> [Int]? {
        guard let items = value as? [Any] else { return nil }
        var integers: [Int] = []
        for item in items {
            guard let number = item as? NSNumber, number == NSNumber(value: number.intValue) else { return nil }
            integers.append(number.intValue)
        }
        return integers
    }

    /// The tensor names, in file order.
    public var names: [String] { entries.map(\.name) }

    /// The header entry of tensor `name`, nil if the file has none.
    public func entry(_ name: String) -> Entry? { index[name].map { entries[$0] } }

    /// The tensor `name` converted to `Float`.
    public func tensor(_ name: String) throws -> Tensor {
        guard let entry = entry(name) else { throw WorkbenchError("\(path): no tensor named \(name)") }
        let start = data.startIndex + dataStart + entry.begin
        let bytes = data[start..<(data.startIndex + dataStart + entry.end)]
        return Tensor(shape: entry.shape, values: try FloatDecoding.decode(bytes, dtype: entry.dtype, count: entry.shape.reduce(1, *)))
    }

    /// The element types `write` stores.
    public enum StoredType: String, CaseIterable {
        /// 4-byte floats: the values exactly.
        case f32 = "F32"
        /// 2-byte IEEE half floats: each value rounded to the nearest of 11 significant bits (relative error at
        /// most 2⁻¹¹), half the size. Values beyond ±65504 do not fit and are an error.
        case f16 = "F16"
        /// 2-byte bfloat16: F32's range with 8 significant bits (relative error at most 2⁻⁸), rounded to nearest
        /// even. For values whose range F16 cannot hold, such as AdamW's second moments (≈ 1e-10).
        case bf16 = "BF16"
    }

    /// Writes the tensors (in the given order) as `type` and string metadata atomically.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:],
                             as type: StoredType = .f32, to url: URL) throws {
        try write(tensors.map { ($0.name, $0.tensor, type) }, metadata: metadata, to: url)
    }

    /// Writes the tensors (in the given order), each as its own type, and string metadata atomically.
    public static func write(_ tensors: [(name: String, tensor: Tensor, type: StoredType)], metadata: [String: String] = [:],
                             to url: URL) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, tensor, type) in tensors {
            let bytes = tensor.count * elementSizes[type.rawValue]!
            header[name] = ["dtype": type.rawValue, "shape": tensor.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        // Every 2-byte tensor is rounded once, before anything is written; a value out of F16's range is an error.
        var halves: [[UInt16]] = []
        for (name, tensor, type) in tensors {
            switch type {
            case .f32: halves.append([])
            case .f16:
                let half = tensor.values.map { Float16($0) }
                if let index = half.indices.first(where: { !half[$0].isFinite && tensor.values[$0].isFinite }) {
                    throw WorkbenchError("\(url.path): tensor \(name) holds \(tensor.values[index]) at flat index \(index), beyond F16's range (±65504); write it as F32")
                }
                halves.append(half.map { $0.bitPattern.littleEndian })
            case .bf16:
                halves.append(tensor.values.map { FloatDecoding.bfloat16Bits($0).littleEndian })
            }
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))   // align the data to 8 bytes
        try AtomicFile.write(to: url) { handle in
            var length = UInt64(json.count).littleEndian
            try handle.write(contentsOf: Data(bytes: &length, count: 8))
            try handle.write(contentsOf: json)
            for (index, (_, tensor, type)) in tensors.enumerated() {
                switch type {
                case .f32: try tensor.values.withUnsafeBufferPointer { try handle.write(contentsOf: Data(buffer: $0)) }
                case .f16, .bf16: try halves[index].withUnsafeBufferPointer { try handle.write(contentsOf: Data(buffer: $0)) }
                }
            }
        }
    }
}

/// Conversion of little-endian float storage (F32, F16, BF16) to `[Float]`.
enum FloatDecoding {
    /// The bfloat16 nearest to `value` (ties to even), as its bit pattern; NaN stays NaN.
    static func bfloat16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(bits >> 16) | 0x0040 }
        let rounding = 0x7FFF + ((bits >> 16) & 1)
        return UInt16((bits &+ rounding) >> 16)
    }

    static func decode(_ bytes: Data, dtype: String, count: Int) throws -> [Float] {
        var out = [Float](repeating: 0, count: count)
        try bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            switch dtype {
            case "F32":
                guard raw.count >= count * 4 else { throw WorkbenchError("truncated F32 data") }
                out.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<(count * 4)])) }
            case "F16":
                guard raw.count >= count * 2 else { throw WorkbenchError("truncated F16 data") }
                for i in 0..<count { out[i] = Float(Float16(bitPattern: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            case "BF16":
                guard raw.count >= count * 2 else { throw WorkbenchError("truncated BF16 data") }
                for i in 0..<count {
                    out[i] = Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
                }
            default:
                throw WorkbenchError("unsupported dtype \(dtype)")
            }
        }
        return out
    }
}
