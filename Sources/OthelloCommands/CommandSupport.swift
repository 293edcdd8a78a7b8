import Foundation
import OthelloProbes
import WorkbenchSupport

// Helpers every command shares: JSON printed one way, choices parsed one way (output paths: WorkbenchSupport/OutputPaths).

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
