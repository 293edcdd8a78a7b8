import Foundation
import WorkbenchSupport

/// One measurement of a checkpoint during a long run: a line of a milestones file (JSON Lines, written by
/// scripts/train-d256/milestone.sh from `othello-gpt study --quick` of the checkpoint).
///
///     let milestones = try TrainingMilestone.read(URL(fileURLWithPath: "milestones.jsonl"))
///     milestones.last?.bestLinearRelative.accuracy
public struct TrainingMilestone: Decodable, Equatable {
    public struct Probe: Decodable, Equatable { public var accuracy: Double }
    public struct Edit: Decodable, Equatable { public var error: Double }
    /// Games the checkpoint had trained on.
    public var games: Int
    /// The fraction of held-out predictions that are legal moves.
    public var legalTop1: Double
    /// The best layer's linear mine/theirs probe.
    public var bestLinearRelative: Probe
    /// The best layer's linear colour probe accuracy.
    public var bestLinearColour: Double
    /// The best layer's MLP colour probe.
    public var bestMlpColour: Probe
    /// Li et al.'s top-N error of the null edit (the model's prediction left as it is).
    public var nullError: Double
    /// The best single-hook probe-direction edit.
    public var bestSingleDirectionEdit: Edit

    /// The milestones of `url`, in the order of games seen; throws naming the line that is not a milestone.
    public static func read(_ url: URL) throws -> [TrainingMilestone] {
        try read(data: readFile(url), source: url.path)
    }

    /// The milestones in the bytes of a milestones file (see `read(_:)`); `source` names the file in errors.
    public static func read(data: Data, source: String) throws -> [TrainingMilestone] {
        let text = try utf8Text(data, source: source)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        // Empty lines are skipped, but counted, so that an error names the line an editor shows.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated().filter { !$0.element.isEmpty }
        let milestones = try lines.map { index, line in
            guard let milestone = try? decoder.decode(TrainingMilestone.self, from: Data(line.utf8)) else {
                throw WorkbenchError("\(source), line \(index + 1): not a milestone (games, legal_top1, best_linear_relative, best_linear_colour, best_mlp_colour, null_error, best_single_direction_edit); write milestones with scripts/train-d256/milestone.sh")
            }
            return milestone
        }
        guard !milestones.isEmpty else { throw WorkbenchError("\(source): no milestones in the file") }
        return milestones.sorted { $0.games < $1.games }
    }
}
