import Foundation
import OthelloModel
import WorkbenchSupport

/// Counts of a probe's (or a baseline's) predictions against the rules engine's labels: per-square accuracy
/// overall, by square, by token position and by true class, and whole-board accuracy (all 64 squares right) —
/// papers and their readers mix the two.
///
///     var score = ProbeScore(classes: 3, positions: 59)
///     score.add(predictions: predicted, labels: truth, position: 12)   // one row: 64 predictions
///     score.accuracy                                                   // correct / (rows × 64)
public struct ProbeScore: Codable, Equatable, Sendable {
    public private(set) var correct = 0
    public private(set) var total = 0
    /// Per square (64).
    public private(set) var squareCorrect: [Int]
    public private(set) var squareTotal: [Int]
    /// Per token position.
    public private(set) var positionCorrect: [Int]
    public private(set) var positionTotal: [Int]
    /// Per true class: how many squares of that class were predicted right (recall).
    public private(set) var classCorrect: [Int]
    public private(set) var classTotal: [Int]
    /// Per class: how many squares were predicted as that class (for precision).
    public private(set) var classPredicted: [Int]
    /// Rows (positions) with all 64 squares right, overall and per token position.
    public private(set) var boardsCorrect = 0
    public private(set) var positionBoardsCorrect: [Int]

    public init(classes: Int, positions: Int) {
        squareCorrect = Array(repeating: 0, count: 64)
        squareTotal = Array(repeating: 0, count: 64)
        positionCorrect = Array(repeating: 0, count: positions)
        positionTotal = Array(repeating: 0, count: positions)
        positionBoardsCorrect = Array(repeating: 0, count: positions)
        classCorrect = Array(repeating: 0, count: classes)
        classTotal = Array(repeating: 0, count: classes)
        classPredicted = Array(repeating: 0, count: classes)
    }

    /// Adds one row: 64 predicted and 64 true classes at token position `position`.
    public mutating func add(predictions: UnsafePointer<UInt8>, labels: UnsafePointer<UInt8>, position: Int) {
        var rowCorrect = 0
        for square in 0..<64 {
            let label = Int(labels[square])
            let hit = predictions[square] == labels[square] ? 1 : 0
            rowCorrect += hit
            squareCorrect[square] += hit
            squareTotal[square] += 1
            classCorrect[label] += hit
            classTotal[label] += 1
            classPredicted[Int(predictions[square])] += 1
        }
        correct += rowCorrect
        total += 64
        positionCorrect[position] += rowCorrect
        positionTotal[position] += 64
        if rowCorrect == 64 { boardsCorrect += 1; positionBoardsCorrect[position] += 1 }
    }

    /// The share of squares predicted right (0 when nothing was scored).
    public var accuracy: Double { total > 0 ? Double(correct) / Double(total) : 0 }
    public var perSquare: [Double] { zip(squareCorrect, squareTotal).map { $1 > 0 ? Double($0) / Double($1) : .nan } }
    /// NaN for positions with no rows.
    public var perPosition: [Double] { zip(positionCorrect, positionTotal).map { $1 > 0 ? Double($0) / Double($1) : .nan } }
    /// The share of positions with every square right; per token position (NaN for positions with no rows).
    public var wholeBoardAccuracy: Double { total > 0 ? Double(boardsCorrect) / Double(total / 64) : 0 }
    public var wholeBoardPerPosition: [Double] { zip(positionBoardsCorrect, positionTotal).map { $1 > 0 ? Double($0) / Double($1 / 64) : .nan } }
    public var perClass: [Double] { zip(classCorrect, classTotal).map { $1 > 0 ? Double($0) / Double($1) : .nan } }

    /// The mean recall of the classes that occur: what accuracy means when one class is rare. A probe that always
    /// answers "no" to a target true at 4% of squares has accuracy 0.96 and balanced accuracy 0.5.
    ///
    ///     // labels  yes no no no, predictions yes yes no no: recall(yes) 1, recall(no) 2/3
    ///     score.balancedAccuracy   // (1 + 2/3) / 2 = 0.833
    public var balancedAccuracy: Double {
        let recalls = zip(classCorrect, classTotal).filter { $1 > 0 }.map { Double($0) / Double($1) }
        return recalls.isEmpty ? 0 : recalls.reduce(0, +) / Double(recalls.count)
    }

    /// F1 of class `positive` (class 1, "yes" / "empty", in the two-class bases): 2·TP / (2·TP + FP + FN), the
    /// harmonic mean of its precision and recall; 0 when it neither occurs nor is predicted.
    ///
    ///     // labels  yes no no no, predictions yes yes no no: TP 1, FP 1, FN 0
    ///     score.f1()   // 2 / (2 + 1 + 0) = 0.667
    public func f1(ofClass positive: Int = 1) -> Double {
        let denominator = classPredicted[positive] + classTotal[positive]   // (TP + FP) + (TP + FN)
        return denominator > 0 ? 2 * Double(classCorrect[positive]) / Double(denominator) : 0
    }
}

/// What `ProbeEvaluator.evaluate` finds: a score per mode of the probe (each on the positions of its mode) and,
/// for several modes, the matched-mode score (each position scored by the mode of the player who moves next).
public struct ProbeEvaluation {
    public var modes: [ProbeMode]
    public var perMode: [ProbeScore]
    public var matched: ProbeScore?

    /// The headline score: the matched-mode score of a multi-mode probe, else the single mode's.
    public var headline: ProbeScore { matched ?? perMode[0] }
}

public enum ProbeEvaluator {
    /// Scores `probe` on `data` (its activations at the probe's hook).
    public static func evaluate(_ probe: Probe, on data: ProbeData, hook: ProbeHook, positions: Int) throws -> ProbeEvaluation {
        guard let inputs = data.activations[hook] else { throw WorkbenchError("probe evaluation: no activations cached at \(hook.name)") }
        guard inputs.width == probe.inputWidth else {
            throw WorkbenchError("probe evaluation: \(hook.name) is \(inputs.width) wide, the probe reads \(probe.inputWidth)")
        }
        let labels = data.labels(probe.basis)
        var perMode = Array(repeating: ProbeScore(classes: probe.classes, positions: positions), count: probe.modes.count)
        var matched = probe.modes.count > 1 ? ProbeScore(classes: probe.classes, positions: positions) : nil
        let matchedMode = data.positions.map { ProbeMode.matched($0, among: probe.modes) }
        for (m, mode) in probe.modes.enumerated() {
            let predictions = probe.predict(mode: m, inputs: inputs.pointer, rows: data.rows)
            predictions.withUnsafeBufferPointer { predicted in
                labels.withUnsafeBufferPointer { truth in
                    for (row, position) in data.positions.enumerated() {
                        let p = predicted.baseAddress! + row * 64, t = truth.baseAddress! + row * 64
                        if mode.contains(position) { perMode[m].add(predictions: p, labels: t, position: position.position) }
                        if matchedMode[row] == m { matched?.add(predictions: p, labels: t, position: position.position) }
                    }
                }
            }
        }
        return ProbeEvaluation(modes: probe.modes, perMode: perMode, matched: matched)
    }
}

/// The trivial control: for every square and token position, the class most frequent in the training rows.
/// A probe that does not beat it has learned nothing about the game in hand.
public struct TrivialBaseline {
    public let basis: ProbeBasis
    /// `positions × 64` classes.
    public let table: [UInt8]
    public let positions: Int

    /// The most frequent class per (position, square) among `data`'s rows (ties to the lower class).
    public init(basis: ProbeBasis, fittedOn data: ProbeData, positions: Int) {
        let c = basis.classCount
        var counts = [Int](repeating: 0, count: positions * 64 * c)
        let labels = data.labels(basis)
        for (row, position) in data.positions.enumerated() {
            for square in 0..<64 { counts[(position.position * 64 + square) * c + Int(labels[row * 64 + square])] += 1 }
        }
        var table = [UInt8](repeating: 0, count: positions * 64)
        for cell in 0..<(positions * 64) {
            var best = 0
            for k in 1..<c where counts[cell * c + k] > counts[cell * c + best] { best = k }
            table[cell] = UInt8(best)
        }
        self.basis = basis
        self.table = table
        self.positions = positions
    }

    /// Its score on `data`.
    public func score(on data: ProbeData) -> ProbeScore {
        var score = ProbeScore(classes: basis.classCount, positions: positions)
        let labels = data.labels(basis)
        table.withUnsafeBufferPointer { table in
            labels.withUnsafeBufferPointer { labels in
                for (row, position) in data.positions.enumerated() where position.position < positions {
                    score.add(predictions: table.baseAddress! + position.position * 64, labels: labels.baseAddress! + row * 64,
                              position: position.position)
                }
            }
        }
        return score
    }
}
