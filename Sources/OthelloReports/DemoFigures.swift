import Foundation
import OthelloPlots
import OthelloRules

/// One example of every figure kind, from statistics of random games: `othello-gpt figure demo`.
/// "Mine" is the side to move next (Nanda's convention).
public enum DemoFigures {
    /// The figures by file name: a position, a board heatmap, a board grid, a line plot, a matrix heatmap.
    public static func all(games dataset: GameDataset) throws -> [(name: String, figure: any Figure)] {
        let replays = try (0..<dataset.count).map { try GameReplay(moves: dataset[$0], source: "random game \($0)") }
        return [
            ("board-position.png", try BoardHeatmap.position(ofGame: replays[0].moves, after: min(20, replays[0].moves.count),
                                                             name: "Random game 0", title: nil, marksLegalMoves: true)),
            ("board-heatmap.png", ownershipVersusWinning(replays, after: 40)),
            ("board-grid.png", occupiedShare(replays, after: [2, 4, 6, 8, 12, 20, 30, 45])),
            ("line-plot.png", mobility(replays)),
            ("matrix-heatmap.png", toyAttention(replays[0], length: 16)),
        ]
    }

    /// +1 for mine, −1 for theirs, 0 for empty, relative to the side to move.
    static func sign(_ colour: RelativeColour) -> Double {
        switch colour {
        case .mine: return 1
        case .theirs: return -1
        case .empty: return 0
        }
    }

    /// Per square: the correlation between who owns it after `moves` moves (black +1, white −1,
    /// empty 0) and who wins (black +1, white −1, draw 0), over complete games that long.
    public static func ownershipVersusWinning(_ replays: [GameReplay], after moves: Int) -> BoardHeatmap {
        let games = replays.filter { $0.steps.count >= moves && $0.isComplete }
        let outcomes = games.map { replay -> Double in
            let score = replay.finalPosition.board.finalScore
            return score.black > score.white ? 1 : (score.black < score.white ? -1 : 0)
        }
        let values = (0..<64).map { square -> Double in
            let owners = games.map { replay -> Double in
                switch replay.steps[moves - 1].board[square] {
                case .black: return 1
                case .white: return -1
                case .empty: return 0
                }
            }
            return correlation(owners, outcomes)
        }
        return BoardHeatmap(values: values, cellText: .values(decimals: 2),
                            title: "Owning a square after \(moves) moves vs winning (\(games.count) games)",
                            scale: .diverging(label: "correlation"))
    }

    /// Pearson correlation; NaN when either side is constant.
    static func correlation(_ x: [Double], _ y: [Double]) -> Double {
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) {
            sxy += (a - mx) * (b - my)
            sxx += (a - mx) * (a - mx)
            syy += (b - my) * (b - my)
        }
        return sxy / (sxx * syy).squareRoot()
    }

    /// Per square and move count: (mine − theirs) / (mine + theirs), NaN where no game has a disc there.
    public static func occupiedShare(_ replays: [GameReplay], after moveCounts: [Int]) -> BoardGrid {
        let boards = moveCounts.map { moves -> BoardHeatmap in
            var balance = [Double](repeating: 0, count: 64), occupied = [Double](repeating: 0, count: 64)
            for replay in replays where replay.steps.count >= moves {
                for (square, colour) in replay.steps[moves - 1].relativeColours.enumerated() where colour != .empty {
                    balance[square] += sign(colour)
                    occupied[square] += 1
                }
            }
            return BoardHeatmap(values: (0..<64).map { occupied[$0] > 0 ? balance[$0] / occupied[$0] : .nan },
                                title: "after \(moves) moves")
        }
        return BoardGrid(boards: boards, columns: 4, title: "Occupied squares: mine − theirs share, by move",
                         scale: .diverging(limit: 1, label: "(mine − theirs) / occupied"))
    }

    /// Mean legal moves for the side to move and mean discs flipped, by move number.
    public static func mobility(_ replays: [GameReplay]) -> LinePlot {
        var legal = [Double](repeating: 0, count: 60), flips = [Double](repeating: 0, count: 60)
        var counts = [Double](repeating: 0, count: 60), running = [Double](repeating: 0, count: 60)
        for replay in replays {
            for (index, step) in replay.steps.enumerated() {
                flips[index] += Double(step.flippedSquares.count)
                counts[index] += 1
                if step.next != nil {
                    legal[index] += Double(step.legalSquares.count)
                    running[index] += 1
                }
            }
        }
        let moves = (1...60).map(Double.init)
        return LinePlot(series: [
            LineSeries("legal moves of the side to move", x: moves, y: (0..<60).map { running[$0] > 0 ? legal[$0] / running[$0] : .nan }),
            LineSeries("discs flipped by the move", x: moves, y: (0..<60).map { counts[$0] > 0 ? flips[$0] / counts[$0] : .nan }, dashed: true),
        ], title: "Random games: mobility and flips by move (\(replays.count) games)", xLabel: "move number", yLabel: "mean count")
    }

    /// A made-up attention pattern with the shape of a real one: causal, decaying with distance,
    /// favouring moves of the same player (even distances).
    public static func toyAttention(_ replay: GameReplay, length: Int) -> MatrixHeatmap {
        let n = min(length, replay.moves.count)
        let labels = replay.moves.prefix(n).map { SquareNotation.othelloGPT.label($0) }
        let pattern: [[Double?]] = (0..<n).map { destination in
            let scores = (0...destination).map { source -> Double in
                let distance = destination - source
                return (distance % 2 == 0 ? 1.5 : 0) - 0.25 * Double(distance)
            }
            let total = scores.map(exp).reduce(0, +)
            return (0..<n).map { source in source <= destination ? exp(scores[source]) / total : nil }
        }
        return MatrixHeatmap(values: pattern, rowLabels: labels, columnLabels: labels,
                             title: "Causal attention pattern (synthetic), random game 0",
                             xLabel: "source move (attended to)", yLabel: "destination move",
                             scale: .probability, cellSize: 28)
    }
}
