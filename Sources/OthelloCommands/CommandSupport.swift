import Foundation
import OthelloProbes
import WorkbenchSupport

// Helpers every command shares: output paths checked before long work, JSON printed one way.

/// Throws unless a file can be created at `path` (its folder exists), before any long work.
func checkWritable(_ path: String) throws {
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
        throw WorkbenchError("\(path): the folder \(folder) does not exist; create it or choose another --out")
    }
}

/// Creates the output folder `folder` (and its parents) unless it exists, with a one-line error that names
/// `option` when the path is taken by a file or cannot be created.
///
///     try createOutputFolder(URL(fileURLWithPath: out))    // "--out study: a file is in the way; …"
func createOutputFolder(_ folder: URL, option: String = "--out") throws {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) {
        guard isFolder.boolValue else {
            throw WorkbenchError("\(option) \(folder.path): a file is in the way, not a folder; choose another \(option) or move the file")
        }
        return
    }
    do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
        throw WorkbenchError("\(option) \(folder.path): cannot create the folder (a file may be in the way on its path, or it is not writable); choose another \(option)")
    }
}

/// Prints `value` as one line of JSON, the workbench's way (`JSONOutput`: snake_case keys, sorted).
func printJSON<T: Encodable>(_ value: T) throws {
    print(String(decoding: try JSONOutput.lineEncoder.encode(value), as: UTF8.self))
}

/// Two results as one JSON object: `base`'s keys and `extra` under `key` (`intervene show`: the effect and its
/// `result`).
struct MergedJSON<Base: Encodable, Extra: Encodable>: Encodable {
    let base: Base
    let key: String
    let extra: Extra

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: Encoder) throws {
        try base.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(extra, forKey: Key(stringValue: key))
    }
}

/// An option's parser for a choice among an enum's names, with the workbench's one-line error naming them:
/// `@Option(transform: choice("--method")) var method: EditMethodChoice = .direction`.
func choice<T: RawRepresentable & CaseIterable>(_ option: String) -> (String) throws -> T where T.RawValue == String {
    { value in
        guard let chosen = T(rawValue: value) else {
            throw WorkbenchError("\(option) \(value): choose \(T.allCases.map(\.rawValue).joined(separator: " or "))")
        }
        return chosen
    }
}

/// `--modes`: one probe over every position, or Nanda's three (black to move, white to move, all).
enum ProbeModeChoice: String, CaseIterable {
    case all, nanda
    var modes: [ProbeMode] { self == .all ? [.all] : ProbeMode.nanda }
}

/// `--method` of the edit commands.
enum EditMethodChoice: String, CaseIterable {
    case direction, gradient
}

/// `probe convert --to`.
enum ProbeConversion: String, CaseIterable {
    case relative, same
}
