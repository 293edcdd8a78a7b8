import Foundation
import WorkbenchSupport

/// A restricted reader for the pickles inside `torch.save` archives: it understands the opcodes of
/// pickle protocols 2–4 and only the globals a state dict needs (`PickleGlobals.allowed`: `collections.OrderedDict`,
/// `torch._utils._rebuild_tensor_v2`, `torch._utils._rebuild_parameter`, `torch.*Storage`). Any other global
/// is refused with an error naming it. It builds values; it never runs code.
///
///     let value = try Unpickler(data: pickleBytes, source: "model.pth").load()
struct Unpickler {
    /// A value of the pickle's object graph. Dictionaries and lists are reference types because pickle
    /// mutates them after creation (SETITEMS, APPENDS) through the memo.
    indirect enum Value {
        case none
        case bool(Bool)
        case int(Int)
        case float(Double)
        case string(String)
        case bytes([UInt8])
        /// A tuple and its nesting depth (1 plus the deepest item's).
        case tuple([Value], depth: Int)
        case list(ListBox)
        case dict(DictBox)
        case global(String)
        /// A persistent id `('storage', <type>, key, location, numel)`: a tensor storage in `data/<key>`.
        case storage(Storage)
        case tensor(TensorRecord)
        case mark

        /// How deeply containers nest in this value (0 for a value that is not a container).
        var depth: Int {
            switch self {
            case .tuple(_, let depth): return depth
            case .list(let box): return box.depth
            case .dict(let box): return box.depth
            default: return 0
            }
        }
    }

    /// A container's nesting depth is recorded as it is built. Once stored in another container it may not
    /// change (a state dict never needs that), so the recorded depths stay true and `maxDepth` holds.
    class Container {
        var depth = 1
        var isStored = false
    }
    final class ListBox: Container { var items: [Value] = [] }
    final class DictBox: Container { var items: [(key: Value, value: Value)] = [] }

    /// Containers nest at most this deep: a state dict needs a few levels, and a deeper value could not even
    /// be freed (releasing it recurses once per level).
    static let maxDepth = 100

    struct Storage {
        /// `Float`, `Half`, `BFloat16`, `Double`, `Long`, `Int`, `Bool`, … (the class name without "Storage").
        let dtype: String
        let key: String
        let count: Int
    }

    /// A tensor as `_rebuild_tensor_v2` describes it: a view into a storage.
    struct TensorRecord {
        let storage: Storage
        let offset: Int
        let shape: [Int]
        let stride: [Int]
    }

    let data: [UInt8]
    let source: String
    private var position = 0
    private var stack: [Value] = []
    private var memo: [Int: Value] = [:]

    init(data: [UInt8], source: String) {
        self.data = data
        self.source = source
    }

    private func fail(_ why: String) -> WorkbenchError {
        WorkbenchError("\(source): \(why)")
    }

    // MARK: Reading bytes

    private mutating func byte() throws -> UInt8 {
        guard position < data.count else { throw fail("the pickle data.pkl ends early (truncated archive?)") }
        defer { position += 1 }
        return data[position]
    }

    private mutating func bytes(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= data.count - position else { throw fail("the pickle data.pkl ends early (truncated archive?)") }
        defer { position += count }
        return data[position..<(position + count)]
    }

    private mutating func uint(_ count: Int) throws -> Int {
        var value = 0
        for (i, b) in try bytes(count).enumerated() { value |= Int(b) << (8 * i) }
        return value
    }

    private mutating func line() throws -> String {
        guard let end = data[position...].firstIndex(of: 0x0A) else { throw fail("the pickle data.pkl ends early") }
        defer { position = end + 1 }
        return String(decoding: data[position..<end], as: UTF8.self)
    }

    private mutating func pop() throws -> Value {
        guard let value = stack.popLast() else { throw fail("malformed pickle (stack underflow at byte \(position))") }
        return value
    }

    /// Pops everything above the topmost mark.
    private mutating func popToMark() throws -> [Value] {
        guard let index = stack.lastIndex(where: { if case .mark = $0 { return true } else { return false } }) else {
            throw fail("malformed pickle (no mark at byte \(position))")
        }
        let items = Array(stack[(index + 1)...])
        stack.removeSubrange(index...)
        return items
    }

    private mutating func global(_ module: String, _ name: String) throws -> Value {
        let qualified = "\(module).\(name)"
        guard PickleGlobals.allowed.contains(qualified) else {
            throw fail("refusing the pickle global \(qualified): a state dict only needs tensors (collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch.*Storage); this file may run code if loaded with torch.load")
        }
        return .global(qualified)
    }

    // MARK: Interpreting

    /// Runs the opcodes to STOP and returns the top value.
    mutating func load() throws -> Value {
        while true {
            let opcode = try byte()
            switch opcode {
            case 0x80: _ = try byte()                                   // PROTO
            case 0x95: _ = try bytes(8)                                 // FRAME
            case 0x2E: return try pop()                                 // STOP
            case 0x28: stack.append(.mark)                              // MARK
            case 0x30: _ = try pop()                                    // POP
            case 0x31: _ = try popToMark()                              // POP_MARK
            case 0x32: stack.append(stack.last ?? .none)                // DUP
            case 0x4E: stack.append(.none)                              // NONE
            case 0x88: stack.append(.bool(true))                        // NEWTRUE
            case 0x89: stack.append(.bool(false))                       // NEWFALSE
            case 0x4B: stack.append(.int(try uint(1)))                  // BININT1
            case 0x4D: stack.append(.int(try uint(2)))                  // BININT2
            case 0x4A: stack.append(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))   // BININT
            case 0x8A:                                                  // LONG1
                let n = Int(try byte())
                let raw = try bytes(n)
                guard n <= 8 else { throw fail("integer too large in pickle") }
                var value: Int64 = 0
                for (i, b) in raw.enumerated() { value |= Int64(b) << (8 * Int64(i)) }
                if n > 0 && n < 8 && raw.last! & 0x80 != 0 { value -= Int64(1) << (8 * Int64(n)) }
                stack.append(.int(Int(value)))
            case 0x47:                                                  // BINFLOAT (big-endian)
                var bits: UInt64 = 0
                for b in try bytes(8) { bits = bits << 8 | UInt64(b) }
                stack.append(.float(Double(bitPattern: bits)))
            case 0x58: stack.append(.string(String(decoding: try bytes(try uint(4)), as: UTF8.self)))   // BINUNICODE
            case 0x8C: stack.append(.string(String(decoding: try bytes(try uint(1)), as: UTF8.self)))   // SHORT_BINUNICODE
            case 0x8D: stack.append(.string(String(decoding: try bytes(try uint(8)), as: UTF8.self)))   // BINUNICODE8
            case 0x55: stack.append(.bytes(Array(try bytes(try uint(1)))))                             // SHORT_BINSTRING
            case 0x54: stack.append(.bytes(Array(try bytes(try uint(4)))))                             // BINSTRING
            case 0x43: stack.append(.bytes(Array(try bytes(try uint(1)))))                             // SHORT_BINBYTES
            case 0x42: stack.append(.bytes(Array(try bytes(try uint(4)))))                             // BINBYTES
            case 0x29: stack.append(try tuple([]))                      // EMPTY_TUPLE
            case 0x85: stack.append(try tuple([try pop()]))             // TUPLE1
            case 0x86: let b = try pop(), a = try pop(); stack.append(try tuple([a, b]))        // TUPLE2
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); stack.append(try tuple([a, b, c]))   // TUPLE3
            case 0x74: stack.append(try tuple(try popToMark()))         // TUPLE
            case 0x5D: stack.append(.list(ListBox()))                   // EMPTY_LIST
            case 0x6C: let box = ListBox(); try add(try popToMark(), to: box); stack.append(.list(box))   // LIST
            case 0x7D: stack.append(.dict(DictBox()))                   // EMPTY_DICT
            case 0x64:                                                  // DICT
                let box = DictBox()
                try add(try popToMark(), to: box)
                stack.append(.dict(box))
            case 0x61:                                                  // APPEND
                let item = try pop()
                guard case .list(let box) = stack.last else { throw fail("malformed pickle (APPEND to a non-list)") }
                try add([item], to: box)
            case 0x65:                                                  // APPENDS
                let items = try popToMark()
                guard case .list(let box) = stack.last else { throw fail("malformed pickle (APPENDS to a non-list)") }
                try add(items, to: box)
            case 0x73:                                                  // SETITEM
                let value = try pop(), key = try pop()
                guard case .dict(let box) = stack.last else { throw fail("malformed pickle (SETITEM on a non-dict)") }
                try add([key, value], to: box)
            case 0x75:                                                  // SETITEMS
                let items = try popToMark()
                guard case .dict(let box) = stack.last else { throw fail("malformed pickle (SETITEMS on a non-dict)") }
                try add(items, to: box)
            case 0x71: memo[try uint(1)] = stack.last                   // BINPUT
            case 0x72: memo[try uint(4)] = stack.last                   // LONG_BINPUT
            case 0x94: memo[memo.count] = stack.last                    // MEMOIZE
            case 0x68, 0x6A:                                            // BINGET, LONG_BINGET
                let key = try uint(opcode == 0x68 ? 1 : 4)
                guard let value = memo[key] else { throw fail("malformed pickle (memo \(key) unset)") }
                stack.append(value)
            case 0x63:                                                  // GLOBAL "module\nname\n"
                let module = try line(), name = try line()
                stack.append(try global(module, name))
            case 0x93:                                                  // STACK_GLOBAL
                guard case .string(let name) = try pop(), case .string(let module) = try pop() else {
                    throw fail("malformed pickle (STACK_GLOBAL without names)")
                }
                stack.append(try global(module, name))
            case 0x51:                                                  // BINPERSID
                stack.append(try persistentLoad(try pop()))
            case 0x52:                                                  // REDUCE
                let args = try pop(), callable = try pop()
                stack.append(try reduce(callable, args))
            case 0x81:                                                  // NEWOBJ
                let args = try pop(), cls = try pop()
                stack.append(try reduce(cls, args))
            case 0x62:                                                  // BUILD: the state of an OrderedDict (_metadata); ignored
                _ = try pop()
            default:
                throw fail(String(format: "unsupported pickle opcode 0x%02X at byte %d; save the state dict with torch.save (protocol 2)", opcode, position - 1))
            }
        }
    }

    /// The depth of `container` (a new tuple when nil) holding `items` (at least `depth`), marking the lists and
    /// dicts among them as stored; throws past `maxDepth`, and for a container put into itself (a cycle, which
    /// could never be freed; any longer cycle would change a stored container).
    private func depth(holding items: [Value], atLeast depth: Int = 1, in container: Container? = nil) throws -> Int {
        var depth = depth
        for item in items {
            switch item {
            case .list(let box as Container), .dict(let box as Container):
                guard box !== container else { throw fail("malformed pickle (a list or dict put into itself)") }
                box.isStored = true
            default: break
            }
            depth = max(depth, item.depth + 1)
        }
        guard depth <= Self.maxDepth else {
            throw fail("malformed pickle (containers nested more than \(Self.maxDepth) deep; a state dict is a flat dict of tensors)")
        }
        return depth
    }

    private func tuple(_ items: [Value]) throws -> Value {
        .tuple(items, depth: try depth(holding: items))
    }

    private func add(_ items: [Value], to box: ListBox) throws {
        guard !box.isStored else { throw fail("malformed pickle (a list changed after it was stored in another container)") }
        box.depth = try depth(holding: items, atLeast: box.depth, in: box)
        box.items += items
    }

    /// Adds `items`, alternating keys and values, to `box`.
    private func add(_ items: [Value], to box: DictBox) throws {
        guard items.count % 2 == 0 else { throw fail("malformed pickle (a key without a value)") }
        guard !box.isStored else { throw fail("malformed pickle (a dict changed after it was stored in another container)") }
        box.depth = try depth(holding: items, atLeast: box.depth, in: box)
        for i in stride(from: 0, to: items.count, by: 2) { box.items.append((items[i], items[i + 1])) }
    }

    /// `('storage', torch.FloatStorage, '0', 'cpu', 3904)` → a storage reference.
    private func persistentLoad(_ pid: Value) throws -> Value {
        guard case .tuple(let parts, _) = pid, parts.count >= 5, case .string("storage") = parts[0],
              case .global(let type) = parts[1], case .string(let key) = parts[2], case .int(let count) = parts[4] else {
            throw fail("unsupported persistent id in the pickle (expected a torch storage)")
        }
        PickleGlobals.observer?(type)
        guard type.hasPrefix("torch."), type.hasSuffix("Storage") else {
            throw fail("unsupported persistent id in the pickle (\(type) is not a torch storage class)")
        }
        let dtype = String(type.dropFirst("torch.".count).dropLast("Storage".count))
        return .storage(Storage(dtype: dtype, key: key, count: count))
    }

    private func reduce(_ callable: Value, _ args: Value) throws -> Value {
        guard case .global(let name) = callable, case .tuple(let a, _) = args else {
            throw fail("malformed pickle (REDUCE of a non-global)")
        }
        PickleGlobals.observer?(name)
        switch name {
        case "collections.OrderedDict":
            return .dict(DictBox())
        case "torch._utils._rebuild_tensor_v2":
            guard a.count >= 4, case .storage(let storage) = a[0], case .int(let offset) = a[1],
                  let shape = Self.ints(a[2]), let stride = Self.ints(a[3]), shape.count == stride.count else {
                throw fail("malformed _rebuild_tensor_v2 arguments in the pickle")
            }
            return .tensor(TensorRecord(storage: storage, offset: offset, shape: shape, stride: stride))
        case "torch._utils._rebuild_parameter":
            guard let first = a.first, case .tensor = first else { throw fail("malformed _rebuild_parameter arguments") }
            return first
        default:
            throw fail("refusing to call \(name) in the pickle")
        }
    }

    private static func ints(_ value: Value) -> [Int]? {
        guard case .tuple(let items, _) = value else { return nil }
        var out: [Int] = []
        for item in items {
            guard case .int(let n) = item else { return nil }
            out.append(n)
        }
        return out
    }
}

/// The globals a torch pickle may name, and a watch on the ones the unpickler uses.
public enum PickleGlobals {
    /// The allowlist: a state dict needs nothing else, and every other global is refused.
    public static let allowed: Set<String> = [
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
        "torch.FloatStorage", "torch.HalfStorage", "torch.BFloat16Storage", "torch.DoubleStorage",
        "torch.LongStorage", "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage", "torch.ByteStorage",
        "torch.BoolStorage",
    ]

    /// Called with every global the unpickler is about to use (call, or take as a storage class). nil except in the
    /// fuzz target, which asserts that each one is in `allowed`, whatever the bytes.
    public static var observer: ((String) -> Void)?
}
