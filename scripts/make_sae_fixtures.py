#!/usr/bin/env python3
"""Reference numbers for the SAE tests (Tests/OthelloSAEsTests/Fixtures), computed with PyTorch.

    pip install torch numpy
    python3 scripts/make_sae_fixtures.py

1. sae-step.json: a small SAE (d_in 8, d_sae 16) on 32 rows, ReLU with an L1 penalty, ReLU with p-annealing's
   penalty at p 0.5 (l1 * the summed f^p, dictionary_learning's "Lp^p") and TopK (k 3): the activations, the loss
   (mean over rows of the squared error summed over d_in, plus the penalty: l1 * the summed activations),
   the gradients after removing each decoder row's parallel part, and the parameters after one Adam step
   (torch.optim.Adam, lr 1e-2, betas 0.9/0.999, eps 1e-8) with the decoder rows renormalised; and TopK with
   Gao et al.'s auxiliary loss (AuxK, as dictionary_learning's TopKTrainer computes it) on 64 features.
2. board-metrics.json: Karvonen et al.'s coverage and board reconstruction on random sparse activations with
   random properties, written out from their definitions in NumPy (thresholds 0, 0.1, ..., 1 of each feature's
   max on the training rows; F1 = 2TP / (on + positives); coverage = max over thresholds of the mean over each
   property's elements of the best F1 over features; reconstruction: labels at precision >= 0.95 and >= 10 true
   positives on the training rows, the threshold (of 0 ... 0.9) with the best training F1, micro F1 on the test rows).
"""
import json
import os

import numpy as np
import torch

out = os.path.join(os.path.dirname(__file__), "..", "Tests", "OthelloSAEsTests", "Fixtures")
torch.manual_seed(0)
rng = np.random.default_rng(0)


def sae_case(kind, p=1.0, n=16, aux_k=0):
    d, rows = 8, 32
    W_dec = torch.randn(n, d)
    W_dec = W_dec / W_dec.norm(dim=1, keepdim=True)
    W_enc = W_dec.T.clone() + 0.1 * torch.randn(d, n)
    b_enc = 0.1 * torch.randn(n)
    b_dec = 0.1 * torch.randn(d)
    x = torch.randn(rows, d)
    params = [p.clone().requires_grad_(True) for p in (W_enc, b_enc, W_dec, b_dec)]
    We, be, Wd, bd = params
    pre = (x - bd) @ We + be
    if kind == "relu":
        f = torch.relu(pre)
    else:
        top = torch.topk(pre, 3, dim=-1)
        f = torch.zeros_like(pre).scatter(-1, top.indices, torch.relu(top.values))
    xhat = f @ Wd + bd
    l1 = 0.1 if kind == "relu" else 0.0
    mse = (xhat - x).pow(2).sum(-1).mean()
    loss = mse + l1 * f.pow(p).sum(-1).mean()
    extra = {}
    if aux_k:
        # Gao et al.'s AuxK as dictionary_learning's TopKTrainer computes it: the candidates (every feature but each fifth)
        # that did not fire in this batch are dead; their top aux_k ReLU'd pre-activations per row, through the
        # decoder without its bias, reconstruct the detached error; weight 1/32 on the normalised squared error.
        candidates = [i for i in range(n) if i % 5 != 0]
        fired = (f > 0).any(0)
        dead = torch.zeros(n, dtype=torch.bool)
        dead[candidates] = True
        dead &= ~fired
        k_aux = min(aux_k, int(dead.sum()))
        post_relu = torch.relu(pre)
        acts, idx = torch.where(dead[None], post_relu, -torch.inf).topk(k_aux, sorted=False)
        aux = torch.zeros_like(post_relu).scatter(-1, idx, acts)
        e = (x - xhat).detach()
        aux_err = (e - aux @ Wd).pow(2).sum(-1).mean()
        denom = (e - e.mean(0, keepdim=True)).pow(2).sum(-1).mean()
        aux_loss = aux_err / denom / 32
        loss = loss + aux_loss
        extra = {"aux_k": aux_k, "aux_candidates": candidates, "aux_dead": int(dead.sum()), "aux_loss": aux_loss.item()}
    loss.backward()
    # the decoder rows' gradient without its parallel part
    g = Wd.grad
    Wd.grad = g - (g * Wd.detach()).sum(1, keepdim=True) * Wd.detach()
    grads = [p.grad.clone() for p in params]
    opt = torch.optim.Adam(params, lr=1e-2, betas=(0.9, 0.999), eps=1e-8)
    opt.step()
    with torch.no_grad():
        Wd.div_(Wd.norm(dim=1, keepdim=True))
    flat = lambda ts: torch.cat([t.detach().reshape(-1) for t in ts]).tolist()
    return {
        "kind": kind, "k": 3, "l1": l1, "p": p, "d_in": d, "d_sae": n, "rows": rows,
        "parameters": flat([W_enc, b_enc, W_dec, b_dec]), "x": x.reshape(-1).tolist(),
        "activations": f.detach().reshape(-1).tolist(), "reconstruction": xhat.detach().reshape(-1).tolist(),
        "mse": mse.item(), "loss": loss.item(), "gradients": flat(grads), "after_step": flat(params), **extra,
    }


def board_metrics():
    n, E = 12, 320
    thresholds = np.arange(11) / 10

    def data(rows):
        acts = np.where(rng.random((rows, n)) < 0.3, rng.random((rows, n)) * 3, 0.0).astype(np.float32)
        props = rng.random((rows, E)) < 0.1
        # make feature 0 a clean detector of element 5 and feature 1 of element 200
        props[:, 5] = acts[:, 0] > 0.5
        props[:, 200] = acts[:, 1] > 1.0
        return acts, props

    tr_a, tr_p = data(400)
    te_a, te_p = data(300)
    maxima = tr_a.max(0)
    on = np.stack([(tr_a > t * maxima) & (maxima > 0) for t in thresholds])           # [T, rows, n]
    tp = np.einsum("trn,re->tne", on.astype(np.int64), tr_p.astype(np.int64))        # [T, n, E]
    on_count = on.sum(1)                                                               # [T, n]
    pos = tr_p.sum(0)                                                                  # [E]
    denom = on_count[:, :, None] + pos[None, None, :]
    f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
    alive = maxima > 0
    best = np.where(alive[None, :, None], f1, 0).max(1)                                # [T, E]
    coverage = {}
    for name, r in (("board", range(0, 192)), ("legal", range(192, 256)), ("flipped", range(256, 320))):
        coverage[name] = float(best[:, list(r)].mean(1).max())

    def recon(acts, props, t, labels):
        active = (acts > thresholds[t] * maxima) & (maxima > 0)
        pred = (active.astype(np.int64) @ labels.astype(np.int64)) > 0                # [rows, 192]
        truth = props[:, :192]
        tpn = (pred & truth).sum(); fp = (pred & ~truth).sum(); fn = (~pred & truth).sum()
        return 0.0 if tpn == 0 else 2 * tpn / (2 * tpn + fp + fn)

    scores = []
    for t in range(10):
        labels = (tp[t, :, :192] >= 10) & (tp[t, :, :192] >= 0.95 * on_count[t][:, None])
        scores.append(recon(tr_a, tr_p, t, labels))
    bt = int(np.argmax(scores))
    labels = (tp[bt, :, :192] >= 10) & (tp[bt, :, :192] >= 0.95 * on_count[bt][:, None])
    return {
        "features": n,
        "train_activations": tr_a.reshape(-1).tolist(), "train_active": [np.nonzero(r)[0].tolist() for r in tr_p],
        "test_activations": te_a.reshape(-1).tolist(), "test_active": [np.nonzero(r)[0].tolist() for r in te_p],
        "coverage": coverage, "reconstruction_f1": float(recon(te_a, te_p, bt, labels)), "reconstruction_threshold": float(thresholds[bt]),
    }


with open(os.path.join(out, "sae-step.json"), "w") as f:
    relu, topk = sae_case("relu"), sae_case("topk")
    cases = {"relu": relu, "topk": topk, "relu-p0.5": sae_case("relu", p=0.5)}
    cases["topk-auxk"] = sae_case("topk", n=64, aux_k=4)
    json.dump(cases, f)
with open(os.path.join(out, "board-metrics.json"), "w") as f:
    json.dump(board_metrics(), f)
print("wrote", out)
