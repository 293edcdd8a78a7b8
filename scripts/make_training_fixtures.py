#!/usr/bin/env python3
"""Writes the PyTorch reference for the trainer's tests: Tests/OthelloTrainingTests/Fixtures/training_step.safetensors.

A tiny TransformerLens HookedTransformer with the Othello-GPT architecture (LNPre, exact GELU, causal
attention, 61-token vocabulary, 59 positions) is initialised the TransformerLens way (init_mode "gpt2":
weights ~ N(0, 0.8/sqrt(d_model)), biases 0), then trained for three steps on one fixed batch with
the workbench's training recipe:

  * loss: next-move cross-entropy at every position, input = tokens of moves 0..58, target = tokens
    of moves 1..59, target 0 (padding after the game's end) ignored, mean over the counted positions;
  * gradient clipping by global norm (torch.nn.utils.clip_grad_norm_);
  * torch.optim.AdamW with two parameter groups: weight decay on the matrices W_Q, W_K, W_V, W_O,
    W_in, W_out, W_U only (not on biases, not on the embeddings W_E and W_pos), as in minGPT,
    which Li et al. trained Othello-GPT with.

The file holds, with TransformerLens parameter names:
  tokens            [batch, 60]   the games (tokens 1..60, 0 after the game's end), stored as F32
                    (the workbench's safetensors reader reads float tensors)
  initial.<name>    the initial parameters
  grad.<name>       the gradients of the first step's loss (before clipping)
  step1.<name>      the parameters after one step
  step3.<name>      the parameters after three steps
and in __metadata__: the config, the optimiser settings, the learning rate of each step, the loss
of each step and the first step's gradient norm.

Needs torch and transformer-lens 3.9 (CPU is enough). Run from the package root:
    python3 scripts/make_training_fixtures.py
"""
import json
import math
import os

import torch
from safetensors.torch import save_file
from transformer_lens import HookedTransformer, HookedTransformerConfig

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "OthelloTrainingTests", "Fixtures", "training_step.safetensors")

CONFIG = dict(n_layers=2, d_model=16, n_heads=2, d_head=8, d_mlp=64, d_vocab=61, d_vocab_out=61, n_ctx=59)
BATCH = 6
LEARNING_RATES = [1e-2, 2e-2, 5e-3]
BETAS = (0.9, 0.99)
EPS = 1e-8
WEIGHT_DECAY = 0.1
DECAYED = ("W_Q", "W_K", "W_V", "W_O", "W_in", "W_out", "W_U")


def fixture_tokens(generator: torch.Generator) -> torch.Tensor:
    """Random move tokens; games of several lengths, so padding (token 0) is exercised."""
    tokens = torch.randint(1, 61, (BATCH, 60), generator=generator, dtype=torch.int64)
    for row, length in enumerate([60, 60, 45, 59, 20, 58][:BATCH]):
        tokens[row, length:] = 0
    return tokens


def loss_of(model: HookedTransformer, tokens: torch.Tensor) -> torch.Tensor:
    logits = model(tokens[:, :-1], return_type="logits")  # [batch, 59, 61]
    targets = tokens[:, 1:]
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=0)


def main() -> None:
    torch.manual_seed(0)
    cfg = HookedTransformerConfig(**CONFIG, act_fn="gelu", normalization_type="LNPre", init_mode="gpt2",
                                  seed=1234, device="cpu", dtype=torch.float32)
    model = HookedTransformer(cfg)
    params = dict(model.named_parameters())
    tokens = fixture_tokens(torch.Generator().manual_seed(7))

    decay = [p for n, p in params.items() if n.split(".")[-1] in DECAYED]
    no_decay = [p for n, p in params.items() if n.split(".")[-1] not in DECAYED]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=LEARNING_RATES[0], betas=BETAS, eps=EPS, foreach=False)

    tensors = {"tokens": tokens.to(torch.float32)}
    tensors.update({f"initial.{n}": p.detach().clone() for n, p in params.items()})
    losses, max_norm, first_norm = [], None, None
    for step, lr in enumerate(LEARNING_RATES):
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad()
        loss = loss_of(model, tokens)
        loss.backward()
        if step == 0:
            tensors.update({f"grad.{n}": p.grad.detach().clone() for n, p in params.items()})
            norm = math.sqrt(sum(float((p.grad.double() ** 2).sum()) for p in params.values()))
            first_norm = norm
            max_norm = round(0.5 * norm, 3)  # the first step is clipped
        torch.nn.utils.clip_grad_norm_(list(params.values()), max_norm)
        optimizer.step()
        losses.append(float(loss))
        if step == 0:
            tensors.update({f"step1.{n}": p.detach().clone() for n, p in params.items()})
    tensors.update({f"step3.{n}": p.detach().clone() for n, p in params.items()})

    metadata = {
        "config": json.dumps(dict(CONFIG, act_fn="gelu", normalization_type="LNPre", eps=cfg.eps,
                                  initializer_range=cfg.initializer_range)),
        "learning_rates": json.dumps(LEARNING_RATES),
        "betas": json.dumps(list(BETAS)),
        "eps": json.dumps(EPS),
        "weight_decay": json.dumps(WEIGHT_DECAY),
        "decayed": json.dumps(list(DECAYED)),
        "max_grad_norm": json.dumps(max_norm),
        "first_grad_norm": json.dumps(first_norm),
        "losses": json.dumps(losses),
        "versions": json.dumps({"torch": torch.__version__, "transformer_lens": "3.9.0"}),
    }
    save_file({k: v.contiguous() for k, v in tensors.items()}, OUT, metadata=metadata)
    print(f"wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes); losses {losses}, first grad norm {first_norm:.4f}, clip {max_norm}")


if __name__ == "__main__":
    main()
