#!/usr/bin/env python3
"""Writes the PyTorch reference fixture of OthelloInterventionsTests.

Requires: torch, transformer-lens==3.9.0, safetensors, numpy (and scripts/make_probe_fixtures.py's fixture first)
    python3 scripts/make_intervention_fixtures.py    # writes Tests/OthelloInterventionsTests/Fixtures/

The small TransformerLens model of the model fixtures (2 layers, d_model 64) and the linear mine/theirs probe that
scripts/make_probe_fixtures.py trained on its blocks.1.hook_resid_post are used for Nanda's direction edit: at
blocks.1.hook_resid_post, the prefix's last position, x <- x - (scale + 1)(x . d)d with d the unit
W[:, square, mine] - W[:, square, theirs] and scale 2. Cases come from games of Games/synthetic-10k.npy: a prefix, and
the lowest occupied square other than the last move whose flip changes the legal moves of the player to move (the
legal moves computed by the Python replay of make_probe_fixtures.py). Each case runs alone, unpadded, through
TransformerLens run_with_hooks. Li et al.'s error: the top-N tokens (N = number of legal moves of the edited board,
token 0 excluded) against those moves, false positives plus false negatives.

Files: model.safetensors (the model's float weights, TransformerLens names), reference.safetensors (cases, the probe,
the null and edited logits at the last position, the errors).
"""
import os
import sys

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformer_lens import HookedTransformer, HookedTransformerConfig

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_probe_fixtures import ROOT, flips, has_move, replay  # noqa: E402

OUT = os.path.join(ROOT, "Tests", "OthelloInterventionsTests", "Fixtures")
HOOK, SCALE, CASES = "blocks.1.hook_resid_post", 2.0, 24
SQUARES = [s for s in range(64) if s not in (27, 28, 35, 36)]


def legal(board, player):
    return {s for s in range(64) if flips(board, s, player)}


def main():
    cfg = HookedTransformerConfig(n_layers=2, d_model=64, d_head=16, n_heads=4, d_mlp=128, d_vocab=61, n_ctx=59,
                                  act_fn="gelu", normalization_type="LNPre", seed=0)
    model = HookedTransformer(cfg)
    model.load_state_dict(torch.load(os.path.join(ROOT, "Tests", "OthelloModelTests", "Fixtures", "tl_lnpre.pth")), strict=False)
    probe = load_file(os.path.join(ROOT, "Tests", "OthelloProbesTests", "Fixtures", "probe_reference.safetensors"))
    weight = probe["linear.weight"]                      # [192, 64]: row square * 3 + class (empty, theirs, mine)
    games = np.load(os.path.join(ROOT, "Games", "synthetic-10k.npy")).astype(np.int64)

    moves_out, squares_out, null_logits, edited_logits, errors, null_errors = [], [], [], [], [], []
    g = 0
    while len(squares_out) < CASES:
        game = [int(s) for s in games[100 + g] if s >= 0]
        p = 3 + (7 * g) % 50
        g += 1
        steps = replay(game[:p + 1])
        board, nxt, _ = steps[-1]
        if nxt is None:
            continue
        before = legal(board, nxt)
        square = None
        for s in range(64):
            if board[s] == 0 or s == game[p]:
                continue
            edited = list(board)
            edited[s] = 3 - edited[s]
            after = legal(edited, nxt)
            if after != before and after:
                square, target = s, after
                break
        if square is None:
            continue
        d = weight[square * 3 + 2] - weight[square * 3 + 1]
        d = d / d.norm()

        def edit(x, hook):
            x[0, p] = x[0, p] - (SCALE + 1) * (x[0, p] @ d) * d
            return x

        tokens = torch.tensor([[SQUARES.index(s) + 1 for s in game[:p + 1]]])
        with torch.no_grad():
            null = model(tokens)[0, p]
            out = model.run_with_hooks(tokens, fwd_hooks=[(HOOK, edit)])[0, p]

        def error(logits):
            n = len(target)
            top = torch.argsort(logits[1:], descending=True, stable=True)[:n] + 1
            predicted = {SQUARES[int(t) - 1] for t in top}
            return len(predicted - target) + len(target - predicted)

        moves_out.append(game[:p + 1] + [-1] * (60 - p - 1))
        squares_out.append(square)
        null_logits.append(null)
        edited_logits.append(out)
        errors.append(error(out))
        null_errors.append(error(null))

    os.makedirs(OUT, exist_ok=True)
    params = {k: v.contiguous() for k, v in model.state_dict().items() if v.dtype == torch.float32 and not k.endswith("IGNORE")}
    save_file(params, os.path.join(OUT, "model.safetensors"))
    save_file({
        "moves": torch.tensor(moves_out, dtype=torch.float32), "squares": torch.tensor(squares_out, dtype=torch.float32),
        "probe.weight": weight.contiguous(), "probe.bias": probe["linear.bias"].contiguous(),
        "null_logits": torch.stack(null_logits).contiguous(), "edited_logits": torch.stack(edited_logits).contiguous(),
        "errors": torch.tensor(errors, dtype=torch.float32), "null_errors": torch.tensor(null_errors, dtype=torch.float32),
    }, os.path.join(OUT, "reference.safetensors"), metadata={"hook": HOOK, "scale": str(SCALE)})
    print(f"{len(errors)} cases: mean error {np.mean(errors):.3f}, null {np.mean(null_errors):.3f}; wrote {OUT}")


if __name__ == "__main__":
    main()
