#!/usr/bin/env python3
"""TransformerLens' side of `othello-gpt bench forward`: run_with_cache on the same weights and threads.

    python3 scripts/bench_transformer_lens.py --weights W.safetensors --batch 64 --threads 2 --seconds 5

Prints one JSON object: tokens/s caching every resid_post, and caching every hook.
"""
import argparse
import json
import time

import torch
from safetensors import safe_open
from safetensors.torch import load_file
from transformer_lens import HookedTransformer, HookedTransformerConfig


def measure(run, tokens, seconds):
    run()  # warm-up
    count, start = 0, time.perf_counter()
    while True:
        run()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and count >= 2:
            return tokens * count / elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", required=True)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with safe_open(args.weights, "pt") as f:
        config = json.loads(f.metadata()["config"])
    cfg = HookedTransformerConfig(
        n_layers=config["nLayers"], d_model=config["dModel"], n_heads=config["nHeads"], d_head=config["dHead"],
        d_mlp=config["dMLP"], d_vocab=config["dVocab"], n_ctx=config["nCtx"], act_fn="gelu",
        normalization_type=config["normalizationType"], eps=config["eps"], device="cpu",
    )
    model = HookedTransformer(cfg)
    model.load_state_dict(load_file(args.weights), strict=False)
    model.eval()
    tokens = torch.randint(1, cfg.d_vocab, (args.batch, cfg.n_ctx), generator=torch.Generator().manual_seed(0))
    n = args.batch * cfg.n_ctx
    with torch.inference_mode():
        resid = measure(lambda: model.run_with_cache(tokens, names_filter=lambda name: name.endswith("hook_resid_post")),
                        n, args.seconds)
        every = measure(lambda: model.run_with_cache(tokens), n, args.seconds)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                      "resid_post_tokens_per_s": resid, "all_hooks_tokens_per_s": every}))


if __name__ == "__main__":
    main()
