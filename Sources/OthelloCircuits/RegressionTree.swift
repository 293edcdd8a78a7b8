import Foundation
import OthelloModel
import WorkbenchSupport

/// A shallow regression tree over binary features (CART: each split is the feature whose yes/no halves reduce the
/// squared error most), as a readable rule for a unit's activation — "rules for neurons" on Othello-GPT fit such
/// trees to board features. The atlas fits one of depth ≤ 3 per neuron over `BoardConditions` and reports its R²
/// on held-out positions.
///
/// Many trees are fitted at once, one per target column, level by level: the sums of each node's targets over the
/// rows where each feature is 1 are one matrix product (featuresᵀ · targets masked by node), so 8,192 neurons cost a
/// few products of [384 × rows] by [rows × neurons × nodes].
///
///     let trees = RegressionTree.fit(features: x, rows: m, width: 384, targets: y, count: n)
///     trees[0].describe(name: BoardConditions.name)     // "if E5 mine: …"
public struct RegressionTree: Codable, Equatable, Sendable {
    /// A node: a split on `feature` (children `no` and `yes`, indices into `nodes`), or a leaf (`feature` −1)
    /// predicting `value`, the mean target of its `count` training rows.
    public struct Node: Codable, Equatable, Sendable {
        public var feature: Int
        public var value: Float
        public var count: Int
        public var no: Int
        public var yes: Int
    }

    /// The root is node 0.
    public var nodes: [Node]

    /// The prediction for one row of features.
    public func predict(_ row: UnsafePointer<Float>) -> Float {
        var i = 0
        while nodes[i].feature >= 0 { i = row[nodes[i].feature] != 0 ? nodes[i].yes : nodes[i].no }
        return nodes[i].value
    }

    /// The tree as indented text, one line per test or leaf.
    public func describe(name: (Int) -> String, digits: Int = 3) -> [String] {
        var lines: [String] = []
        func walk(_ i: Int, _ indent: String) {
            let node = nodes[i]
            guard node.feature >= 0 else { return }
            for (label, child) in [("if \(name(node.feature))", node.yes), ("else", node.no)] {
                let c = nodes[child]
                if c.feature < 0 {
                    lines.append("\(indent)\(label): \(String(format: "%.\(digits)g", c.value))  (n=\(c.count))")
                } else {
                    lines.append("\(indent)\(label):")
                    walk(child, indent + "  ")
                }
            }
        }
        if nodes[0].feature < 0 { lines.append("always \(String(format: "%.\(digits)g", nodes[0].value))  (n=\(nodes[0].count))") }
        walk(0, "")
        return lines
    }

    /// Fits one tree per target column: `features` `[rows, width]` of 0/1, `targets` `[rows, count]`. A node splits
    /// while above `depth`, when both halves keep at least `minLeaf` rows and the split lowers the squared error;
    /// `chunk` columns are fitted per pass (memory: rows × chunk × 2^(depth−1) floats, twice).
    public static func fit(features: UnsafePointer<Float>, rows m: Int, width F: Int, targets: UnsafePointer<Float>, count N: Int,
                           depth: Int = 3, minLeaf: Int = 10, chunk: Int = 256) -> [RegressionTree] {
        var trees: [RegressionTree] = []
        trees.reserveCapacity(N)
        for start in stride(from: 0, to: N, by: max(1, chunk)) {
            trees += fitChunk(features: features, rows: m, width: F, targets: targets, columns: start..<min(N, start + max(1, chunk)), stride: N,
                              depth: depth, minLeaf: max(1, minLeaf))
        }
        return trees
    }

    private static func fitChunk(features x: UnsafePointer<Float>, rows m: Int, width F: Int, targets y: UnsafePointer<Float>, columns: Range<Int>,
                                 stride N: Int, depth: Int, minLeaf: Int) -> [RegressionTree] {
        let n = columns.count
        var trees = [RegressionTree](repeating: RegressionTree(nodes: []), count: n)
        // Each row's node in the current level, per tree (−1: in a leaf already), and the level's nodes per tree.
        var assignment = [Int32](repeating: 0, count: m * n)
        var levelNodes = [[Int]](repeating: [0], count: n)
        // The root: every row.
        for j in 0..<n {
            var sum = 0.0
            for r in 0..<m { sum += Double(y[r * N + columns.lowerBound + j]) }
            trees[j].nodes = [Node(feature: -1, value: m > 0 ? Float(sum / Double(m)) : 0, count: m, no: -1, yes: -1)]
        }
        guard m > 0 else { return trees }
        for level in 0..<depth {
            let K = 1 << level, width = n * K
            // Masked targets and memberships [m, n × K]: column j × K + k holds tree j's rows in its node k.
            var masked = [Float](repeating: 0, count: m * width), member = [Float](repeating: 0, count: m * width)
            var total = [Double](repeating: 0, count: width), squares = [Double](repeating: 0, count: width), counts = [Int](repeating: 0, count: width)
            for r in 0..<m {
                for j in 0..<n {
                    let k = Int(assignment[r * n + j])
                    guard k >= 0 else { continue }
                    let v = y[r * N + columns.lowerBound + j], c = j * K + k
                    masked[r * width + c] = v
                    member[r * width + c] = 1
                    total[c] += Double(v)
                    squares[c] += Double(v) * Double(v)
                    counts[c] += 1
                }
            }
            // Per (feature, node): the sum and count of the node's rows where the feature is 1.
            var sums = [Float](repeating: 0, count: F * width), ones = [Float](repeating: 0, count: F * width)
            masked.withUnsafeBufferPointer { b in
                sums.withUnsafeMutableBufferPointer { Matmul.gemm(m: F, n: width, k: m, a: x, lda: F, transposeA: true, b: b.baseAddress!, ldb: width, c: $0.baseAddress!, ldc: width) }
            }
            member.withUnsafeBufferPointer { b in
                ones.withUnsafeMutableBufferPointer { Matmul.gemm(m: F, n: width, k: m, a: x, lda: F, transposeA: true, b: b.baseAddress!, ldb: width, c: $0.baseAddress!, ldc: width) }
            }
            // The best split of each node; `split[c]` = (feature, yes-child level index) or nil.
            var split = [(feature: Int, node: Int)?](repeating: nil, count: width)
            var nextLevel = [[Int]](repeating: [], count: n)
            for j in 0..<n {
                for k in 0..<levelNodes[j].count {
                    let c = j * K + k, count = counts[c]
                    guard count >= 2 * minLeaf else { continue }
                    let sum = total[c], error = squares[c] - sum * sum / Double(count)
                    guard error > 1e-12 * max(1, squares[c]) else { continue }
                    var best = -1, bestGain = 0.0, bestYes = (sum: 0.0, count: 0)
                    for f in 0..<F {
                        let c1 = Int(ones[f * width + c].rounded()), c0 = count - c1
                        guard c1 >= minLeaf && c0 >= minLeaf else { continue }
                        let s1 = Double(sums[f * width + c]), s0 = sum - s1
                        let gain = s1 * s1 / Double(c1) + s0 * s0 / Double(c0) - sum * sum / Double(count)
                        if gain > bestGain { best = f; bestGain = gain; bestYes = (s1, c1) }
                    }
                    guard best >= 0, bestGain > 1e-6 * error else { continue }
                    let parent = levelNodes[j][k]
                    let noCount = count - bestYes.count
                    let noNode = Node(feature: -1, value: Float((sum - bestYes.sum) / Double(noCount)), count: noCount, no: -1, yes: -1)
                    let yesNode = Node(feature: -1, value: Float(bestYes.sum / Double(bestYes.count)), count: bestYes.count, no: -1, yes: -1)
                    trees[j].nodes[parent].feature = best
                    trees[j].nodes[parent].no = trees[j].nodes.count
                    trees[j].nodes[parent].yes = trees[j].nodes.count + 1
                    trees[j].nodes += [noNode, yesNode]
                    split[c] = (best, nextLevel[j].count)
                    nextLevel[j] += [trees[j].nodes.count - 2, trees[j].nodes.count - 1]
                }
            }
            // Rows move to their child in the next level (no = 2i, yes = 2i + 1), or out when their node is a leaf.
            for r in 0..<m {
                for j in 0..<n {
                    let k = Int(assignment[r * n + j])
                    guard k >= 0 else { continue }
                    if let s = split[j * K + k] {
                        assignment[r * n + j] = Int32(s.node + (x[r * F + s.feature] != 0 ? 1 : 0))
                    } else {
                        assignment[r * n + j] = -1
                    }
                }
            }
            levelNodes = nextLevel
            if levelNodes.allSatisfy({ $0.isEmpty }) { break }
        }
        return trees
    }

    /// R² of each tree on held-out rows (`features` `[rows, width]`, `targets` `[rows, count]`): 1 − SSE / SST about
    /// the held-out mean; 0 where the targets do not vary.
    public static func rSquared(_ trees: [RegressionTree], features: UnsafePointer<Float>, rows m: Int, width F: Int, targets: UnsafePointer<Float>) -> [Double] {
        let N = trees.count
        return (0..<N).map { j in
            var sum = 0.0, squares = 0.0, error = 0.0
            for r in 0..<m {
                let v = Double(targets[r * N + j])
                sum += v
                squares += v * v
                let e = v - Double(trees[j].predict(features + r * F))
                error += e * e
            }
            let total = squares - sum * sum / Double(max(m, 1))
            return total > 1e-12 * max(1, squares) ? 1 - error / total : 0
        }
    }
}
