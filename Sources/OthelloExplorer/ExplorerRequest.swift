import Foundation
import OthelloInterventions
import OthelloModel
import OthelloRules
import WorkbenchSupport

/// The live explorer's request bodies, decoded and checked: JSON objects with snake_case keys, squares and moves as
/// in a case file (indices 0…63 or labels such as "C3"). Anything malformed is a `WorkbenchError` whose message is
/// the HTTP 400 answer. This is the fuzzed decoder (scripts/fuzz: `explorer-request`).
///
///     let moves = try ExplorerRequest.moves(from: Data(#"{"moves": ["D2", "C2"]}"#.utf8))
public enum ExplorerRequest {
    /// The largest body a request may have.
    public static let maximumBytes = 64 * 1024

    /// The body as a JSON object.
    public static func object(_ body: Data) throws -> [String: Any] {
        guard body.count <= maximumBytes else { throw WorkbenchError("the request body is \(body.count) bytes; at most \(maximumBytes)") }
        guard !body.isEmpty else { throw WorkbenchError("the request has no body; send a JSON object such as {\"moves\": [\"D2\"]}") }
        let value: Any
        do { value = try JSONSerialization.jsonObject(with: body) } catch { throw WorkbenchError("the body is not JSON: send a JSON object such as {\"moves\": [\"D2\"]}") }
        guard let object = value as? [String: Any] else { throw WorkbenchError("the body must be a JSON object, such as {\"moves\": [\"D2\"]}") }
        return object
    }

    /// `{"moves": [...]}`: the prefix.
    public static func moves(from body: Data) throws -> [Int] {
        try moves(in: object(body))
    }

    static func moves(in object: [String: Any]) throws -> [Int] {
        guard let values = object["moves"] as? [Any] else { throw WorkbenchError("no \"moves\" list (squares 0…63 or labels such as \"D2\")") }
        guard values.count <= 64 else { throw WorkbenchError("\"moves\" has \(values.count) entries; a game has at most 60") }
        return try InterventionCases.moves(values, place: "moves")
    }

    /// `{"moves", "layer", "head"}`.
    public static func attention(from body: Data) throws -> (moves: [Int], layer: Int, head: Int) {
        let object = try object(body)
        return (try moves(in: object), try integer(object, "layer"), try integer(object, "head"))
    }

    /// `{"moves", "square"?}`: the square whose logit to attribute (default: the model's top move).
    public static func attribution(from body: Data) throws -> (moves: [Int], square: Int?) {
        let object = try object(body)
        return (try moves(in: object), try object["square"].map { try InterventionCases.square($0, place: "square") })
    }

    /// `{"moves", "square", "edit"?, "method"?, "hook" | "layers"?, "scale"?, "lr"?, "steps"?, "stop_at"?, "positions"?}`: an edit as
    /// `intervene eval` takes it (defaults: flip, direction, scale 2, blocks.4.hook_resid_post, the last position;
    /// gradient: the scale-free step 0.1 × RMS, at most 200 steps, stopping at 0.999).
    public static func edit(from body: Data, config: ModelConfig) throws -> Explorer.EditRequest {
        let object = try object(body)
        let known: Set<String> = ["moves", "square", "edit", "method", "hook", "layers", "scale", "lr", "steps", "stop_at", "positions"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw WorkbenchError("unknown field \"\(unknown)\"; an edit has \(known.sorted().joined(separator: ", "))")
        }
        let edit = try InterventionCases.parse(object, place: "edit")
        let method: EditMethod
        switch try string(object, "method") ?? "direction" {
        case "direction":
            method = .direction(scale: try number(object, "scale") ?? 2)
        case "gradient":
            var gradient = GradientEdit.scaleFree
            if let lr = try number(object, "lr") {
                guard lr > 0, lr.isFinite else { throw WorkbenchError("\"lr\" must be positive, got \(lr)") }
                gradient.learningRate = lr
            }
            if object["steps"] != nil {
                let steps = try integer(object, "steps")
                guard steps >= 1 else { throw WorkbenchError("\"steps\" must be at least 1, got \(steps)") }
                gradient.steps = steps
            }
            // "stop_at": a probability in (0, 1], or false / null for every step.
            if let stop = object["stop_at"] {
                if stop is NSNull || (stop as? Bool) == false {
                    gradient.stopAt = nil
                } else {
                    guard let p = try number(object, "stop_at"), p > 0, p <= 1 else { throw WorkbenchError("\"stop_at\" must be a probability in (0, 1], or false for every step") }
                    gradient.stopAt = p
                }
            }
            method = .gradient(gradient)
        case let other: throw WorkbenchError("\"method\" must be \"direction\" or \"gradient\", got \"\(other)\"")
        }
        let positionsName = try string(object, "positions") ?? "last"
        guard let positions = EditPositions(rawValue: positionsName) else {
            throw WorkbenchError("\"positions\" must be \"last\" or \"from-edit\", got \"\(positionsName)\"")
        }
        let plan = try EditPlan.resolve(config: config, hook: try string(object, "hook"), layers: try string(object, "layers"), method: method,
                                        positions: positions, names: ("\"hook\"", "\"layers\""))
        return Explorer.EditRequest(edit: edit, plan: plan)
    }

    static func string(_ object: [String: Any], _ key: String) throws -> String? {
        guard let value = object[key] else { return nil }
        guard let text = value as? String else { throw WorkbenchError("\"\(key)\" must be a string, got \(value)") }
        return text
    }

    static func number(_ object: [String: Any], _ key: String) throws -> Float? {
        guard let value = object[key] else { return nil }
        guard let number = value as? NSNumber, !(value is Bool), number.doubleValue.isFinite, abs(number.doubleValue) < 1e6 else {
            throw WorkbenchError("\"\(key)\" must be a number, got \(value)")
        }
        return number.floatValue
    }

    static func integer(_ object: [String: Any], _ key: String) throws -> Int {
        guard let value = object[key] else { throw WorkbenchError("no \"\(key)\"") }
        guard let number = value as? NSNumber, let integer = Int(exactly: number.doubleValue), abs(integer) < 1_000_000 else {
            throw WorkbenchError("\"\(key)\" must be a whole number, got \(value)")
        }
        return integer
    }
}
