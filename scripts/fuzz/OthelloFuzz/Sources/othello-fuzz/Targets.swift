import Foundation
import OthelloExplorer
import OthelloSAEs
import OthelloInterventions
import OthelloModel
import OthelloPlots
import OthelloProbes
import OthelloRules
import OthelloTraining
import WorkbenchSupport

/// One reader of outside input, fuzzed on bytes through the entry point its command uses.
struct FuzzTarget {
    let name: String
    /// The file name the reader is given; its errors must name it.
    let source: String
    /// Bytes the reader may allocate per byte of input (above a fixed `FuzzTarget.slack`): checked on every input.
    let bytesPerInputByte: Int
    let read: (Data, String) throws -> Void

    init(_ name: String, _ source: String, bytesPerInputByte: Int = 64, read: @escaping (Data, String) throws -> Void) {
        self.name = name
        self.source = source
        self.bytesPerInputByte = bytesPerInputByte
        self.read = read
    }

    /// Bytes any input may make a reader allocate, whatever its size.
    static let slack = 16 << 20

    /// Every target. Adding a reader is adding a line here (seeds in seeds/NAME and a dictionary dict/NAME.dict are
    /// optional).
    static let all: [FuzzTarget] = [
        // Every storage the pickle names is there, 64 KiB of zeros.
        FuzzTarget("pickle", "fuzz.pkl") { _ = try TorchCheckpoint.read(pickle: [UInt8]($0), source: $1, storage: { _ in Data(count: 1 << 16) }) },
        FuzzTarget("pth", "fuzz.pth") { _ = try StateDict.read(data: $0, source: $1) },
        FuzzTarget("safetensors", "fuzz.safetensors") { _ = try StateDict.read(data: $0, source: $1) },
        FuzzTarget("model", "fuzz.safetensors") { _ = try HookedTransformer(stateDict: StateDict.read(data: $0, source: $1)) },
        FuzzTarget("npy", "fuzz.npy") { _ = try GameDataset.read(data: $0, format: .npy, source: $1) },
        FuzzTarget("wtb", "fuzz.wtb") { _ = try GameDataset.read(data: $0, format: .wtb, source: $1) },
        FuzzTarget("pgn", "fuzz.pgn") { _ = try GameDataset.read(data: $0, format: .pgn, source: $1) },
        FuzzTarget("txt", "fuzz.txt") { _ = try GameDataset.read(data: $0, format: .txt, source: $1) },
        FuzzTarget("probe", "fuzz.safetensors") { _ = try ProbeFile.load(data: $0, source: $1) },
        FuzzTarget("sae", "fuzz.safetensors") { _ = try SAEFile.load(data: $0, source: $1) },
        FuzzTarget("cases", "fuzz.jsonl") { data, source in
            _ = try InterventionCases.read(data: data, source: source).map { try PreparedCase($0, maxPositions: 59, source: source) }
        },
        // The live explorer's request bodies (a request names no file: the error is the HTTP 400 answer, prefixed here).
        FuzzTarget("explorer-request", "request.json") { data, source in
            do {
                _ = try ExplorerRequest.edit(from: data, config: .shipped)
                _ = try ExplorerRequest.attention(from: data)
                _ = try ExplorerRequest.attribution(from: data)
                _ = try ExplorerRequest.moves(from: data)
            } catch let error as WorkbenchError {
                throw WorkbenchError("\(source): \(error.description)")
            }
        },
        FuzzTarget("checkpoint", "fuzz.ckpt.safetensors") { _ = try Checkpoint.read(data: $0, source: $1) },
        FuzzTarget("log", "fuzz.jsonl") { _ = try TrainingLog.read(data: $0, source: $1) },
        FuzzTarget("milestones", "fuzz.jsonl") { _ = try TrainingMilestone.read(data: $0, source: $1) },
        // A PNG may hold 8 pixels a byte, deflated at most 1032 times: 4 bytes of RGBA each.
        FuzzTarget("png", "fuzz.png", bytesPerInputByte: 8 * 1032 * 4) { _ = try PNG.decode($0, name: $1) },
    ]
}
