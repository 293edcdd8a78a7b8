import Foundation
import WorkbenchSupport

/// PyTorch `torch.save` zip archives of state dicts (placeholder, completed below).
enum TorchCheckpoint {
    static func read(from url: URL) throws -> StateDict {
        throw WorkbenchError("\(url.path): torch checkpoints are not read yet")
    }
}

/// minGPT checkpoints (placeholder).
public enum MinGPT {
    public static func convert(_ dict: StateDict, nHeads: Int?, process: Bool) throws -> StateDict {
        throw WorkbenchError("\(dict.source): minGPT checkpoints are not read yet")
    }
}
