import Foundation
import WorkbenchSupport

extension HookedTransformer {
    /// Runs the model on `games` rows of `tokens` (`games × n_ctx`) batch by batch and streams every hook point
    /// `filter` keeps to `folder/NAME.npy` (float32, shaped as TransformerLens caches it), and with `logits`
    /// `folder/logits.npy` `[games, n_ctx, d_vocab]`: `othello-gpt cache`. The files appear only when complete;
    /// on failure none is left behind, nor the folder if this call made it.
    public func writeCache(tokens: [Int32], games: Int, filter: HookFilter, logits: Bool, to folder: URL, batchSize: Int,
                           progressLabel: String = "cache") throws {
        let T = config.nCtx
        let points = HookPoint.all(config: config, includeResult: true).filter(filter.matches)
        // The final layer norm's and the unembedding's hooks are computed only along with the logits.
        let needsLogits = logits || points.contains { $0.layer == nil && $0.kind >= .residPre }
        let newFolder = !FileManager.default.fileExists(atPath: folder.path)
        try createOutputFolder(folder)
        var writers: [NPYStreamWriter] = []
        var logitsWriter: NPYStreamWriter?
        var finished = false
        defer {
            writers.forEach { $0.discard() }
            logitsWriter?.discard()
            if !finished && newFolder { rmdir(folder.path) }
        }
        for point in points {
            writers.append(try NPYStreamWriter(url: folder.appendingPathComponent(point.name + ".npy"), shape: point.shape(batch: games, positions: T, config: config)))
        }
        if logits { logitsWriter = try NPYStreamWriter(url: folder.appendingPathComponent("logits.npy"), shape: [games, T, config.dVocab]) }
        let batch = max(1, batchSize)
        let arena = ActivationArena(config: config, maxBatch: min(batch, games), mode: .inference)
        let progress = ProgressBar(total: games, label: progressLabel)
        var start = 0
        while start < games {
            let count = min(batch, games - start)
            let chunk = Array(tokens[(start * T)..<((start + count) * T)])
            let cache = try runWithCache(tokens: chunk, games: count, positions: T, filter: filter,
                                         options: RunOptions(batchSize: batch, computeLogits: needsLogits, arena: arena))
            for (i, point) in points.enumerated() {
                guard let activation = cache[point] else { throw WorkbenchError("cache: the run did not reach \(point.name)") }
                try writers[i].append(activation.values)
            }
            if let values = cache.logits { try logitsWriter?.append(values.values) }
            start += count
            progress.advance(by: count)
        }
        progress.finish()
        for i in writers.indices { try writers[i].commit() }
        try logitsWriter?.commit()
        finished = true
    }
}
