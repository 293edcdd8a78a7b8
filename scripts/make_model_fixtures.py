#!/usr/bin/env python3
"""Writes the reference fixtures of OthelloModelTests with TransformerLens itself.

Requires (pinned): torch==2.*, transformer-lens==3.9.0, safetensors, numpy
    python3 scripts/make_model_fixtures.py            # writes Tests/OthelloModelTests/Fixtures/

Small random models in the Othello-GPT layout (2 layers, d_model 64, 4 heads, d_mlp 128, d_vocab 61,
n_ctx 59, exact GELU) with non-trivial weights, all biases included, run on 2 games (one full, one
padded with token 0 after 40 moves). Files:

  tokens.npy                     int32 [2, 59], the model input
  tl_lnpre.pth                   torch.save(model.state_dict()) of an LNPre HookedTransformer
  tl_lnpre_activations.safetensors   every activation run_with_cache returns (+ blocks.1.attn.hook_result),
                                  and "logits"
  tl_lnpre_f16.pth               the same weights stored as float16 (reference: fp16 weights run in fp32)
  tl_lnpre_bf16.safetensors      the same weights as bfloat16, written by the safetensors library
  tl_lnpre_f16_logits.safetensors, tl_lnpre_bf16_logits.safetensors   their reference logits
  mingpt.ckpt                    a minGPT (Li et al.) state dict: tok_emb, pos_emb, query/key/value/proj, mlp.0/2, ln_f, head
                                  (ln_f.bias stored at a storage offset, head.weight as a transposed view)
  mingpt_processed.safetensors   TransformerLens' reference after convert_mingpt_weights + load_and_process_state_dict
                                  (fold_ln, center_writing_weights, center_unembed, fold_value_biases): logits and
                                  a few activations
  mingpt_unprocessed.safetensors the same checkpoint run as an LN model without processing: logits, ln1 activations
  forbidden_global.pth           a torch-style zip whose data.pkl calls os.system (must be refused, never run)
"""
import io
import os
import pickle
import sys
import zipfile

import numpy as np
import torch
from safetensors.torch import save_file
from transformer_lens import HookedTransformer, HookedTransformerConfig
from transformer_lens.pretrained.weight_conversions.mingpt import convert_mingpt_weights

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "OthelloModelTests", "Fixtures")
N_LAYERS, D_MODEL, N_HEADS, D_MLP, D_VOCAB, N_CTX = 2, 64, 4, 128, 61, 59


def config(normalization_type):
    return HookedTransformerConfig(
        n_layers=N_LAYERS, d_model=D_MODEL, d_head=D_MODEL // N_HEADS, n_heads=N_HEADS, d_mlp=D_MLP,
        d_vocab=D_VOCAB, n_ctx=N_CTX, act_fn="gelu", normalization_type=normalization_type, seed=0,
    )


def randomize(model, generator):
    """Non-trivial weights: matrices ~ N(0, 1/sqrt(fan_in)), biases ~ N(0, 0.3), norm weights 1 + N(0, 0.2)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".w"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=generator))
            elif p.ndim == 1 or name.split(".")[-1].startswith("b_"):
                p.copy_(0.3 * torch.randn(p.shape, generator=generator))
            elif name in ("embed.W_E", "pos_embed.W_pos"):
                p.copy_(torch.randn(p.shape, generator=generator))
            else:
                fan_in = p.shape[-2]
                p.copy_(torch.randn(p.shape, generator=generator) / fan_in ** 0.5)


def tokens():
    g = torch.Generator().manual_seed(7)
    t = torch.randint(1, D_VOCAB, (2, N_CTX), generator=g)
    t[1, 40:] = 0  # a game that ended after 40 moves, padded with token 0
    return t


def activations(model, toks, result_layer=None):
    logits, cache = model.run_with_cache(toks)
    # unembed.hook_in / hook_out are ln_final.hook_normalized / the logits again: stored once.
    out = {k: v.detach().float().clone().contiguous() for k, v in cache.items() if not k.startswith("unembed.")}
    out["logits"] = logits.detach().float().clone().contiguous()
    if result_layer is not None:
        model.set_use_attn_result(True)
        _, cache = model.run_with_cache(toks, names_filter=f"blocks.{result_layer}.attn.hook_result")
        model.set_use_attn_result(False)
        out.update({k: v.detach().float().clone().contiguous() for k, v in cache.items()})
    return out


def mingpt_state_dict(generator):
    """A random checkpoint in the layout of Li et al.'s minGPT (nn.Linear weights are [out, in])."""
    d, m = D_MODEL, D_MLP
    r = lambda *shape, s=1.0: (s * torch.randn(shape, generator=generator)).float()
    sd = {"tok_emb.weight": r(D_VOCAB, d), "pos_emb": r(1, N_CTX, d)}
    for l in range(N_LAYERS):
        p = f"blocks.{l}."
        sd[p + "ln1.weight"], sd[p + "ln1.bias"] = 1 + r(d, s=0.2), r(d, s=0.3)
        sd[p + "ln2.weight"], sd[p + "ln2.bias"] = 1 + r(d, s=0.2), r(d, s=0.3)
        for name in ("key", "query", "value", "proj"):
            sd[p + f"attn.{name}.weight"], sd[p + f"attn.{name}.bias"] = r(d, d, s=d ** -0.5), r(d, s=0.3)
        sd[p + "mlp.0.weight"], sd[p + "mlp.0.bias"] = r(m, d, s=d ** -0.5), r(m, s=0.3)
        sd[p + "mlp.2.weight"], sd[p + "mlp.2.bias"] = r(d, m, s=m ** -0.5), r(d, s=0.3)
    # Two views, as torch.save keeps them: ln_f.bias at a storage offset (the second half of a larger storage)
    # and head.weight transposed (strides (1, d_vocab)).
    sd["ln_f.weight"], sd["ln_f.bias"] = 1 + r(d, s=0.2), r(2 * d, s=0.3)[d:]
    sd["head.weight"] = r(d, D_VOCAB, s=d ** -0.5).t()
    # minGPT registers the causal mask as a buffer; Li et al.'s checkpoints carry it.
    for l in range(N_LAYERS):
        sd[f"blocks.{l}.attn.mask"] = torch.tril(torch.ones(N_CTX, N_CTX)).view(1, 1, N_CTX, N_CTX)
    return sd


def forbidden_pickle_zip(path):
    """A torch-style archive whose data.pkl would run os.system if unpickled naively."""
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))
    payload = pickle.dumps({"embed.W_E": Evil()}, protocol=2)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("forbidden_global/data.pkl", payload)
        z.writestr("forbidden_global/version", "3\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1234)
    toks = tokens()
    np.save(os.path.join(OUT, "tokens.npy"), toks.numpy().astype(np.int32))

    # 1. An LNPre HookedTransformer, saved as a TransformerLens state dict.
    model = HookedTransformer(config("LNPre"))
    model.eval()
    randomize(model, g)
    torch.save(model.state_dict(), os.path.join(OUT, "tl_lnpre.pth"))
    save_file(activations(model, toks, result_layer=1), os.path.join(OUT, "tl_lnpre_activations.safetensors"))

    # 2. The same weights in reduced precision; the reference runs the rounded weights in float32.
    for dtype, name in ((torch.float16, "f16"), (torch.bfloat16, "bf16")):
        sd = {k: (v.to(dtype) if v.is_floating_point() and v.ndim > 0 else v) for k, v in model.state_dict().items()}
        if name == "f16":
            torch.save(sd, os.path.join(OUT, "tl_lnpre_f16.pth"))
        else:
            save_file({k: v.contiguous() for k, v in sd.items() if k.split(".")[-1] not in ("mask", "IGNORE")},
                      os.path.join(OUT, "tl_lnpre_bf16.safetensors"), metadata={"format": "pt"})
        rounded = HookedTransformer(config("LNPre"))
        rounded.load_state_dict({k: (v.float() if v.is_floating_point() else v) for k, v in sd.items()})
        logits = rounded(toks).detach().float().contiguous()
        save_file({"logits": logits}, os.path.join(OUT, f"tl_lnpre_{name}_logits.safetensors"))

    # 3. A minGPT checkpoint, converted and processed the way TransformerLens loads Othello-GPT.
    sd = mingpt_state_dict(g)
    torch.save(sd, os.path.join(OUT, "mingpt.ckpt"))
    keep = ["blocks.0.attn.hook_v", "blocks.1.hook_resid_post"]
    cfg = config("LN")
    cfg.original_architecture = "mingpt"
    tl_sd = convert_mingpt_weights(sd, cfg)
    processed = HookedTransformer(cfg)
    processed.load_and_process_state_dict(dict(tl_sd), fold_ln=True, center_writing_weights=True,
                                          center_unembed=True, fold_value_biases=True)
    acts = activations(processed, toks)
    save_file({k: acts[k] for k in keep + ["logits"]}, os.path.join(OUT, "mingpt_processed.safetensors"))
    raw = HookedTransformer(config("LN"))
    raw.load_and_process_state_dict(dict(tl_sd), fold_ln=False, center_writing_weights=False,
                                    center_unembed=False, fold_value_biases=False)
    acts = activations(raw, toks)
    save_file({k: acts[k] for k in ["blocks.0.ln1.hook_scale", "blocks.0.ln1.hook_normalized", "logits"]},
              os.path.join(OUT, "mingpt_unprocessed.safetensors"))

    # 4. A forbidden pickle global.
    forbidden_pickle_zip(os.path.join(OUT, "forbidden_global.pth"))

    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total / 1e6:.2f} MB, to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    sys.exit(main())
