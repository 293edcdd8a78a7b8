#!/usr/bin/env python3
"""Reference numbers for the atlas's neuron pages (Tests/OthelloCircuitsTests/Fixtures/neuron-reference.json),
computed in NumPy from definitions, with nothing of the workbench's code.

    pip install numpy
    python3 scripts/make_neuron_fixtures.py

1. A forward pass of the small TransformerLens model Tests/OthelloModelTests/Fixtures/tl_lnpre_bf16.safetensors
   (2 layers, d_model 64, 4 heads, d_mlp 128, LNPre, exact GELU), written here in NumPy and first checked against
   TransformerLens' own logits for those weights (tl_lnpre_bf16_logits.safetensors, made by make_model_fixtures.py).
2. 16 random legal games played by an Othello engine written here (passes when the player to move has none).
3. For neurons 0-7 of both layers (blocks.L.mlp.hook_post over every position of the 16 games): the mean, the share
   of positions where it is positive, the maximum, the 3 top positions (game, position), and the mean given each
   square mine / theirs / empty / legal / flipped / played ("mine" = the player who moves next, passes inferred;
   at the end of a game, the opponent of the last mover).
4. Their weights: W_out[n] . W_U at each move square, and the cosines of W_in[:, n] and W_out[n] with the unit
   mine - theirs and empty directions of a random linear probe (stored in the fixture, in the workbench's probe
   layout W[(i * 64 + square) * 3 + class], classes empty, theirs, mine).
"""
import json
import math
import os
import struct

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, "..", "Tests", "OthelloModelTests", "Fixtures")
out = os.path.join(here, "..", "Tests", "OthelloCircuitsTests", "Fixtures", "neuron-reference.json")


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        raw = data[start:end]
        if info["dtype"] == "BF16":
            values = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        elif info["dtype"] == "F32":
            values = np.frombuffer(raw, dtype=np.float32)
        else:
            raise ValueError(info["dtype"])
        tensors[name] = values.reshape(info["shape"]).astype(np.float64)
    return tensors


W = read_safetensors(os.path.join(fixtures, "tl_lnpre_bf16.safetensors"))
L, (H, d, dh), m = 2, W["blocks.0.attn.W_Q"].shape, W["blocks.0.mlp.W_in"].shape[1]
erf = np.vectorize(math.erf)


def ln_pre(x):
    x = x - x.mean(-1, keepdims=True)
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5)


def forward(tokens):
    """Logits [B, T, V] and every layer's mlp.hook_post [B, T, m]."""
    T = tokens.shape[1]
    x = W["embed.W_E"][tokens] + W["pos_embed.W_pos"][:T]
    posts = []
    mask = np.triu(np.ones((T, T), dtype=bool), 1)
    for l in range(L):
        p = f"blocks.{l}."
        h = ln_pre(x)
        q = np.einsum("btd,hde->bthe", h, W[p + "attn.W_Q"]) + W[p + "attn.b_Q"]
        k = np.einsum("btd,hde->bthe", h, W[p + "attn.W_K"]) + W[p + "attn.b_K"]
        v = np.einsum("btd,hde->bthe", h, W[p + "attn.W_V"]) + W[p + "attn.b_V"]
        scores = np.einsum("bqhe,bkhe->bhqk", q, k) / math.sqrt(dh)
        scores[:, :, mask] = -np.inf
        pattern = np.exp(scores - scores.max(-1, keepdims=True))
        pattern /= pattern.sum(-1, keepdims=True)
        z = np.einsum("bhqk,bkhe->bqhe", pattern, v)
        x = x + np.einsum("bqhe,hed->bqd", z, W[p + "attn.W_O"]) + W[p + "attn.b_O"]
        pre = ln_pre(x) @ W[p + "mlp.W_in"] + W[p + "mlp.b_in"]
        post = 0.5 * pre * (1 + erf(pre / math.sqrt(2)))
        posts.append(post)
        x = x + post @ W[p + "mlp.W_out"] + W[p + "mlp.b_out"]
    return ln_pre(x) @ W["unembed.W_U"] + W["unembed.b_U"], posts


# 1. The NumPy forward pass against TransformerLens.
tokens = np.load(os.path.join(fixtures, "tokens.npy"))
expected = read_safetensors(os.path.join(fixtures, "tl_lnpre_bf16_logits.safetensors"))["logits"]
logits, _ = forward(tokens)
assert np.abs(logits - expected).max() < 2e-4, np.abs(logits - expected).max()

# 2. Legal games. Squares 0..63 = row * 8 + column; tokens 1..60 are the 60 non-centre squares in order.
DIRECTIONS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]
SQUARES = [s for s in range(64) if s not in (27, 28, 35, 36)]


def flips(board, square, player):
    if board[square] != 0:
        return []
    r0, c0 = divmod(square, 8)
    out = []
    for dr, dc in DIRECTIONS:
        r, c, line = r0 + dr, c0 + dc, []
        while 0 <= r < 8 and 0 <= c < 8 and board[r * 8 + c] == -player:
            line.append(r * 8 + c)
            r, c = r + dr, c + dc
        if line and 0 <= r < 8 and 0 <= c < 8 and board[r * 8 + c] == player:
            out += line
    return out


def legal(board, player):
    return [s for s in range(64) if flips(board, s, player)]


def play_random(rng):
    """A random legal game: the moves, and after each move (board, flipped, legal moves of who moves next, next)."""
    board = [0] * 64
    board[27], board[36], board[28], board[35] = -1, -1, 1, 1   # white D3, E4; black D4, E3 (1 = black, -1 = white)
    player, moves, states = 1, [], []
    while True:
        options = legal(board, player)
        if not options:
            player = -player
            options = legal(board, player)
            if not options:
                break
        square = options[rng.integers(len(options))]
        flipped = flips(board, square, player)
        board[square] = player
        for f in flipped:
            board[f] = player
        moves.append(square)
        following = -player if legal(board, -player) else (player if legal(board, player) else None)
        states.append((list(board), flipped, legal(board, following) if following else [], following, player))
        player = -player
    return moves, states


rng = np.random.default_rng(7)
games = [play_random(rng) for _ in range(16)]
T = 59
token_batch = np.zeros((len(games), T), dtype=np.int64)
for g, (moves, _) in enumerate(games):
    for t, s in enumerate(moves[:T]):
        token_batch[g, t] = SQUARES.index(s) + 1
_, posts = forward(token_batch)

# 3. Statistics over every real position (t < length, t < 59).
rows = [(g, t) for g, (moves, _) in enumerate(games) for t in range(min(T, len(moves)))]
conditions = np.zeros((len(rows), 6, 64))
for r, (g, t) in enumerate(rows):
    board, flipped, legal_next, following, mover = games[g][1][t]
    mine = following if following is not None else -mover
    for s in range(64):
        conditions[r, 0, s] = board[s] == mine
        conditions[r, 1, s] = board[s] == -mine
        conditions[r, 2, s] = board[s] == 0
        conditions[r, 3, s] = s in legal_next
        conditions[r, 4, s] = s in flipped
        conditions[r, 5, s] = s == games[g][0][t]
neurons = list(range(8))
probe = np.round(rng.normal(size=(d, 64, 3)), 2)   # 2 decimals: a short fixture, exact in the test
reference = {"games": [moves for moves, _ in games], "positions": len(rows), "neurons": neurons,
             "probe": probe.reshape(-1).tolist(), "layers": []}
for l in range(L):
    acts = np.array([posts[l][g, t, neurons] for g, t in rows])       # [rows, 8]
    counts = conditions.reshape(len(rows), -1).sum(0)                   # [384]
    sums = conditions.reshape(len(rows), -1).T @ acts                   # [384, 8]
    means = np.where(counts[:, None] > 0, sums / np.maximum(counts[:, None], 1), 0)
    top = [[list(rows[i]) for i in np.argsort(-acts[:, j], kind="stable")[:3]] for j in range(len(neurons))]
    W_in, W_out = W[f"blocks.{l}.mlp.W_in"], W[f"blocks.{l}.mlp.W_out"]
    logit = [[float(W_out[n] @ W["unembed.W_U"][:, SQUARES.index(s) + 1]) if s in SQUARES else 0.0 for s in range(64)] for n in neurons]
    mine_theirs = probe[:, :, 2] - probe[:, :, 1]
    empty = probe[:, :, 0] - 0.5 * (probe[:, :, 1] + probe[:, :, 2])
    unit = lambda u: u / np.linalg.norm(u, axis=0, keepdims=True)
    cos = lambda v, u: (v @ unit(u) / np.linalg.norm(v)).tolist()
    reference["layers"].append({
        "mean": acts.mean(0).tolist(), "frequency": (acts > 0).mean(0).tolist(), "maximum": acts.max(0).tolist(),
        "top": top, "condition_counts": counts.astype(int).tolist(), "conditioned": means.T.tolist(),   # [8][384]
        "logit_effect": logit,
        "output_mine_theirs": [cos(W_out[n], mine_theirs) for n in neurons], "output_empty": [cos(W_out[n], empty) for n in neurons],
        "input_mine_theirs": [cos(W_in[:, n], mine_theirs) for n in neurons], "input_empty": [cos(W_in[:, n], empty) for n in neurons],
    })
os.makedirs(os.path.dirname(out), exist_ok=True)
def short(x):
    if isinstance(x, float):
        return float(f"{x:.7g}")
    if isinstance(x, list):
        return [short(v) for v in x]
    if isinstance(x, dict):
        return {k: short(v) for k, v in x.items()}
    return x


with open(out, "w") as f:
    json.dump(short(reference), f, separators=(",", ":"))
print(f"wrote {out}: {len(rows)} positions, neurons {neurons} of {L} layers")
