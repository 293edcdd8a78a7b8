#!/usr/bin/env python3
"""PyTorch's side of `othello-gpt bench probe`: the same probe training on the same cached activations.

    python3 scripts/bench_probe_torch.py --folder DIR --kind linear --threads 2 [--epochs 4 --batch 512 --lr 1e-3 --hidden 128]

DIR holds train_x.npy (float32 [N, d]), train_y.npy (uint8 [N, 64], classes 0..2), test_x.npy, test_y.npy, written by the
workbench. Trains with torch.optim.AdamW (betas 0.9/0.999, weight decay 0.01 on the weight matrices only), rows shuffled
every epoch, loss F.cross_entropy over rows x 64 squares — the workbench's recipe — and prints one JSON object:
seconds of training, test accuracy per square. Optionally (--weights, --layer) also times TransformerLens' run_with_cache
of that layer's resid_post on the games in DIR/games.npy (int8 [G, 60]).
"""
import argparse
import json
import time

import numpy as np
import torch
import torch.nn.functional as F


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--folder", required=True)
    ap.add_argument("--kind", default="linear")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--weights")
    ap.add_argument("--layer", type=int)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    load = lambda name: torch.from_numpy(np.load(f"{args.folder}/{name}.npy"))
    x, y = load("train_x"), load("train_y").long()
    tx, ty = load("test_x"), load("test_y").long()
    d = x.shape[1]
    if args.kind == "linear":
        probe = torch.nn.Linear(d, 64 * 3)
    else:
        probe = torch.nn.Sequential(torch.nn.Linear(d, args.hidden), torch.nn.ReLU(), torch.nn.Linear(args.hidden, 64 * 3))
    weights = [p for n, p in probe.named_parameters() if n.endswith("weight")]
    biases = [p for n, p in probe.named_parameters() if n.endswith("bias")]
    opt = torch.optim.AdamW([{"params": weights, "weight_decay": 0.01}, {"params": biases, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    start = time.perf_counter()
    for _ in range(args.epochs):
        order = torch.randperm(len(x))
        for i in range(0, len(x), args.batch):
            idx = order[i:i + args.batch]
            loss = F.cross_entropy(probe(x[idx]).view(-1, 3), y[idx].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        accuracy = (probe(tx).view(-1, 64, 3).argmax(-1) == ty).float().mean().item()
    out = {"seconds": seconds, "accuracy": accuracy, "torch": torch.__version__}
    if args.weights is not None and args.layer is not None:
        out["cache_seconds"] = cache_seconds(args)
    print(json.dumps(out))


def cache_seconds(args):
    """TransformerLens run_with_cache of blocks.L.hook_resid_post on every game (batches of 128, stop at L + 1)."""
    from safetensors.torch import load_file
    from safetensors import safe_open
    from transformer_lens import HookedTransformer, HookedTransformerConfig
    state = load_file(args.weights)
    with safe_open(args.weights, "pt") as f:
        meta = json.loads(f.metadata()["config"])
    cfg = HookedTransformerConfig(n_layers=meta["nLayers"], d_model=meta["dModel"], n_heads=meta["nHeads"], d_head=meta["dHead"],
                                  d_mlp=meta["dMLP"], d_vocab=meta["dVocab"], n_ctx=meta["nCtx"], act_fn="gelu",
                                  normalization_type="LNPre")
    model = HookedTransformer(cfg)
    model.load_state_dict(state, strict=False)
    games = np.load(f"{args.folder}/games.npy").astype(np.int64)
    squares = [s for s in range(64) if s not in (27, 28, 35, 36)]
    lookup = np.zeros(65, dtype=np.int64)
    for i, s in enumerate(squares):
        lookup[s] = i + 1
    tokens = torch.from_numpy(lookup[np.where(games[:, :59] < 0, 64, games[:, :59])])
    name = f"blocks.{args.layer}.hook_resid_post"
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(tokens), 128):
            _, cache = model.run_with_cache(tokens[i:i + 128], names_filter=name, stop_at_layer=args.layer + 1)
            cache[name].numpy().copy()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
