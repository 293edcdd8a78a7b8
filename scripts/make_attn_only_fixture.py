#!/usr/bin/env python3
"""Writes the attention-only reference fixture of OthelloModelTests with TransformerLens itself.

Requires (pinned): torch==2.*, transformer-lens==3.9.0, safetensors
    python3 scripts/make_attn_only_fixture.py          # writes Tests/OthelloModelTests/Fixtures/tl_attn_only.safetensors

A random attention-only HookedTransformer (attn_only=True, as the induction-head toy models: 2 layers, d_model 32,
4 heads, d_vocab 12, n_ctx 10, LNPre) with non-trivial weights and every bias, run on 3 sequences of tokens.
The file holds its state dict (TransformerLens names), "tokens" (float32 [3, 10]), "logits" and a few activations
("cache.<hook name>").
"""
import os

import torch
from safetensors.torch import save_file
from transformer_lens import HookedTransformer, HookedTransformerConfig

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "OthelloModelTests", "Fixtures", "tl_attn_only.safetensors")


def main():
    cfg = HookedTransformerConfig(n_layers=2, d_model=32, d_head=8, n_heads=4, d_mlp=None, d_vocab=12, n_ctx=10,
                                  act_fn=None, normalization_type="LNPre", attn_only=True, seed=0)
    model = HookedTransformer(cfg)
    g = torch.Generator().manual_seed(11)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim == 1 or name.split(".")[-1].startswith("b_"):
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
            elif name in ("embed.W_E", "pos_embed.W_pos"):
                p.copy_(torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / p.shape[-2] ** 0.5)
    tokens = torch.randint(0, 12, (3, 10), generator=g)
    logits, cache = model.run_with_cache(tokens)
    out = {k: v.detach().float().contiguous() for k, v in model.state_dict().items() if not k.endswith((".mask", ".IGNORE"))}
    out["tokens"] = tokens.float()
    out["logits"] = logits.detach().float().contiguous()
    for name in ["blocks.0.hook_resid_post", "blocks.1.attn.hook_pattern", "blocks.1.hook_attn_out", "blocks.1.hook_resid_post"]:
        out["cache." + name] = cache[name].detach().float().contiguous()
    assert not any("mlp" in k for k in cache.keys()), "an attn_only model has no MLP hooks"
    save_file(out, OUT)
    print("wrote", OUT, "with", len(out), "tensors; hooks:", sorted(k for k in cache.keys() if k.startswith("blocks.0")))


if __name__ == "__main__":
    main()
