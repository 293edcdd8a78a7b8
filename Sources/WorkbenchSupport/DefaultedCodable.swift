import Foundation

/// A value whose JSON, written by an older version of the workbench, may lack keys added to the type since: those
/// keys take their values in `init()`. One mechanism for every settings file that grows (SAE recipes, sweep plans),
/// in place of a hand-written decoder per type.
///
///     struct Recipe: DefaultedCodable { var lr: Float = 1e-3; var steps = 100; init() {} }
///     let recipe = try Recipe.decode(from: Data(#"{"lr": 0.01}"#.utf8))   // steps: 100
///
/// Only the top-level keys are filled in; a key that is present is decoded as it is (a wrong type is still an
/// error, named by the decoder).
public protocol DefaultedCodable: Codable {
    init()
}

extension DefaultedCodable {
    /// Decodes JSON `data` with `decoder` (`JSONOutput.decoder` for files the workbench writes with
    /// `JSONOutput.encoder`, or a plain `JSONDecoder`), each key it lacks taken from `Self()`.
    public static func decode(from data: Data, decoder: JSONDecoder = JSONDecoder()) throws -> Self {
        let encoder = JSONEncoder()
        // The defaults are written as `decoder` reads: its key and non-finite float conventions.
        if case .convertFromSnakeCase = decoder.keyDecodingStrategy { encoder.keyEncodingStrategy = .convertToSnakeCase }
        if case let .convertFromString(positiveInfinity, negativeInfinity, nan) = decoder.nonConformingFloatDecodingStrategy {
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: positiveInfinity, negativeInfinity: negativeInfinity, nan: nan)
        }
        guard var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let defaults = try JSONSerialization.jsonObject(with: encoder.encode(Self())) as? [String: Any],
              defaults.keys.contains(where: { object[$0] == nil }) else {
            return try decoder.decode(Self.self, from: data)   // nothing missing, or not an object: the decoder says why
        }
        for (key, value) in defaults where object[key] == nil { object[key] = value }
        return try decoder.decode(Self.self, from: JSONSerialization.data(withJSONObject: object))
    }
}
