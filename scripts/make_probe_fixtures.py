#!/usr/bin/env python3
"""Writes the PyTorch reference fixture of OthelloProbesTests.

Requires: torch, transformer-lens==3.9.0, safetensors, numpy
    python3 scripts/make_probe_fixtures.py        # writes Tests/OthelloProbesTests/Fixtures/probe_reference.safetensors

The small random TransformerLens model of the model fixtures (Tests/OthelloModelTests/Fixtures/tl_lnpre.pth: 2 layers,
d_model 64, 4 heads, d_mlp 128, LNPre) reads the first 48 games of Games/synthetic-10k.npy; its
blocks.1.hook_resid_post is the probes' input. The board labels come from a plain Python Othello replay written
here (passes inferred from the rules): colour (empty 0, black 1, white 2) and relative (empty 0, theirs 1, mine 2,
"mine" = the player who moves next). Games 0-35 train, 36-47 test; every position 0-58 is a row.

A linear probe (zero init) and an MLP probe (d -> 32 -> ReLU -> 64 x 3, nn.Linear's default init, seed 0) are
trained on the relative labels with torch.optim.AdamW (lr 1e-2, betas 0.9/0.999, eps 1e-8, weight decay 0.01 on
the weight matrices only), batch 256, 3 epochs, rows in order (no shuffling); the loss is F.cross_entropy over all
rows x 64 squares. The fixture keeps the activations, the labels, the games, the MLP's initial weights, every
step's loss, the final weights and the test accuracy (overall and per square).

Also small probe files in the published formats (d_model 8, random values):
  nanda_probe.pth        torch.save of ONE tensor [3 modes, 8, 8, 8, 3] (options empty/white/black), as Nanda's
                         main_linear_probe.pth; nanda_relative.safetensors holds the mine/theirs probe that
                         TransformerLens' Othello tutorial derives from it ([8, 8, 8, 3]: blank, their, mine)
  li_linear_probe.pth    an othello_world linear probe state dict (proj.weight [192, 8], proj.bias [192])
  li_mlp_probe.pth       an othello_world two-layer probe (proj.0 [16, 8], proj.2 [192, 16]); classes white/empty/black
  li_probe_logits.safetensors  each Li probe's logits [5, 64, 3] on 5 inputs (also stored) in their class order
  not_a_probe.pth        torch.save of a list: neither a state dict nor one tensor (must be refused)
"""
import os

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from transformer_lens import HookedTransformer, HookedTransformerConfig

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "OthelloProbesTests", "Fixtures", "probe_reference.safetensors")
GAMES, TRAIN, T, HOOK = 48, 36, 59, "blocks.1.hook_resid_post"
LR, WD, BATCH, EPOCHS, HIDDEN = 1e-2, 0.01, 256, 3, 32

DIRECTIONS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


def flips(board, square, player):
    """Squares flipped if `player` (1 black, 2 white) plays `square` on `board` (64 ints, 0 empty)."""
    if board[square] != 0:
        return []
    other = 3 - player
    r0, c0 = divmod(square, 8)
    out = []
    for dr, dc in DIRECTIONS:
        r, c, run = r0 + dr, c0 + dc, []
        while 0 <= r < 8 and 0 <= c < 8 and board[8 * r + c] == other:
            run.append(8 * r + c)
            r, c = r + dr, c + dc
        if run and 0 <= r < 8 and 0 <= c < 8 and board[8 * r + c] == player:
            out += run
    return out


def has_move(board, player):
    return any(flips(board, s, player) for s in range(64))


def replay(moves):
    """Per move: (colour board after it, the player who moves next or None)."""
    board = [0] * 64
    board[27], board[36], board[28], board[35] = 2, 2, 1, 1
    player, steps = 1, []
    for square in moves:
        if not has_move(board, player):
            player = 3 - player
        flipped = flips(board, square, player)
        assert flipped, f"illegal move {square}"
        board[square] = player
        for s in flipped:
            board[s] = player
        nxt = 3 - player if has_move(board, 3 - player) else (player if has_move(board, player) else None)
        steps.append((list(board), nxt, player))
        player = nxt if nxt is not None else 3 - player
    return steps


def main():
    torch.manual_seed(0)
    games = np.load(os.path.join(ROOT, "Games", "synthetic-10k.npy"))[:GAMES].astype(np.int64)
    squares = [s for s in range(64) if s not in (27, 28, 35, 36)]
    token = {s: i + 1 for i, s in enumerate(squares)}
    tokens = torch.tensor([[token[int(s)] for s in g[:T]] for g in games])

    cfg = HookedTransformerConfig(n_layers=2, d_model=64, d_head=16, n_heads=4, d_mlp=128, d_vocab=61, n_ctx=59,
                                  act_fn="gelu", normalization_type="LNPre", seed=0)
    model = HookedTransformer(cfg)
    model.load_state_dict(torch.load(os.path.join(ROOT, "Tests", "OthelloModelTests", "Fixtures", "tl_lnpre.pth")), strict=False)
    _, cache = model.run_with_cache(tokens, names_filter=HOOK)
    acts = cache[HOOK].detach().float()                                    # [48, 59, 64]

    colour = np.zeros((GAMES, T, 64), dtype=np.int64)
    relative = np.zeros((GAMES, T, 64), dtype=np.int64)
    for g, moves in enumerate(games):
        for p, (board, nxt, mover) in enumerate(replay([int(s) for s in moves if s >= 0])[:T]):
            mine = nxt if nxt is not None else 3 - mover
            colour[g, p] = board
            relative[g, p] = [0 if b == 0 else (2 if b == mine else 1) for b in board]
    x_train, x_test = acts[:TRAIN].reshape(-1, 64), acts[TRAIN:].reshape(-1, 64)
    y_all = torch.tensor(relative)
    y_train, y_test = y_all[:TRAIN].reshape(-1, 64), y_all[TRAIN:].reshape(-1, 64)

    linear = torch.nn.Linear(64, 64 * 3)
    torch.nn.init.zeros_(linear.weight)
    torch.nn.init.zeros_(linear.bias)
    mlp = torch.nn.Sequential(torch.nn.Linear(64, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 64 * 3))
    mlp_init = {k: v.detach().clone() for k, v in mlp.state_dict().items()}

    def train(module):
        weights = [p for n, p in module.named_parameters() if n.endswith("weight")]
        biases = [p for n, p in module.named_parameters() if n.endswith("bias")]
        opt = torch.optim.AdamW([{"params": weights, "weight_decay": WD}, {"params": biases, "weight_decay": 0.0}],
                                lr=LR, betas=(0.9, 0.999), eps=1e-8)
        losses = []
        for _ in range(EPOCHS):
            for start in range(0, len(x_train), BATCH):
                xb, yb = x_train[start:start + BATCH], y_train[start:start + BATCH]
                loss = F.cross_entropy(module(xb).view(-1, 3), yb.reshape(-1))
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(loss.item())
        with torch.no_grad():
            hits = (module(x_test).view(-1, 64, 3).argmax(-1) == y_test).float()
        return torch.tensor(losses), hits.mean(), hits.mean(0)

    lin_losses, lin_acc, lin_sq = train(linear)
    mlp_losses, mlp_acc, mlp_sq = train(mlp)
    tensors = {
        "games": torch.tensor(games, dtype=torch.float32),
        "activations": acts.reshape(GAMES, T, 64).contiguous(),
        "colour_labels": torch.tensor(colour, dtype=torch.float16),
        "relative_labels": torch.tensor(relative, dtype=torch.float16),
        "linear.losses": lin_losses.float(), "linear.accuracy": lin_acc.reshape(1), "linear.per_square": lin_sq,
        "linear.weight": linear.weight.detach().clone(), "linear.bias": linear.bias.detach().clone(),
        "mlp.losses": mlp_losses.float(), "mlp.accuracy": mlp_acc.reshape(1), "mlp.per_square": mlp_sq,
    }
    for k, v in mlp_init.items():
        tensors[f"mlp.init.{k}"] = v
    for k, v in mlp.state_dict().items():
        tensors[f"mlp.final.{k}"] = v.detach().clone()
    save_file({k: v.contiguous() for k, v in tensors.items()}, OUT,
              metadata={"hook": HOOK, "lr": str(LR), "batch": str(BATCH), "epochs": str(EPOCHS), "hidden": str(HIDDEN)})
    write_published_formats()
    print(f"linear: test accuracy {lin_acc:.4f}, final loss {lin_losses[-1]:.4f}; "
          f"mlp: {mlp_acc:.4f}, {mlp_losses[-1]:.4f}; wrote {OUT}")


def write_published_formats():
    folder = os.path.dirname(OUT)
    g = torch.Generator().manual_seed(1)
    full = torch.randn(3, 8, 8, 8, 3, generator=g)
    torch.save(full, os.path.join(folder, "nanda_probe.pth"))
    # TransformerLens Othello tutorial: blank, their, mine from modes black-to-play (0) and white-to-play (1).
    relative = torch.zeros(8, 8, 8, 3)
    relative[..., 0] = 0.5 * (full[0, ..., 0] + full[1, ..., 0])
    relative[..., 1] = 0.5 * (full[0, ..., 1] + full[1, ..., 2])
    relative[..., 2] = 0.5 * (full[0, ..., 2] + full[1, ..., 1])
    save_file({"relative": relative.contiguous()}, os.path.join(folder, "nanda_relative.safetensors"))
    linear = torch.nn.Linear(8, 192)
    mlp = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 192))
    torch.save({"proj." + k: v for k, v in linear.state_dict().items()}, os.path.join(folder, "li_linear_probe.pth"))
    torch.save({"proj." + k: v for k, v in mlp.state_dict().items()}, os.path.join(folder, "li_mlp_probe.pth"))
    torch.save([1, 2, 3], os.path.join(folder, "not_a_probe.pth"))
    x = torch.randn(5, 8, generator=g)
    with torch.no_grad():
        save_file({"inputs": x, "linear": linear(x).view(5, 64, 3).contiguous(), "mlp": mlp(x).view(5, 64, 3).contiguous()},
                  os.path.join(folder, "li_probe_logits.safetensors"))


if __name__ == "__main__":
    main()
