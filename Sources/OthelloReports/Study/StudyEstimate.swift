import Foundation
import OthelloModel
import OthelloRules

/// How long each step will take here: the model's forward pass is timed on a few games, and each step's work is
/// counted in forward passes of one game (probe training and gradient edits in the equivalent floating-point work).
/// The factors were fitted to measured studies on the development machine; an estimate, not a promise.
public struct StudyEstimate {
    public var seconds: [String: Double] = [:]

    public init(model: HookedTransformer, plan: StudyPlan, gameCount: Int, batchSize: Int) throws {
        let config = model.config
        let T = config.nCtx, d = Double(config.dModel), L = Double(config.nLayers)
        let timing = RandomGames.generate(count: 16, seed: 99, fullLength: true)
        let tokens = timing.tokenBatch(0..<16, positions: T)
        _ = try model.logits(tokens: tokens, games: 16, positions: T)           // warm-up
        let started = Date()
        _ = try model.logits(tokens: tokens, games: 16, positions: T)
        let perGame = max(Date().timeIntervalSince(started) / 16, 1e-5)
        // Floating-point operations of one game's forward pass, to turn other work into forward passes.
        let forwardFlops = 2 * Double(T) * (L * (4 * d * d + 2 * d * Double(config.dMLP)) + d * Double(config.dVocab)) + 4 * L * Double(T * T) * d
        let perFlop = perGame / forwardFlops
        let games = Double(gameCount), train = games * (1 - plan.testFraction)
        seconds["legal"] = 0.5 * perGame * (games + (plan.wthor == nil ? 0 : 2010))
        if plan.probeFiles.isEmpty {
            let rows = train * Double(T) * Double(plan.probeEpochs)
            let linear = 6 * d * 192, mlp = 6 * (d * 128 + 128 * 192)
            let perModel = (L + 1) * rows * (3 * linear + 2 * mlp)
            // Two models (trained and random-init); probe steps run at about a quarter of the forward pass's rate.
            seconds["probes"] = 0.7 * (games * perGame * 1.3 + perModel * perFlop * 4)
        } else {
            seconds["probes"] = games * plan.testFraction * perGame
        }
        let cases = Double(plan.cases)
        let directionPlans = Double(plan.scales.count) * 4 * L + Double(plan.multiScales.count) * L
        // Li et al.'s edits take every step; the scale-free ones stop early (about 40 steps an activation, measured).
        let liPlans = plan.gradientSteps > 0 ? 2 * L : 0, scaleFreePlans = Double(plan.learningRates?.count ?? 0) * 3 * L
        let gradientWork = (liPlans * Double(plan.gradientSteps) + scaleFreePlans * 40) * cases * 6 * d * 192 * (L / 2) * perFlop * 4
            + scaleFreePlans * cases * perGame * 0.6
        let probeTraining = min(train, 3000) * (perGame + Double(T) * Double(plan.probeEpochs) * 6 * d * 192 * L * perFlop * 4)
        seconds["edits"] = 0.7 * (directionPlans * cases * perGame * 0.6 + gradientWork + probeTraining)
        seconds["effect"] = cases * perGame * 4
        seconds["examples"] = perGame * (Double(config.nLayers) * 30 / 8 + 64) + 5
        seconds["circuit"] = perGame * min(games * plan.testFraction, 400) * 30
    }
}
