import Foundation

/// The one way the workbench writes JSON: `Codable` values with snake_case keys (`nullError` → `null_error`),
/// keys sorted, non-finite numbers as the strings "nan", "inf" and "-inf". Every `--json`, report.json and
/// sweep.json goes through it, and reads back with `decoder`.
///
///     struct Score: Codable { var nullError: Double }
///     try JSONOutput.string(Score(nullError: 2.5))   // {"null_error":2.5} (pretty-printed)
public enum JSONOutput {
    /// Pretty-printed, for files and `--json`.
    public static let encoder = makeEncoder(pretty: true)
    /// One line, for JSON Lines.
    public static let lineEncoder = makeEncoder(pretty: false)

    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }()

    /// `value` as pretty-printed JSON text.
    public static func string<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func makeEncoder(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }
}
