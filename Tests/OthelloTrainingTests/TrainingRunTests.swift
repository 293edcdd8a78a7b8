import Foundation
import OthelloModel
import OthelloRules
@testable import OthelloTraining
import WorkbenchSupport
import XCTest

final class TrainingRunTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("othello-training-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func tinyOptions(games: Int = 8 * 16, learningRate: Float = 3e-3, source: TrainingGames.Source = .synthetic) throws -> TrainingOptions {
        try TrainingOptions(config: ModelConfig(nLayers: 1, dModel: 16, nHeads: 2, dMLP: 32), games: games, batchSize: 16,
                            learningRate: learningRate, seed: 7, source: source, evaluationGames: 32)
    }

    func outputs(_ name: String, evaluateEvery: Int = 2) -> TrainingRun.Outputs {
        TrainingRun.Outputs(model: folder.appendingPathComponent("\(name).safetensors"),
                            checkpoint: folder.appendingPathComponent("\(name).ckpt.safetensors"),
                            checkpointEvery: 1e9, evaluateEvery: evaluateEvery, log: folder.appendingPathComponent("\(name).jsonl"))
    }

    func testTinyModelMemorisesAFewGames() throws {
        // The tiny task: eight games, seen again and again; the first move tells them apart, so a one-layer
        // model can learn every next move.
        let file = folder.appendingPathComponent("eight.npy")
        let games = RandomGames.generate(count: 9, seed: 11, threads: 1)   // one is held out
        try games.write(to: file)
        let options = try TrainingOptions(config: ModelConfig(nLayers: 1, dModel: 32, nHeads: 2, dMLP: 64), games: 150 * 8, batchSize: 8,
                                          learningRate: 1e-2, seed: 1, warmupSteps: 10, source: .file(path: file.path), evaluationGames: 1)
        let run = try TrainingRun(options: options, threads: 2)
        let initialLoss = try run.trainer.computeGradients(run.data.batch(step: 0, size: 8))
        XCTAssertGreaterThan(initialLoss, 4)   // about ln 61 = 4.11 at initialisation
        let out = outputs("memorise", evaluateEvery: 25)
        XCTAssertEqual(try run.run(outputs: out), .finished)
        let losses = try TrainingLog.read(out.log!).map(\.loss)
        XCTAssertEqual(losses.count, 6)
        XCTAssertLessThan(losses[5], 0.5, "losses \(losses)")
        XCTAssertLessThan(try run.trainer.computeGradients(run.data.batch(step: 0, size: 8)), 0.5)
        // The model file loads as a model with the trainer's weights.
        let model = try HookedTransformer.load(from: out.model)
        XCTAssertEqual(model.config, options.config)
        XCTAssertEqual(Array(model.parameters.buffer), Array(run.trainer.parameters.buffer))
    }

    func testTinyModelLearnsLegalMoves() throws {
        let options = try TrainingOptions(config: ModelConfig(nLayers: 1, dModel: 32, nHeads: 2, dMLP: 64), games: 120 * 16, batchSize: 16,
                                          learningRate: 1e-2, seed: 1, warmupSteps: 10, evaluationGames: 32)
        let run = try TrainingRun(options: options, threads: 2)
        let before = try run.trainer.legalMoveAccuracy(run.data.evaluation)
        let initialLoss = try run.trainer.computeGradients(run.data.batch(step: 0, size: 16))
        XCTAssertGreaterThan(initialLoss, 4)   // about ln 61 = 4.11 at initialisation
        let out = outputs("learn", evaluateEvery: 40)
        XCTAssertEqual(try run.run(outputs: out), .finished)
        let lines = try TrainingLog.read(out.log!)
        XCTAssertEqual(lines.map(\.step), [40, 80, 120])
        // Uniform guessing over 61 tokens is ln 61 = 4.11 nats; random-legal-move play needs ≈ 2 nats at best.
        XCTAssertLessThan(lines[2].loss, initialLoss - 0.25, "losses \(lines.map(\.loss))")
        XCTAssertGreaterThan(lines[2].legalTop1, before + 0.2, "legal top-1 \(before) → \(lines.map(\.legalTop1))")
    }

    func testResumedRunEqualsUninterruptedRun() throws {
        let straight = try TrainingRun(options: tinyOptions(), threads: 2)
        XCTAssertEqual(try straight.run(outputs: outputs("straight")), .finished)

        let first = try TrainingRun(options: tinyOptions(), threads: 1)
        var steps = 0
        let out = outputs("resumed")
        XCTAssertEqual(try first.run(outputs: out, shouldStop: { steps += 1; return steps > 4 }), .stopped(step: 4))
        let checkpoint = try Checkpoint.read(from: out.checkpoint)
        XCTAssertEqual(checkpoint.step, 4)
        XCTAssertEqual(checkpoint.options, try tinyOptions())
        let resumed = try TrainingRun(resuming: checkpoint, threads: 2)
        XCTAssertEqual(try resumed.run(outputs: out), .finished)

        XCTAssertEqual(Array(resumed.trainer.parameters.buffer), Array(straight.trainer.parameters.buffer))
        XCTAssertEqual(resumed.trainer.optimizer.secondMoment, straight.trainer.optimizer.secondMoment)
        let straightLog = try TrainingLog.read(outputs("straight").log!), resumedLog = try TrainingLog.read(out.log!)
        XCTAssertEqual(resumedLog.map(\.step), straightLog.map(\.step))
        XCTAssertEqual(resumedLog.map(\.loss), straightLog.map(\.loss))
        XCTAssertEqual(resumedLog.map(\.legalTop1), straightLog.map(\.legalTop1))
    }

    /// A compact checkpoint (F16 weights, BF16 moments) is half the size, reads back as the rounded state, and a
    /// run resumed from it goes on to the end.
    func testCompactCheckpointResumes() throws {
        let first = try TrainingRun(options: tinyOptions(), threads: 1)
        var steps = 0
        let out = outputs("compact")
        XCTAssertEqual(try first.run(outputs: out, shouldStop: { steps += 1; return steps > 4 }), .stopped(step: 4))
        let full = try Checkpoint.read(from: out.checkpoint)
        let compactURL = folder.appendingPathComponent("compact-small.ckpt.safetensors")
        try full.write(to: compactURL, compact: true)
        let size = { (url: URL) in try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int }
        XCTAssertLessThan(try size(compactURL), try size(out.checkpoint) * 55 / 100)
        let compact = try Checkpoint.read(from: compactURL)
        XCTAssertEqual(compact.step, 4)
        XCTAssertEqual(compact.options, full.options)
        for (a, b) in zip(Array(compact.parameters.buffer), Array(full.parameters.buffer)) {
            XCTAssertEqual(a, b, accuracy: abs(b) / 2048 + 1e-7)
        }
        for (a, b) in zip(compact.secondMoment, full.secondMoment) { XCTAssertEqual(a, b, accuracy: abs(b) / 256) }
        let resumed = try TrainingRun(resuming: compact, threads: 1)
        XCTAssertEqual(try resumed.run(outputs: outputs("compact-resumed")), .finished)
        XCTAssertEqual(resumed.step, full.options.totalSteps)
    }

    func testResumeDropsLogLinesAfterTheCheckpoint() throws {
        let out = outputs("log")
        let run = try TrainingRun(options: tinyOptions(), threads: 1)
        XCTAssertEqual(try run.run(outputs: out), .finished)
        XCTAssertEqual(try TrainingLog.read(out.log!).map(\.step), [2, 4, 6, 8])
        _ = try TrainingLog(url: out.log!, keepingStepsThrough: 5)
        XCTAssertEqual(try TrainingLog.read(out.log!).map(\.step), [2, 4])
    }

    func testTrainingOnAGamesFileHoldsGamesOut() throws {
        let file = folder.appendingPathComponent("games.npy")
        try RandomGames.generate(count: 100, seed: 3, threads: 1).write(to: file)
        let data = try TrainingGames(source: .file(path: file.path), seed: 1, evaluationGames: 512)
        XCTAssertEqual(data.evaluation.games.count, 10)   // at most a tenth of the file
        XCTAssertEqual(data.epochSize, 90)
        // An epoch visits every training game once; the next epoch is another order of the same games.
        let epoch = (0..<9).flatMap { data.batch(step: $0, size: 10).tokens }
        let next = (9..<18).flatMap { data.batch(step: $0, size: 10).tokens }
        XCTAssertNotEqual(epoch, next)
        XCTAssertEqual(Set(stride(from: 0, to: epoch.count, by: 60).map { Array(epoch[$0..<($0 + 60)]) }),
                       Set(stride(from: 0, to: next.count, by: 60).map { Array(next[$0..<($0 + 60)]) }))
        let run = try TrainingRun(options: tinyOptions(games: 32, source: .file(path: file.path)), threads: 1)
        XCTAssertEqual(try run.run(outputs: outputs("file")), .finished)
    }

    func testDivergingRunStopsAndKeepsTheLastCheckpoint() throws {
        let out = outputs("diverge")
        let run = try TrainingRun(options: tinyOptions(), threads: 1)
        var steps = 0
        XCTAssertEqual(try run.run(outputs: out, shouldStop: { steps += 1; return steps > 2 }), .stopped(step: 2))
        let saved = try Data(contentsOf: out.checkpoint)
        let checkpoint = try Checkpoint.read(from: out.checkpoint)
        checkpoint.parameters.base[0] = .nan   // W_E[0, 0]: poisons every game's first position
        checkpoint.parameters.base[checkpoint.parameters.layout.W_E + 16 * 1] = .infinity
        let broken = try TrainingRun(resuming: checkpoint, threads: 1)
        XCTAssertThrowsError(try broken.run(outputs: out)) { error in
            let message = (error as? WorkbenchError)?.description ?? "\(error)"
            XCTAssertTrue(message.contains("diverged at step 3"), message)
            XCTAssertTrue(message.contains("--lr"), message)
        }
        XCTAssertEqual(try Data(contentsOf: out.checkpoint), saved, "the last good checkpoint is kept")
    }

    func testBadCheckpointsAreClearErrors() throws {
        let garbage = folder.appendingPathComponent("garbage.safetensors")
        try Data("not a checkpoint at all".utf8).write(to: garbage)
        XCTAssertThrowsError(try Checkpoint.read(from: garbage)) { XCTAssertTrue("\($0)".contains(garbage.path)) }

        // A model file (weights only) is not a checkpoint.
        let out = outputs("weights")
        let run = try TrainingRun(options: tinyOptions(games: 16), threads: 1)
        XCTAssertEqual(try run.run(outputs: out), .finished)
        XCTAssertThrowsError(try Checkpoint.read(from: out.model)) { error in
            XCTAssertTrue("\(error)".contains("not a training checkpoint"), "\(error)")
        }
        // A checkpoint with a tensor missing.
        let file = try SafetensorsFile.read(from: out.checkpoint)
        let kept = try file.names.filter { $0 != "optimizer.exp_avg.unembed.b_U" }.map { ($0, try file.tensor($0)) }
        let truncated = folder.appendingPathComponent("truncated.safetensors")
        try SafetensorsFile.write(kept, metadata: file.metadata, to: truncated)
        XCTAssertThrowsError(try Checkpoint.read(from: truncated)) { error in
            XCTAssertTrue("\(error)".contains("optimizer.exp_avg.unembed.b_U is missing"), "\(error)")
        }
        XCTAssertThrowsError(try Checkpoint.read(from: folder.appendingPathComponent("absent.safetensors")))
    }

    func testSizesThatDoNotFitAreRejectedBeforeTraining() throws {
        XCTAssertThrowsError(try ModelConfig(nLayers: 1, dModel: 30, nHeads: 4, dMLP: 32)) { error in
            XCTAssertTrue("\(error)".contains("not divisible"), "\(error)")
        }
        let short = try ModelConfig(nLayers: 1, dModel: 16, nHeads: 2, dMLP: 32, nCtx: 40)
        XCTAssertThrowsError(try TrainingOptions(config: short, games: 100, batchSize: 10, learningRate: 1e-3, seed: 1)) { error in
            XCTAssertTrue("\(error)".contains("shorter than the 59 positions"), "\(error)")
        }
        let config = try ModelConfig(nLayers: 1, dModel: 16, nHeads: 2, dMLP: 32)
        XCTAssertThrowsError(try TrainingOptions(config: config, games: 5, batchSize: 10, learningRate: 1e-3, seed: 1))
        XCTAssertThrowsError(try TrainingOptions(config: config, games: 100, batchSize: 10, learningRate: -1, seed: 1))
    }

    func testLearningRateSchedule() {
        let schedule = LearningRateSchedule(peak: 1e-3, warmupSteps: 10, totalSteps: 110, floor: 1e-4)
        XCTAssertEqual(schedule.learningRate(atStep: 0), 1e-4, accuracy: 1e-9)
        XCTAssertEqual(schedule.learningRate(atStep: 9), 1e-3, accuracy: 1e-9)
        XCTAssertEqual(schedule.learningRate(atStep: 10), 1e-3, accuracy: 1e-9)
        XCTAssertEqual(schedule.learningRate(atStep: 60), 5.5e-4, accuracy: 1e-9)   // half-way down the cosine
        XCTAssertEqual(schedule.learningRate(atStep: 110), 1e-4, accuracy: 1e-9)
        XCTAssertEqual(schedule.learningRate(atStep: 500), 1e-4, accuracy: 1e-9)
    }
}
