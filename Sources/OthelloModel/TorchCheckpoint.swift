import Foundation
import WorkbenchSupport

/// State dicts saved by `torch.save(model.state_dict(), path)`: a zip archive holding `<folder>/data.pkl`
/// (a protocol-2 pickle, read by the restricted `Unpickler`) and one raw little-endian storage per
/// tensor in `<folder>/data/<key>`, all stored uncompressed (`StoredZip`). Tensors may be views (storage offset,
/// strides); float32, float16 and bfloat16 are read as `Float`; other dtypes only for buffers that are ignored
/// (`attn.mask`). A file that holds one tensor (`torch.save(tensor)`, as Nanda's published probe) reads as a state
/// dict with the one key `StateDict.singleTensorKey`.
public enum TorchCheckpoint {
    /// Reads the bytes of a torch zip archive; `source` names the file in errors.
    static func read(data: Data, source: String) throws -> StateDict {
        let zip = try StoredZip(data: data, source: source)
        guard let pickle = zip.paths.first(where: { $0.hasSuffix("data.pkl") }).flatMap(zip.entry) else {
            throw WorkbenchError("\(source): no data.pkl in the archive; not a torch.save file")
        }
        let folder = String(pickle.path.dropLast("data.pkl".count))
        return try read(pickle: [UInt8](zip.contents(of: pickle)), source: source) { key in
            try zip.entry(folder + "data/" + key).map(zip.contents)
        }
    }

    /// The state dict of a `torch.save` pickle, read by the restricted `Unpickler`, whose tensors' storages
    /// `data/<key>` come from `storage(key)` (nil when the archive lacks one): reading a torch file after its zip.
    public static func read(pickle: [UInt8], source: String, storage: (String) throws -> Data?) throws -> StateDict {
        var unpickler = Unpickler(data: pickle, source: source)
        let root = try unpickler.load()
        let items: [(key: Unpickler.Value, value: Unpickler.Value)]
        switch root {
        case .dict(let dict): items = dict.items
        case .tensor: items = [(.string(StateDict.singleTensorKey), root)]   // torch.save(tensor), e.g. Nanda's probe
        default:
            throw WorkbenchError("\(source): the pickle is neither a state dict (a dict of tensors) nor one tensor; save model.state_dict(), not the model")
        }
        var storages: [String: Data] = [:]
        var tensors: [String: Tensor] = [:]
        for (keyValue, value) in items {
            guard case .string(let key) = keyValue else { throw WorkbenchError("\(source): a state-dict key is not a string") }
            guard case .tensor(let record) = value else {
                throw WorkbenchError("\(source): key \(key) is not a tensor")
            }
            let isFloat = ["Float", "Half", "BFloat16", "Double"].contains(record.storage.dtype)
            if !isFloat {
                if key.hasSuffix(".mask") { continue }   // boolean or integer buffers: the causal mask
                throw WorkbenchError("\(source): key \(key) holds \(record.storage.dtype) values; weights must be float32, float16 or bfloat16")
            }
            if storages[record.storage.key] == nil {
                guard let bytes = try storage(record.storage.key) else {
                    throw WorkbenchError("\(source): key \(key): its storage data/\(record.storage.key) is missing from the archive (truncated file?)")
                }
                storages[record.storage.key] = bytes
            }
            tensors[key] = try tensor(record, storage: storages[record.storage.key]!, key: key, path: source)
        }
        return StateDict(source: source, tensors: tensors)
    }

    /// The storage index of the last element of a view (non-negative strides), nil if it overflows `Int`.
    private static func lastElement(of record: Unpickler.TensorRecord) -> Int? {
        var last = record.offset
        for (n, s) in zip(record.shape, record.stride) where n > 0 {
            let (step, overflow) = (n - 1).multipliedReportingOverflow(by: s)
            let (sum, overflowAgain) = last.addingReportingOverflow(step)
            if overflow || overflowAgain { return nil }
            last = sum
        }
        return last
    }

    /// Gathers a (possibly strided) view of a storage into a contiguous `Tensor`.
    private static func tensor(_ record: Unpickler.TensorRecord, storage: Data, key: String, path: String) throws -> Tensor {
        let (size, dtype): (Int, String) = {
            switch record.storage.dtype {
            case "Half": return (2, "F16")
            case "BFloat16": return (2, "BF16")
            case "Double": return (8, "F64")
            default: return (4, "F32")
            }
        }()
        guard let bytes = checkedSize(of: [record.storage.count], elementSize: size), storage.count >= bytes else {
            throw WorkbenchError("\(path): key \(key): storage data/\(record.storage.key) has \(storage.count) bytes, not the \(record.storage.count) elements of \(size) bytes the pickle gives it (truncated file?)")
        }
        // The view (and the highest element it touches) must lie inside the storage.
        guard let count = checkedSize(of: record.shape), record.offset >= 0, record.offset <= record.storage.count,
              record.stride.allSatisfy({ $0 >= 0 }), count == 0 || (lastElement(of: record).map { $0 < record.storage.count } ?? false) else {
            throw WorkbenchError("\(path): key \(key): shape \(record.shape), strides \(record.stride) and offset \(record.offset) reach outside its storage of \(record.storage.count) elements")
        }
        let all: [Float]
        if dtype == "F64" {
            all = storage.withUnsafeBytes { raw in (0..<record.storage.count).map { Float(raw.loadUnaligned(fromByteOffset: 8 * $0, as: Double.self)) } }
        } else {
            all = try FloatDecoding.decode(storage, dtype: dtype, count: record.storage.count)
        }
        let contiguous = Tensor.strides(of: record.shape) == record.stride
        if contiguous {
            return Tensor(shape: record.shape, values: Array(all[record.offset..<(record.offset + count)]))
        }
        var values = [Float](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: record.shape.count)
        for i in 0..<count {
            var offset = record.offset
            for axis in 0..<index.count { offset += index[axis] * record.stride[axis] }
            values[i] = all[offset]
            var axis = index.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < record.shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return Tensor(shape: record.shape, values: values)
    }
}
