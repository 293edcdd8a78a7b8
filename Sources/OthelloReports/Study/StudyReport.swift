import Foundation
import OthelloCircuits
import OthelloSAEs
import OthelloInterventions
import OthelloModel
import OthelloRules

/// report.md and the findings, written from the record alone (so an interrupted or resumed study reports exactly
/// what its finished steps computed). `dir` is the study folder as the user named it, for the commands.
public struct StudyReport {
    public let record: StudyRecord
    public let dir: String

    public init(record: StudyRecord, dir: String) {
        self.record = record
        self.dir = dir
    }

    public var plan: StudyPlan { record.plan }
    var modelFlag: String { plan.model == "shipped" ? "" : " --model \(plan.model)" }
    var gamesFile: String { plan.gamesFile ?? "\(dir)/games.npy" }

    public static let steps = ["legal", "probes", "edits", "effect", "examples", "circuit"]

    func pct(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }

    // MARK: findings

    public func findings() -> [Finding] {
        var out: [Finding] = []
        if let legal = record.legal {
            var answer = "Its top-1 move is legal at \(pct(legal.synthetic.share)) of \(legal.synthetic.positions.formatted()) positions of " +
                "\(legal.synthetic.games.formatted()) synthetic games"
            if let w = legal.wthor { answer += " and at \(pct(w.share)) of \(w.positions.formatted()) positions of the \(w.games.formatted()) championship games of \(w.source)" }
            answer += " (Li et al.'s synthetic model: 99.99%)."
            if let check = legal.publishedCheck { answer += " Published-model check: \(check.summary)." }
            out.append(Finding(question: "Does the model play legal moves?", answer: answer))
        }
        if let probes = record.probes, !probes.given,
           let relative = probes.best(kind: "linear", basis: "relative"), let colour = probes.best(kind: "linear", basis: "colour") {
            let baseline = probes.baselines["relative"] ?? 0, colourBaseline = probes.baselines["colour"] ?? 0
            let control = relative.control ?? baseline
            let floor = max(baseline, control)
            let verdict = relative.accuracy - colour.accuracy >= 0.05 && relative.accuracy - floor >= 0.10 ? "Yes."
                : relative.accuracy - floor >= 0.05 ? "Partly." : "No."
            out.append(Finding(question: "Is the board linear in mine/theirs?", answer: """
                \(verdict) A linear probe of mine/theirs (relative to the player who moves next) reads \(pct(relative.accuracy)) of squares \
                at \(relative.hook), against \(pct(control)) for the same probe on a randomly initialised model and \(pct(baseline)) for the \
                trivial baseline; a linear probe of black/white reads only \(pct(colour.accuracy)) at its best layer (\(colour.hook); \
                baseline \(pct(colourBaseline))). The board is held relative to the player to move (Nanda), not as colours.
                """))
            if let mlp = probes.best(kind: "mlp", basis: "colour") {
                let verdict = mlp.accuracy - colour.accuracy >= 0.03 ? "Yes" : "No"
                let basis = relative.accuracy >= mlp.accuracy - 0.01
                    ? "the linear mine/theirs probe reads as much (\(pct(relative.accuracy))): a change of basis, not a non-linearity, is what the linear colour probe lacks"
                    : "the linear mine/theirs probe reads less (\(pct(relative.accuracy))): some of the board is read only non-linearly"
                out.append(Finding(question: "Do MLP probes beat linear colour probes?", answer: """
                    \(verdict): the MLP colour probe (Li et al.'s, 128 hidden units) reads \(pct(mlp.accuracy)) at \(mlp.hook) against \
                    \(pct(colour.accuracy)) for the linear colour probe; \(basis) (Nanda's finding).
                    """))
            }
        }
        if let edits = record.edits, let bestSingle = edits.bestSingle {
            out.append(Finding(question: "What is the minimal edit that works?", answer: minimalEditAnswer(edits, bestSingle: bestSingle)))
        }
        if let effect = record.effect {
            let edited = layerOrder(effect.hook)
            let later = effect.average.readingBefore.keys.filter { layerOrder($0) > edited }.sorted { layerOrder($0) < layerOrder($1) }
            let before = later.map { effect.average.readingBefore[$0]! }, after = later.map { effect.average.readingAfter[$0]! }
            let mean = { (x: [Double]) in x.isEmpty ? 0 : x.reduce(0, +) / Double(x.count) }
            let components = effect.average.attention.reduce(0, +) + effect.average.mlp.reduce(0, +)
            let direct = effect.average.total - components
            let rise = mean(after) - mean(before)
            let verdict = later.isEmpty ? "Not measured (no later layer)." : rise >= 0.2 && components > 0 ? "Yes." : rise >= 0.05 ? "Partly." : "No."
            out.append(Finding(question: "Does the edit compose through later layers?", answer: String(format: """
                %@ After %@, the later layers' probes (%@) give the edited state a mean probability of %.2f, against %.2f before the edit; \
                of the edit's logit effect on the moves whose legality changed (%+.2f), the edit vector itself carries %+.2f and the \
                components after it %+.2f (averaged over %d cases).
                """, verdict, effect.plan, later.map { shortHook($0) }.joined(separator: ", "), mean(after), mean(before),
                effect.average.total, direct, components, effect.average.cases)))
        }
        return out
    }

    /// Forward order of a hook: resid_pre L < resid_mid L < resid_post L < resid_pre L+1 (= resid_post L).
    func layerOrder(_ hook: String) -> Double {
        guard let point = try? HookPoint(name: hook), let layer = point.layer else { return -1 }
        switch point.kind {
        case .residPre: return Double(layer) - 0.5
        case .residMid: return Double(layer)
        default: return Double(layer) + 0.5
        }
    }

    func shortHook(_ hook: String) -> String {
        hook.replacingOccurrences(of: "blocks.", with: "L").replacingOccurrences(of: ".hook_", with: " ")
    }

    // MARK: report.md

    public func markdown() -> String {
        var md: [String] = []
        md.append("# Othello-GPT world-model study")
        md.append("")
        let games = plan.gamesFile.map { "the games of \($0)" } ?? "\(plan.games.formatted()) uniformly random full-length games (seed \(plan.seed), saved as `\(dir)/games.npy`)"
        md.append("Model: **\(plan.model)** — \(record.modelShape.text). Games: \(games). Setting: \(plan.quick ? "`--quick`" : "the papers' sample sizes").")
        let done = Self.steps.filter { record.seconds[$0] != nil }
        let total = record.seconds.values.reduce(0, +)
        if record.complete {
            md.append(String(format: "Every step ran (%.0f s in all).", total))
        } else {
            let missing = Self.steps.filter { !done.contains($0) }
            md.append("**Incomplete study**: finished \(done.isEmpty ? "no step" : done.joined(separator: ", ")); not run: \(missing.joined(separator: ", ")). " +
                      "This report holds only what the finished steps computed; `\(resumeCommand)` continues.")
        }
        md.append("")
        if !record.findings.isEmpty {
            md.append("## Findings")
            md.append("")
            for f in record.findings { md.append("- **\(f.question)** \(f.answer)") }
            md.append("")
        }
        if let legal = record.legal { md += legalSection(legal) }
        if let probes = record.probes { md += probeSection(probes) }
        if let edits = record.edits { md += editSection(edits) }
        if let effect = record.effect { md += effectSection(effect) }
        if let examples = record.examples { md += exampleSection(examples) }
        if let circuit = record.circuit { md += circuitSection(circuit) }
        md.append("---")
        md.append("All numbers are in `report.json` (keys documented in Sources/OthelloReports/OthelloReports.docc/ReportJSON.md). Conventions: squares as the Othello-GPT " +
                  "code labels them (row letter A–H, column 0–7); \"mine\" = the player who moves next.")
        return md.joined(separator: "\n") + "\n"
    }

    func command(_ text: String) -> String { "```\n\(text)\n```" }

    /// The command that continues this study: the flags that give its plan.
    public var resumeCommand: String {
        let defaults = plan.quick ? StudyPlan.quick(model: plan.model, seed: plan.seed) : StudyPlan.standard(model: plan.model, seed: plan.seed)
        var flags = ["othello-gpt study --resume --out \(dir)"]
        if plan.quick { flags.append("--quick") }
        if plan.model != "shipped" { flags.append("--model \(plan.model)") }
        if let file = plan.gamesFile { flags.append("--games \(file)") } else if plan.games != defaults.games { flags.append("--count \(plan.games)") }
        if plan.cases != defaults.cases { flags.append("--cases \(plan.cases)") }
        if plan.gradientSteps != defaults.gradientSteps { flags.append("--gradient-steps \(plan.gradientSteps)") }
        if plan.seed != 1 { flags.append("--seed \(plan.seed)") }
        flags += plan.probeFiles.map { "--probe \($0)" }
        return flags.joined(separator: " ")
    }

    func legalSection(_ legal: LegalSection) -> [String] {
        var md = ["## 1. Does the model play legal moves?", "",
                  "Li et al.'s metric: the share of positions at which the model's top-1 next move is legal (passes inferred).", "",
                  "| games | positions | top-1 legal |", "|---|---|---|"]
        md.append("| \(legal.synthetic.source) (\(legal.synthetic.games.formatted()) games) | \(legal.synthetic.positions.formatted()) | \(pct(legal.synthetic.share)) |")
        if let w = legal.wthor { md.append("| \(w.source) (\(w.games.formatted()) games) | \(w.positions.formatted()) | \(pct(w.share)) |") }
        md.append("")
        if let note = legal.wthorNote { md += [note, ""] }
        if let check = legal.publishedCheck { md += ["Published-model check (the TransformerLens demo's game): \(check.summary).", ""] }
        var commands = ["othello-gpt eval\(modelFlag) --games \(gamesFile)"]
        if let w = legal.wthor { commands.append("othello-gpt eval\(modelFlag) --games \(w.source)") }
        md += [command(commands.joined(separator: "\n")), ""]
        return md
    }

    func probeSection(_ probes: ProbeSection) -> [String] {
        var md = ["## 2. Where is the board, and in which basis?", ""]
        if probes.given {
            md += ["Given probes, scored on \(probes.testGames.formatted()) held-out games:", "", "| probe | hook | accuracy | trivial baseline |", "|---|---|---|---|"]
            for row in probes.rows {
                md.append("| \(row.kind) \(row.basis) (`\(row.file)`) | \(row.hook) | \(pct(row.accuracy)) | \(probes.baselines[row.basis].map(pct) ?? "") |")
            }
            return md + [""]
        }
        md += ["Per-square accuracy of probes trained on \(probes.trainGames.formatted()) games and scored on \(probes.testGames.formatted()) held-out games, " +
               "at the embeddings and after every block, beside the same probe on a randomly initialised model of the same shape (dashed).", "",
               "![accuracy by layer](figures/accuracy-by-layer.png)", ""]
        let columns = [("linear", "colour"), ("linear", "relative"), ("mlp", "colour"), ("mlp", "relative"), ("linear", "flipped")]
        let present = columns.filter { c in probes.rows.contains { $0.kind == c.0 && $0.basis == c.1 } }
        let hooks = probes.rows.map(\.hook).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        md.append("| hook | " + present.map { "\($0.0) \($0.1)" }.joined(separator: " | ") + " | random-init linear relative |")
        md.append("|---|" + String(repeating: "---|", count: present.count + 1))
        for hook in hooks {
            let cells = present.map { c in probes.rows.first { $0.hook == hook && $0.kind == c.0 && $0.basis == c.1 }.map(accuracyCell) ?? "" }
            let control = probes.rows.first { $0.hook == hook && $0.kind == "linear" && $0.basis == "relative" }?.control.map(pct) ?? ""
            md.append("| \(hook) | " + cells.joined(separator: " | ") + " | \(control) |")
        }
        md.append("")
        md.append("Trivial baseline (most frequent class per square and position): " +
                  probes.baselines.sorted { $0.key < $1.key }.map { basis, accuracy in
                      var cell = "\(basis) \(pct(accuracy))"
                      if let balanced = probes.baselineBalancedAccuracy?[basis], let f1 = probes.baselineF1?[basis] {
                          cell += String(format: " (balanced %@, F1 %.2f)", pct(balanced), f1)
                      }
                      return cell
                  }.joined(separator: ", ") + ".")
        if present.contains(where: { $0.1 == "flipped" }) {
            md.append("For the two-class flipped probe (did this move flip the square?), true at a few percent of squares, accuracy is near the " +
                      "baseline's whatever the probe reads; the balanced accuracy (the mean recall of yes and no, 50% for the baseline) and the F1 of " +
                      "\"yes\" show its real signal.")
            md += ["", "![balanced accuracy by layer](figures/balanced-accuracy-by-layer.png)"]
        }
        md += ["", "![per-square accuracy](figures/per-square.png)", ""]
        if let d = probes.directions {
            md.append(String(format: "The mine − theirs directions at %@ are nearly orthogonal between squares (mean |cos| %.3f) and to the empty directions (mean cos %.3f):",
                             d.hook, d.meanAbsCosBetweenSquares, d.meanCosMineTheirsEmpty))
            md += ["", "![direction cosines](figures/directions.png)", ""]
        }
        md += [command("othello-gpt probe sweep\(modelFlag) --games \(gamesFile) --seed \(plan.seed) --epochs \(plan.probeEpochs) --test-fraction \(plan.testFraction) --out \(dir)/probe-sweep"), ""]
        return md
    }

    /// A probe's accuracy, with its balanced accuracy and F1 for two-class targets.
    func accuracyCell(_ row: ProbeSection.Row) -> String {
        guard let balanced = row.balancedAccuracy, let f1 = row.f1 else { return pct(row.accuracy) }
        return String(format: "%@ (balanced %@, F1 %.2f)", pct(row.accuracy), pct(balanced), f1)
    }

    /// The tuned answer when the edits were scored with a validation/test split (each strength chosen on the
    /// validation half, the error on the test half); the older all-cases answer for records without one.
    func minimalEditAnswer(_ edits: EditSection, bestSingle: InterventionResult) -> String {
        let tuned = edits.tuned
        guard let best = StrengthChoice.bestSingleHook(tuned) else {
            let null = max(edits.nullError, 1e-9)
            var answer = String(format: "The best single-hook edit is %@ (%.2f, %.0f%% of the null edit's %.2f)", bestSingle.label, bestSingle.error, 100 * bestSingle.error / null, edits.nullError)
            if let best = edits.best, best.label != bestSingle.label {
                answer += String(format: "; the best of all is %@ (%.2f, %.0f%%)", best.label, best.error, 100 * best.error / null)
            }
            return answer + "."
        }
        func describe(_ c: StrengthChoice) -> String {
            let strength = c.method == "direction" ? "scale \(c.chosen.formatted())" : c.edit.contains("RMS") ? "step \(c.chosen.formatted()) × RMS" : "lr \(c.chosen.formatted())"
            return String(format: "%@ (%@): test error %.2f, %.0f%% of the null edit's", c.edit, strength, c.testError, 100 * c.testShare)
        }
        let halves = edits.cases / 2
        var answer = "Each edit's strength chosen on a validation half of the \(edits.cases) cases, its error measured on the other \(edits.cases - halves): "
        answer += "the best single-hook edit is " + describe(best) + String(format: " (%.2f)", best.nullTestError)
        if let top1 = best.top1Legal { answer += String(format: "; its top-1 move is legal on the edited board in %@ of cases", pct(top1)) }
        if let others = best.otherSquaresChange, let last = others.keys.max(by: { layerOrder($0) < layerOrder($1) }), let change = others[last] {
            answer += String(format: ", and the last layer's probe reads the 63 other squares %@ (%+.3f in probability)", change >= -0.005 ? "as well or better" : "worse", change)
        }
        answer += "."
        if best.method != "direction", let direction = StrengthChoice.bestSingleHook(tuned, method: "direction") {
            answer += " The best direction edit is " + describe(direction) + "."
        }
        let li = tuned.filter { $0.hooks.count == 1 && $0.method == "gradient" && !$0.edit.contains("RMS") }.min { $0.validationError < $1.validationError }
        if let li { answer += " With Li et al.'s settings (lr 1e-3, \(plan.gradientSteps) steps) the best single hook is " + describe(li) + "." }
        answer += " Li et al. report 2.68 → 0.12 with gradient edits of several layers on their full-size model."
        return answer
    }

    func editSection(_ edits: EditSection) -> [String] {
        var md = ["## 3. Can the board be edited, and what is the minimal edit that works?", "",
                  String(format: "Each of %d cases flips one disc (mine ↔ theirs) in the model's residual stream after a game prefix; the model's top-N moves " +
                         "(N = the edited board's legal moves) are scored against the edited board's legal moves, false positives plus false negatives " +
                         "(Li et al.). The null edit (no change to the model) scores %.3f (exact %@).", edits.cases, edits.nullError, pct(edits.nullExact)), "",
                  "![intervention sweep](figures/intervene-sweep.png)", "",
                  "| edit | error | of the null's | exact |", "|---|---|---|---|"]
        let null = max(edits.nullError, 1e-9)
        for r in edits.results.sorted(by: { $0.error < $1.error }).prefix(12) {
            md.append(String(format: "| %@ | %.3f | %.0f%% | %@ |", r.label, r.error, 100 * r.error / null, pct(r.exact)))
        }
        md += ["", "<details><summary>All \(edits.results.count) edits</summary>", "", "| edit | error | of the null's | exact |", "|---|---|---|---|"]
        for r in edits.results { md.append(String(format: "| %@ | %.3f | %.0f%% | %@ |", r.label, r.error, 100 * r.error / null, pct(r.exact))) }
        md += ["", "</details>", ""]
        let tuned = edits.tuned
        if !tuned.isEmpty {
            md += ["Each edit's strength (direction scale; gradient step size) chosen on a validation half of the cases, its error on the other half " +
                   "(the best twelve by validation error; specificity: top-1 legal on the edited board, and the change of the last layer's probe reading of the 63 squares not edited):", "",
                   "![error by strength](figures/intervene-strength.png)", "",
                   "| edit | chosen | validation error | test error | of the null's | top-1 legal | other squares |", "|---|---|---|---|---|---|---|"]
            for c in tuned.sorted(by: { $0.validationError < $1.validationError }).prefix(12) {
                let others = c.otherSquaresChange.flatMap { o in o.keys.max(by: { layerOrder($0) < layerOrder($1) }).map { o[$0]! } }
                md.append(String(format: "| %@ | %@ | %.3f | %.3f | %.0f%% | %@ | %@ |", c.edit, c.chosen.formatted(), c.validationError, c.testError, 100 * c.testShare,
                                 c.top1Legal.map(pct) ?? "", others.map { String(format: "%+.3f", $0) } ?? ""))
            }
            md.append("")
        }
        let scales = plan.scales.map { $0.formatted() }.joined(separator: ","), multi = plan.multiScales.map { $0.formatted() }.joined(separator: ",")
        let rates = (plan.learningRates ?? []).map { $0.formatted() }.joined(separator: ",")
        md += [command("othello-gpt intervene sweep\(modelFlag) --cases \(dir)/cases.jsonl --probe-dir \(dir)/probes --scales \(scales) --multi-scales \(multi) --learning-rates \(rates.isEmpty ? "none" : rates) --gradient-steps \(plan.gradientSteps) --split-seed \(plan.seed) --out \(dir)/intervene-sweep"), ""]
        return md
    }

    func effectSection(_ effect: EffectSection) -> [String] {
        let scale = effect.scale.formatted()
        var md = ["## 4. What does the edit change downstream?", "",
                  "The best single-hook direction edit, **\(effect.plan)**, averaged over all \(effect.average.cases) cases: each component's output change at the " +
                  "edited position read through the unembedding on the moves whose legality the edit changed (made legal − made illegal), and the later " +
                  "layers' probes' probability of the edited state before and after the edit.", "",
                  "![components](figures/components.png)", "", "![readings](figures/readings.png)", ""]
        md.append(command("othello-gpt intervene show\(modelFlag) --cases \(dir)/cases.jsonl --probe-dir \(dir)/probes --hook \(effect.hook) --scale \(scale) --out \(dir)/show"))
        md.append("")
        if let e = effect.example {
            md += ["One case, the one the edit helps most (case \(e.caseIndex): \(e.moves) moves, \(e.square) flipped; error \(e.nullError) → \(e.error)):", "",
                   "![example case](figures/example-case/boards.png)", "",
                   command("othello-gpt intervene show\(modelFlag) --cases \(dir)/cases.jsonl --case \(e.caseIndex) --probe-dir \(dir)/probes --hook \(effect.hook) --scale \(scale) --out \(dir)/show-case"), ""]
        }
        return md
    }

    /// Which layers and positions carry the corrupted move's information, from the per-layer restorations (a
    /// layer "carries" it where patching its resid_pre restores half of the metric or more).
    static func carriers(atCorruptedMove: [Double], atLastPosition: [Double], between: [Double]?, of scope: String) -> String {
        let own = atCorruptedMove.prefix { $0 >= 0.5 }.count
        let ownText = own == 0 ? "patching its own position restores under half of the metric at every layer"
            : own == atCorruptedMove.count ? "it sits at its own position through every layer (L0–L\(own - 1))"
            : "it sits at its own position up to L\(own - 1)"
        let arrival = atLastPosition.firstIndex { $0 >= 0.5 }
        let lastText = arrival.map { "at the last position from L\($0) on (\(String(format: "%.0f%%", 100 * atLastPosition[$0])) restored there)" }
            ?? "at no layer of the last position alone (at most \(String(format: "%.0f%%", 100 * (atLastPosition.max() ?? 0))))"
        var text = "\(scope), \(ownText), and \(lastText)"
        if let between, let most = between.max() {
            text += String(format: "; the positions in between carry at most %.0f%%", 100 * most)
        }
        if own > 0, let arrival, arrival >= own - 1 {
            text += arrival == own - 1 ? "; the layer L\(arrival) holds it at both" : "; it moves to the last position between L\(own - 1) and L\(arrival)"
        }
        return text + "."
    }

    func exampleSection(_ x: ExampleSection) -> [String] {
        let prefix = "--games \(gamesFile) --game \(x.game) --moves \(x.moves)"
        var md = ["## 5. Worked examples on one prefix (game \(x.game), \(x.moves) moves)", ""]
        if let p = x.patching {
            md += [String(format: "**Activation patching.** Move %d replaced by %@; metric: the logit of %@ (clean %.2f, corrupted %.2f). Patching resid_pre " +
                          "of %@ at position %d restores %.0f%% of it.", p.corruptedAt, p.corruptedWith, p.target, p.cleanLogit, p.corruptedLogit,
                          p.bestLayer, p.bestPosition, 100 * p.bestRestoration), "",
                   "![patching](figures/patching.png)", "",
                   command("othello-gpt intervene patch\(modelFlag) \(prefix) --corrupt-at \(p.corruptedAt) --hook resid_pre --out \(dir)/patching.png"), ""]
            if let last = p.atLastPosition { md += [Self.carriers(atCorruptedMove: p.atCorruptedMove, atLastPosition: last, between: nil, of: "In this game"), ""] }
            if let a = p.average {
                md += [Self.carriers(atCorruptedMove: a.atCorruptedMove, atLastPosition: a.atLastPosition, between: a.between,
                                     of: "Averaged over \(a.pairs) held-out games (move \(p.corruptedAt) corrupted, each game's own metric)"), "",
                       "![patching, averaged](figures/patching-average.png)", "",
                       command("othello-gpt intervene patch\(modelFlag) --games \(gamesFile) --moves \(x.moves) --corrupt-at \(p.corruptedAt) --pairs \(a.pairs) --hook resid_pre --out \(dir)/patching-average.png"), ""]
            }
        }
        let drops = x.saliency.enumerated().compactMap { i, d in d.map { (i, $0) } }.sorted { $0.1 > $1.1 }.prefix(3)
            .map { String(format: "%@ %.2f", SquareNotation.othelloGPT.label($0.0), $0.1) }.joined(separator: ", ")
        md += ["**Latent saliency** (Li et al.): the drop of the logit of the top move \(x.saliencyTopMove) when each occupied square is flipped; largest: \(drops).", "",
               "![saliency](figures/saliency.png)", ""]
        if let effect = record.effect {
            md.append(command("othello-gpt intervene saliency\(modelFlag) \(prefix) --probe-dir \(dir)/probes --hook \(effect.hook) --scale \(effect.scale.formatted()) --out \(dir)/saliency.png"))
            md.append("")
        }
        if !x.heads.isEmpty {
            md += ["**Attention** of the heads that carry most of the edit's effect:", ""]
            for h in x.heads {
                md.append(String(format: "- L%dH%d: mean attention to the previous move %.2f, to moves of the same player %.2f.", h.layer, h.head, h.previousMove, h.samePlayer))
            }
            md.append("")
            md += x.heads.map { "![L\($0.layer)H\($0.head)](figures/attention-L\($0.layer)H\($0.head).png)" } + [""]
            md += [command(x.heads.map { "othello-gpt intervene attention\(modelFlag) \(prefix) --layer \($0.layer) --head \($0.head) --out \(dir)/attention-L\($0.layer)H\($0.head).png" }.joined(separator: "\n")), ""]
        }
        md += ["**Direct logit attribution** to the top move \(x.attributionTarget): per layer the head that writes most for it — \(x.topHeads.joined(separator: ", ")); " +
               "top neurons " + x.topNeurons.prefix(4).map { String(format: "L%dN%d %+.2f", $0.layer, $0.neuron, $0.attribution) }.joined(separator: ", ") + ".", "",
               "![heads](figures/heads.png)", "", "![neurons](figures/neurons.png)", "",
               command("othello-gpt intervene attribution\(modelFlag) \(prefix) --out \(dir)/attribution"), ""]
        return md
    }

    func circuitSection(_ c: EmptyCircuit) -> [String] {
        var md = CircuitReport.markdown(c).components(separatedBy: "\n")
        md[0] = "## 6. A circuit: is this square empty?"
        md = md.map {
            $0.replacingOccurrences(of: "](heads.png)", with: "](figures/circuit-heads.png)")
                .replacingOccurrences(of: "](head-ablation.png)", with: "](figures/circuit-head-ablation.png)")
                .replacingOccurrences(of: "](occupied-logits.png)", with: "](figures/circuit-occupied-logits.png)")
        }
        md.append(command("othello-gpt heads circuit\(modelFlag) --games \(dir)/circuit-games.npy --seed \(plan.seed) --layer \(c.hook.split(separator: ".")[1]) --out \(dir)/circuit"))
        md.append("")
        return md
    }
}

