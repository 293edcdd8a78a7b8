import Foundation
import WorkbenchSupport

/// A zip archive in memory as torch.save writes it: entries stored uncompressed, zip64 records for large files.
/// Each entry's contents are a slice of the archive's bytes (no copy), checked against its CRC-32. Everything the
/// headers claim is checked against the bytes there are before it is used, so a damaged or hostile header is a
/// `WorkbenchError`, never a large allocation or a read out of bounds.
///
///     let zip = try StoredZip(data: bytes, source: "model.pth")
///     let pickle = try zip.entry("archive/data.pkl").map(zip.contents)
struct StoredZip {
    /// One entry of the central directory.
    struct Entry {
        let path: String
        /// 0 when stored; anything else is compressed or encrypted, which torch.save never writes.
        let method: Int
        let isEncrypted: Bool
        let crc32: UInt32
        let compressedSize: Int
        let size: Int
        let localHeaderOffset: Int
    }

    let data: Data
    let source: String
    /// The entry paths in archive order, and the first entry of each path.
    let paths: [String]
    private let entries: [String: Entry]

    init(data: Data, source: String) throws {
        self.data = data
        self.source = source
        let reader = ByteReader(data: data, source: source)
        let directory = try Self.centralDirectory(reader)
        var paths: [String] = [], entries: [String: Entry] = [:]
        var offset = directory.offset
        for _ in 0..<directory.count {
            guard try reader.uint32(at: offset) == 0x0201_4B50 else { throw reader.damaged("no central directory entry at byte \(offset)") }
            let flags = try reader.uint16(at: offset + 8), method = try reader.uint16(at: offset + 10)
            let crc = try reader.uint32(at: offset + 16)
            var compressed = try reader.uint32(at: offset + 20), size = try reader.uint32(at: offset + 24)
            let nameLength = try reader.uint16(at: offset + 28), extraLength = try reader.uint16(at: offset + 30)
            let commentLength = try reader.uint16(at: offset + 32)
            var localHeader = try reader.uint32(at: offset + 42)
            let path = String(decoding: try reader.bytes(at: offset + 46, count: nameLength), as: UTF8.self)
            // The zip64 extra field holds, in this order, each size or offset whose 32-bit field is 0xFFFFFFFF.
            var extra = offset + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = try reader.uint16(at: extra), length = try reader.uint16(at: extra + 2)
                if id == 0x0001 {
                    var field = extra + 4
                    func widen(_ value: inout Int) throws {
                        guard value == 0xFFFF_FFFF, field + 8 <= extra + 4 + length else { return }
                        value = try reader.int64(at: field)
                        field += 8
                    }
                    try widen(&size)
                    try widen(&compressed)
                    try widen(&localHeader)
                }
                extra += 4 + length
            }
            if entries[path] == nil {
                paths.append(path)
                entries[path] = Entry(path: path, method: method, isEncrypted: flags & 1 != 0, crc32: UInt32(crc), compressedSize: compressed,
                                      size: size, localHeaderOffset: localHeader)
            }
            offset = extraEnd + commentLength
        }
        self.paths = paths
        self.entries = entries
    }

    /// The entry at `path`, nil if the archive has none.
    func entry(_ path: String) -> Entry? { entries[path] }

    /// The contents of `entry`: a slice of `data` (its indices are the archive's).
    func contents(of entry: Entry) throws -> Data {
        let reader = ByteReader(data: data, source: source)
        guard entry.method == 0, !entry.isEncrypted else {
            throw WorkbenchError("\(source): \(entry.path) is \(entry.isEncrypted ? "encrypted" : "compressed") in the archive; torch.save stores its entries uncompressed — re-save the file with torch.save")
        }
        let header = entry.localHeaderOffset
        guard try reader.uint32(at: header) == 0x0403_4B50 else { throw reader.damaged("no local header for \(entry.path) at byte \(header)") }
        guard try reader.uint16(at: header + 8) == 0 else {
            throw WorkbenchError("\(source): \(entry.path) is compressed in the archive; torch.save stores its entries uncompressed — re-save the file with torch.save")
        }
        let start = header + 30 + (try reader.uint16(at: header + 26)) + (try reader.uint16(at: header + 28))
        guard entry.compressedSize == entry.size else { throw reader.damaged("\(entry.path) is stored but its two sizes differ") }
        let bytes = try reader.bytes(at: start, count: entry.size)
        guard CRC32.checksum(bytes) == entry.crc32 else { throw reader.damaged("\(entry.path) does not match its CRC-32") }
        return bytes
    }

    /// The place and count of the central directory entries, from the end-of-central-directory record (and its zip64
    /// version when a field is full).
    private static func centralDirectory(_ reader: ByteReader) throws -> (offset: Int, count: Int) {
        // The record is 22 bytes and a comment of at most 65,535 bytes; search backwards for its signature.
        let end: Int? = reader.data.withUnsafeBytes { bytes in
            let last = bytes.count - 22
            guard last >= 0 else { return nil }
            return stride(from: last, through: max(0, last - 0xFFFF), by: -1).first {
                bytes[$0] == 0x50 && bytes[$0 + 1] == 0x4B && bytes[$0 + 2] == 0x05 && bytes[$0 + 3] == 0x06
            }
        }
        guard let end else { throw reader.damaged("no end-of-central-directory record") }
        var count = try reader.uint16(at: end + 10)
        var size = try reader.uint32(at: end + 12), offset = try reader.uint32(at: end + 16)
        var directoryEnd = end
        if count == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
            let locator = end - 20
            guard locator >= 0, try reader.uint32(at: locator) == 0x0706_4B50 else { throw reader.damaged("no zip64 locator") }
            let record = try reader.int64(at: locator + 8)
            guard try reader.uint32(at: record) == 0x0606_4B50 else { throw reader.damaged("no zip64 end-of-central-directory record") }
            count = try reader.int64(at: record + 32)
            size = try reader.int64(at: record + 40)
            offset = try reader.int64(at: record + 48)
            directoryEnd = record
        }
        // Every entry takes at least 46 bytes, so the count cannot exceed what the directory holds.
        guard offset <= directoryEnd, size <= directoryEnd - offset, count <= size / 46 else {
            throw reader.damaged("the central directory (\(count) entries, \(size) bytes at byte \(offset)) does not fit in the file")
        }
        return (offset, count)
    }
}

/// Little-endian reads from an archive's bytes, each checked against its end.
private struct ByteReader {
    let data: Data
    let source: String

    func damaged(_ why: String) -> WorkbenchError {
        WorkbenchError("\(source): not a readable zip archive: \(why) (truncated or corrupt torch file?)")
    }

    /// `count` bytes from `offset`, a slice of `data`.
    func bytes(at offset: Int, count: Int) throws -> Data {
        guard offset >= 0, count >= 0, offset <= data.count, count <= data.count - offset else {
            throw damaged("\(count) bytes at byte \(offset) lie outside the file's \(data.count)")
        }
        return data[(data.startIndex + offset)..<(data.startIndex + offset + count)]
    }

    private func integer(at offset: Int, width: Int) throws -> UInt64 {
        try bytes(at: offset, count: width).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    func uint16(at offset: Int) throws -> Int { Int(try integer(at: offset, width: 2)) }
    func uint32(at offset: Int) throws -> Int { Int(try integer(at: offset, width: 4)) }

    /// A zip64 size or offset; those past `Int.max` are damage (no file is that large).
    func int64(at offset: Int) throws -> Int {
        let value = try integer(at: offset, width: 8)
        guard value <= UInt64(Int.max) else { throw damaged("a zip64 size or offset of \(value) at byte \(offset)") }
        return Int(value)
    }
}

/// The CRC-32 of zip entries (the IEEE polynomial, reflected).
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { byte in
        (0..<8).reduce(UInt32(byte)) { crc, _ in crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
    }

    static func checksum(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { bytes in
            table.withUnsafeBufferPointer { table in
                ~bytes.reduce(~UInt32(0)) { crc, byte in table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
            }
        }
    }
}
