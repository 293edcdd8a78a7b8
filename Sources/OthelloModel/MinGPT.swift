import Foundation
import WorkbenchSupport

/// Li et al.'s Othello-GPT checkpoints are minGPT state dicts (`tok_emb.weight`, `pos_emb`,
/// `blocks.N.attn.query/key/value/proj`, `blocks.N.mlp.0/2`, `ln_f`, `head.weight`). `convert` renames and
/// reshapes them into TransformerLens' layout exactly as `convert_mingpt_weights` does, and by default
/// processes them as `HookedTransformer.from_pretrained` does (`TransformerLensProcessing.process`), so the
/// model runs with `LNPre`.
///
///     let dict = try StateDict.read(from: URL(fileURLWithPath: "gpt_synthetic.ckpt"))
///     let model = try HookedTransformer(stateDict: dict)      // minGPT detected, 8 heads for d_model 512
public enum MinGPT {
    /// The head count a minGPT checkpoint cannot tell: `d_model / 64` (8 for Othello-GPT's 512).
    public static func defaultHeads(dModel: Int) -> Int { max(1, dModel / 64) }

    /// A TransformerLens-layout state dict from a minGPT one; `process` folds layer norms and centres weights.
    public static func convert(_ dict: StateDict, nHeads: Int? = nil, process: Bool = true) throws -> StateDict {
        let source = dict.source
        let embed = try dict.require("tok_emb.weight")
        guard embed.rank == 2 else { throw WorkbenchError("\(source): key tok_emb.weight has shape \(embed.shape), expected [d_vocab, d_model]") }
        let (vocab, d) = (embed.shape[0], embed.shape[1])
        let pos = try dict.require("pos_emb")
        guard pos.rank == 3, pos.shape[0] == 1, pos.shape[2] == d else {
            throw WorkbenchError("\(source): key pos_emb has shape \(pos.shape), expected [1, n_ctx, \(d)]")
        }
        let heads = nHeads ?? defaultHeads(dModel: d)
        guard heads > 0, d % heads == 0 else {
            throw WorkbenchError("\(source): d_model \(d) is not divisible by \(heads) heads; pass the model's head count (--heads)")
        }
        let dh = d / heads
        var layers = 0
        while dict.tensors["blocks.\(layers).attn.query.weight"] != nil { layers += 1 }
        guard layers > 0 else { throw WorkbenchError("\(source): missing key blocks.0.attn.query.weight (expected shape [\(d), \(d)])") }
        let dMLP = try dict.require("blocks.0.mlp.0.weight").shape.first ?? 0

        var out: [String: Tensor] = [:]
        out["embed.W_E"] = embed
        out["pos_embed.W_pos"] = pos.reshaped([pos.shape[1], d])
        for l in 0..<layers {
            let p = "blocks.\(l)."
            out[p + "ln1.w"] = try dict.require(p + "ln1.weight", shape: [d])
            out[p + "ln1.b"] = try dict.require(p + "ln1.bias", shape: [d])
            out[p + "ln2.w"] = try dict.require(p + "ln2.weight", shape: [d])
            out[p + "ln2.b"] = try dict.require(p + "ln2.bias", shape: [d])
            for (mine, theirs) in [("Q", "query"), ("K", "key"), ("V", "value")] {
                // nn.Linear weight [(head d_head), d_model] → W [head, d_model, d_head].
                let weight = try dict.require(p + "attn.\(theirs).weight", shape: [d, d])
                var w = Tensor(shape: [heads, d, dh])
                for h in 0..<heads { for j in 0..<dh { for m in 0..<d {
                    w.values[(h * d + m) * dh + j] = weight.values[(h * dh + j) * d + m]
                } } }
                out[p + "attn.W_\(mine)"] = w
                out[p + "attn.b_\(mine)"] = try dict.require(p + "attn.\(theirs).bias", shape: [d]).reshaped([heads, dh])
            }
            // proj.weight [d_model, (head d_head)] → W_O [head, d_head, d_model].
            let proj = try dict.require(p + "attn.proj.weight", shape: [d, d])
            out[p + "attn.W_O"] = proj.transposed().reshaped([heads, dh, d])
            out[p + "attn.b_O"] = try dict.require(p + "attn.proj.bias", shape: [d])
            out[p + "mlp.W_in"] = try dict.require(p + "mlp.0.weight", shape: [dMLP, d]).transposed()
            out[p + "mlp.b_in"] = try dict.require(p + "mlp.0.bias", shape: [dMLP])
            out[p + "mlp.W_out"] = try dict.require(p + "mlp.2.weight", shape: [d, dMLP]).transposed()
            out[p + "mlp.b_out"] = try dict.require(p + "mlp.2.bias", shape: [d])
        }
        out["ln_final.w"] = try dict.require("ln_f.weight", shape: [d])
        out["ln_final.b"] = try dict.require("ln_f.bias", shape: [d])
        out["unembed.W_U"] = try dict.require("head.weight", shape: [vocab, d]).transposed()
        out["unembed.b_U"] = dict.tensors["head.bias"] ?? Tensor(shape: [vocab])   // minGPT's head has no bias

        let known = Set(["tok_emb.weight", "pos_emb", "ln_f.weight", "ln_f.bias", "head.weight", "head.bias"])
        for key in dict.tensors.keys.sorted() where !known.contains(key) && !key.hasSuffix("attn.mask") {
            let parts = key.split(separator: ".")
            guard parts.count >= 3, parts[0] == "blocks", let l = Int(parts[1]), l < layers else {
                throw WorkbenchError("\(source): unexpected key \(key) in a minGPT checkpoint")
            }
        }
        let converted = StateDict(source: source, tensors: out)
        return process ? try TransformerLensProcessing.process(converted) : converted
    }
}

/// The weight processing TransformerLens applies when loading a pretrained model
/// (`load_and_process_state_dict(fold_ln=True, center_writing_weights=True, center_unembed=True,
/// fold_value_biases=True)`), on a TransformerLens-layout state dict with layer-norm weights. The result has
/// no `ln*.w/b` and runs with `LNPre`, computing the same log-probabilities.
public enum TransformerLensProcessing {
    /// The processed state dict: layer norms folded into the next weights, writing weights and the unembedding
    /// centred, value biases folded into `b_O`. Throws naming a missing key.
    public static func process(_ input: StateDict) throws -> StateDict {
        var t = input.tensors
        let source = input.source
        func get(_ name: String) throws -> Tensor {
            guard let tensor = t[name] else { throw WorkbenchError("\(source): missing key \(name)") }
            return tensor
        }
        var layers = 0
        while t["blocks.\(layers).attn.W_Q"] != nil { layers += 1 }

        // fold_layer_norm: ln1 into W_Q/K/V and b_Q/K/V, ln2 into W_in/b_in, ln_final into W_U/b_U; centre the
        // folded weights over d_model.
        for l in 0..<layers {
            let p = "blocks.\(l)."
            let (w1, b1) = (try get(p + "ln1.w"), try get(p + "ln1.b"))
            for x in ["Q", "K", "V"] {
                var w = try get(p + "attn.W_\(x)"), b = try get(p + "attn.b_\(x)")
                let (heads, d, dh) = (w.shape[0], w.shape[1], w.shape[2])
                for h in 0..<heads {
                    for j in 0..<dh {
                        var bias = b.values[h * dh + j]
                        for m in 0..<d { bias += w.values[(h * d + m) * dh + j] * b1.values[m] }
                        b.values[h * dh + j] = bias
                        var mean: Float = 0
                        for m in 0..<d {
                            w.values[(h * d + m) * dh + j] *= w1.values[m]
                            mean += w.values[(h * d + m) * dh + j]
                        }
                        mean /= Float(d)
                        for m in 0..<d { w.values[(h * d + m) * dh + j] -= mean }
                    }
                }
                t[p + "attn.W_\(x)"] = w
                t[p + "attn.b_\(x)"] = b
            }
            let (win, bin) = try foldIntoInput(try get(p + "mlp.W_in"), try get(p + "mlp.b_in"), try get(p + "ln2.w"), try get(p + "ln2.b"))
            t[p + "mlp.W_in"] = win
            t[p + "mlp.b_in"] = bin
            for key in ["ln1.w", "ln1.b", "ln2.w", "ln2.b"] { t[p + key] = nil }
        }
        let (wu, bu) = try foldIntoInput(try get("unembed.W_U"), try get("unembed.b_U"), try get("ln_final.w"), try get("ln_final.b"))
        t["ln_final.w"] = nil
        t["ln_final.b"] = nil

        // center_writing_weights: everything writing to the residual stream has zero mean over d_model.
        t["embed.W_E"] = centreRows(try get("embed.W_E"))
        t["pos_embed.W_pos"] = centreRows(try get("pos_embed.W_pos"))
        for l in 0..<layers {
            let p = "blocks.\(l)."
            t[p + "attn.W_O"] = centreRows(try get(p + "attn.W_O"))
            t[p + "attn.b_O"] = centreRows(try get(p + "attn.b_O"))
            t[p + "mlp.W_out"] = centreRows(try get(p + "mlp.W_out"))
            t[p + "mlp.b_out"] = centreRows(try get(p + "mlp.b_out"))
        }

        // center_unembed: logits have zero mean over the vocabulary.
        t["unembed.W_U"] = centreRows(wu)
        t["unembed.b_U"] = centreRows(bu)

        // fold_value_biases: b_O += Σ_h b_V[h] · W_O[h], b_V = 0 (patterns sum to 1); then centre b_O again.
        for l in 0..<layers {
            let p = "blocks.\(l)."
            let bv = try get(p + "attn.b_V"), wo = try get(p + "attn.W_O")
            var bo = try get(p + "attn.b_O")
            let d = bo.count
            let heads = bv.shape[0], dh = bv.shape[1]
            for h in 0..<heads { for j in 0..<dh {
                let scale = bv.values[h * dh + j]
                for m in 0..<d { bo.values[m] += scale * wo.values[(h * dh + j) * d + m] }
            } }
            t[p + "attn.b_O"] = centreRows(bo)
            t[p + "attn.b_V"] = Tensor(shape: bv.shape)
        }
        return StateDict(source: input.source, tensors: t, metadata: input.metadata)
    }

    /// Folds a layer norm's `w`, `b` into the following `W` `[d, n]`, `b` `[n]`: `b += bᵀ_ln · W`,
    /// `W = diag(w_ln) · W`, then `W` centred over `d`.
    static func foldIntoInput(_ weight: Tensor, _ bias: Tensor, _ lnW: Tensor, _ lnB: Tensor) throws -> (Tensor, Tensor) {
        var w = weight, b = bias
        let (d, n) = (w.shape[0], w.shape[1])
        for i in 0..<n {
            var folded = b.values[i], mean: Float = 0
            for m in 0..<d {
                folded += w.values[m * n + i] * lnB.values[m]
                w.values[m * n + i] *= lnW.values[m]
                mean += w.values[m * n + i]
            }
            b.values[i] = folded
            mean /= Float(d)
            for m in 0..<d { w.values[m * n + i] -= mean }
        }
        return (w, b)
    }

    /// Subtracts from every row (last axis) its mean.
    static func centreRows(_ tensor: Tensor) -> Tensor {
        var out = tensor
        let n = tensor.shape.last ?? 1
        for r in 0..<(tensor.count / max(n, 1)) {
            var mean: Float = 0
            for i in 0..<n { mean += out.values[r * n + i] }
            mean /= Float(n)
            for i in 0..<n { out.values[r * n + i] -= mean }
        }
        return out
    }
}
