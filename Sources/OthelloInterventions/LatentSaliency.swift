import Foundation
import OthelloModel
import OthelloProbes
import OthelloRules
import WorkbenchSupport

/// Li et al.'s latent saliency map: for the model's top move after a prefix, flip each occupied square in turn
/// with the chosen edit and record how much that move's logit drops. Squares the prediction depends on light up.
public enum LatentSaliency {
    public struct Result: Codable, Sendable {
        /// The model's most likely next move (a square) before any edit.
        public var topMove: Int
        /// Per square, the drop of the top move's logit when the square is flipped; nil for empty squares.
        public var drops: [Double?]
    }

    /// The saliency of the prefix `moves` under edits like `plan` (its method, hooks and positions).
    public static func run(model: HookedTransformer, moves: [Int], probes: [HookPoint: Probe], plan: EditPlan, batchSize: Int = 64) throws -> Result {
        let replay = try GameReplay(moves: moves, source: "saliency prefix")
        guard let last = replay.steps.last, last.next != nil else { throw WorkbenchError("saliency: the game is over after the prefix") }
        let occupied = Bitboard.squares(~last.board.empty)
        let cases = try occupied.map { try PreparedCase(InterventionCase(moves: moves, square: $0), maxPositions: model.config.nCtx, source: "saliency") }
        let study = try InterventionStudy(model: model, cases: cases, probes: probes, batchSize: batchSize)
        let before = try study.logits(plan: nil), after = try study.logits(plan: plan)
        let top = (1..<before[0].count).max { before[0][$0] < before[0][$1] }!
        var drops = [Double?](repeating: nil, count: 64)
        for (i, square) in occupied.enumerated() { drops[square] = Double(before[i][top] - after[i][top]) }
        return Result(topMove: Vocabulary.squareUnchecked(forToken: top), drops: drops)
    }
}
