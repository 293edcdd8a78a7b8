#!/usr/bin/env python3
"""The reference of `othello-gpt bench sae`: the same SAE training steps in PyTorch, on the same activations and
initial weights (written by the workbench to --folder), with the same number of threads.

Recipe (as the workbench's): encode = ReLU((x - b_dec) W_enc + b_enc), TopK or BatchTopK; loss = mean over rows of the squared
error summed over d_in, plus l1 * the summed activations (ReLU); the decoder rows' gradient without its parallel
part; Adam (0.9, 0.999, eps 1e-8); decoder rows renormalised after each step. Prints one JSON line.
"""
import argparse
import json
import time

import numpy as np
import torch

parser = argparse.ArgumentParser()
parser.add_argument("--folder", required=True)
parser.add_argument("--kind", default="relu")
parser.add_argument("--k", type=int, default=32)
parser.add_argument("--l1", type=float, default=5.0)
parser.add_argument("--steps", type=int, default=50)
parser.add_argument("--batch", type=int, default=4096)
parser.add_argument("--lr", type=float, default=3e-4)
parser.add_argument("--threads", type=int, default=2)
a = parser.parse_args()
torch.set_num_threads(a.threads)

data = torch.from_numpy(np.load(f"{a.folder}/activations.npy"))
init = np.load(f"{a.folder}/parameters.npy")
rows, d = data.shape
n = int(np.load(f"{a.folder}/shape.npy")[1])
W_enc = torch.tensor(init[: d * n].reshape(d, n)).requires_grad_(True)
b_enc = torch.tensor(init[d * n : d * n + n]).requires_grad_(True)
W_dec = torch.tensor(init[d * n + n : 2 * d * n + n].reshape(n, d)).requires_grad_(True)
b_dec = torch.tensor(init[2 * d * n + n :]).requires_grad_(True)
params = [W_enc, b_enc, W_dec, b_dec]
opt = torch.optim.Adam(params, lr=a.lr, betas=(0.9, 0.999), eps=1e-8)


def step(i):
    idx = torch.arange(i * a.batch, (i + 1) * a.batch) % rows
    x = data[idx]
    pre = (x - b_dec) @ W_enc + b_enc
    if a.kind == "relu":
        f = torch.relu(pre)
    elif a.kind == "batchtopk":
        # BatchTopK (Bussmann et al.): the k × batch largest activations of the whole batch.
        r = torch.relu(pre).flatten()
        top = torch.topk(r, a.k * x.shape[0])
        f = torch.zeros_like(r).scatter(0, top.indices, top.values).view_as(pre)
    else:
        top = torch.topk(pre, a.k, dim=-1)
        f = torch.zeros_like(pre).scatter(-1, top.indices, torch.relu(top.values))
    xhat = f @ W_dec + b_dec
    loss = (xhat - x).pow(2).sum(-1).mean() + (a.l1 * f.sum(-1).mean() if a.kind == "relu" else 0)
    opt.zero_grad(set_to_none=False)
    loss.backward()
    with torch.no_grad():
        g = W_dec.grad
        g -= (g * W_dec).sum(1, keepdim=True) * W_dec
    opt.step()
    with torch.no_grad():
        W_dec.div_(W_dec.norm(dim=1, keepdim=True))
    return loss.item()


step(0)  # warm-up (not timed, as the workbench's first step is not either)
start = time.perf_counter()
for i in range(1, a.steps + 1):
    last = step(i)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "loss": last, "torch": torch.__version__}))
