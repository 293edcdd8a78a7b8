#!/usr/bin/env python3
"""The PyTorch reference for `othello-gpt bench train`: the same training step in TransformerLens.

A HookedTransformer with the Othello-GPT architecture (LNPre, exact GELU, 61 tokens, 59 positions)
trains on a fixed batch of random move sequences with the workbench's recipe (next-move cross-entropy
ignoring padding, global-norm clipping at 1, AdamW) on the CPU with --threads threads.

After one warm-up step it prints "ready"; then, for every line read from standard input, it runs one
step and prints its seconds, so the caller can alternate its own steps with these ones (both then see
the same load from other programs). Standalone, `--steps N` runs N steps and prints one JSON line:
    {"games_per_second": ..., "seconds_per_step": ..., "threads": ..., "torch": "..."}

    python3 scripts/bench_train_torch.py --layers 8 --d-model 256 --heads 8 --d-mlp 1024 --batch 128 --threads 2 --steps 6
"""
import argparse
import json
import statistics
import sys
import time

import torch
from transformer_lens import HookedTransformer, HookedTransformerConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--d-model", type=int, default=256)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--d-mlp", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=0, help="run this many timed steps and print JSON (0: serve steps on stdin)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = HookedTransformerConfig(n_layers=args.layers, d_model=args.d_model, n_heads=args.heads,
                                  d_head=args.d_model // args.heads, d_mlp=args.d_mlp, d_vocab=61, d_vocab_out=61,
                                  n_ctx=59, act_fn="gelu", normalization_type="LNPre", seed=0, device="cpu")
    model = HookedTransformer(cfg)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.99), weight_decay=0.01)
    tokens = torch.randint(1, 61, (args.batch, 60))

    def step() -> float:
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        logits = model(tokens[:, :-1], return_type="logits")
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 61), tokens[:, 1:].reshape(-1), ignore_index=0)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return time.perf_counter() - start

    step()
    if args.steps > 0:
        seconds = statistics.median(step() for _ in range(args.steps))
        print(json.dumps({"games_per_second": args.batch / seconds, "seconds_per_step": seconds,
                          "threads": args.threads, "torch": torch.__version__}))
        return
    print("ready", flush=True)
    for _ in sys.stdin:
        print(step(), flush=True)


if __name__ == "__main__":
    main()
