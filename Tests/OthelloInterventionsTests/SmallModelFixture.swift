import Foundation
import OthelloModel
import OthelloProbes
import OthelloRules

/// A small random model (2 layers, d_model 16), 40 full-length games and linear relative probes at both blocks'
/// resid_post, trained on those games: the edits' tests share it.
struct SmallModelFixture {
    let config: ModelConfig
    let model: HookedTransformer
    let games: GameDataset
    let hooks: [ProbeHook]
    let probes: [HookPoint: Probe]

    init() throws {
        config = try ModelConfig(nLayers: 2, dModel: 16, nHeads: 2, dMLP: 32)
        model = HookedTransformer.random(config: config, seed: 3, std: 0.3)
        games = RandomGames.generate(count: 40, seed: 5, fullLength: true)
        let config = self.config
        hooks = try (0..<2).map { try ProbeHook(layer: $0, config: config) }
        let data = try ProbeData.collect(model: model, games: games, indices: Array(0..<40), hooks: hooks)
        var probes: [HookPoint: Probe] = [:]
        for hook in hooks { probes[hook.point!] = try ProbeTrainer.train(kind: .linear, basis: .relative, hook: hook, on: data) }
        self.probes = probes
    }
}
