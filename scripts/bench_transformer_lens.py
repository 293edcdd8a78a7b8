#!/usr/bin/env python3
"""TransformerLens' side of `othello-gpt bench forward`: run_with_cache on the same weights and threads.

    python3 scripts/bench_transformer_lens.py --weights W.safetensors --batch 64 --threads 2 --seconds 9 --rounds 3

Prints one JSON object: tokens/s caching every resid_post, and caching every hook; and the GFLOP/s of
PyTorch's own matrix products (torch.matmul, MKL in the PyPI wheels) on the model's shapes, the ceiling of
TransformerLens as OpenBLAS's sgemm is the workbench's.
"""
import argparse
import json
import time

import torch
from safetensors import safe_open
from safetensors.torch import load_file
from transformer_lens import HookedTransformer, HookedTransformerConfig


def measure(run, tokens, seconds):
    count, start = 0, time.perf_counter()
    while True:
        run()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return tokens * count / elapsed


def matmul_gflops(cfg, rows, seconds):
    """GFLOP/s of torch.matmul on one block's products and the unembedding, as a forward pass calls them."""
    C, M, V = cfg.d_model, cfg.d_mlp, cfg.d_vocab
    shapes = [(rows, C, C, 3), (rows, C, C, 1), (rows, C, M, 1), (rows, M, C, 1), (rows, C, V, 1)]  # (m, k, n, calls)
    pairs = [(torch.full((m, k), 0.01), torch.full((k, n), 0.01), calls) for m, k, n, calls in shapes]
    flops = sum(2 * a.shape[0] * a.shape[1] * b.shape[1] * calls for a, b, calls in pairs)
    def run():
        for a, b, calls in pairs:
            for _ in range(calls):
                torch.matmul(a, b)
    run()
    return measure(run, flops, seconds) / 1e9


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", required=True)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=9)
    parser.add_argument("--rounds", type=int, default=3)
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
    resid_run = lambda: model.run_with_cache(tokens, names_filter=lambda name: name.endswith("hook_resid_post"))
    every_run = lambda: model.run_with_cache(tokens)
    resid = every = gemm = 0.0
    with torch.inference_mode():
        resid_run()  # warm-up
        # Rounds alternate the measurements; each figure is the best of its rounds (as in the Swift bench).
        for _ in range(args.rounds):
            resid = max(resid, measure(resid_run, n, args.seconds / args.rounds))
            gemm = max(gemm, matmul_gflops(cfg, n, args.seconds / args.rounds))
            every = max(every, measure(every_run, n, args.seconds / args.rounds))
    blas = "MKL" if torch.backends.mkl.is_available() else "PyTorch BLAS"
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas,
                      "resid_post_tokens_per_s": resid, "all_hooks_tokens_per_s": every, "matmul_gflops": gemm}))


if __name__ == "__main__":
    main()
