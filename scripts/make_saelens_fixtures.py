#!/usr/bin/env python3
"""Writes the SAELens fixtures of OthelloSAEsTests with SAELens itself.

Requires (pinned): sae-lens==6.54.12 (with its torch and transformer-lens)
    python3 scripts/make_saelens_fixtures.py        # writes Tests/OthelloSAEsTests/Fixtures/saelens/

1. Three SAEs made and saved by SAELens (`save_model`: cfg.json + sae_weights.safetensors), with random weights on
   d_in 16, d_sae 32, hook blocks.1.hook_resid_post: `standard/` (ReLU), `topk/` (k 4) and `jumprelu/` (one
   threshold for every feature, as SAELens saves a BatchTopK SAE for inference).
2. `reference.safetensors`: activations "x" [64, 16], and for each SAE its feature activations ("<name>.acts") and
   reconstruction ("<name>.out") from SAELens' encode/decode, and in the metadata SAELens' own MSE (per-token squared
   error summed over the width, averaged), explained variance (its ExplainedVarianceCalculator) and L0, as
   sae_lens.evals computes them.
3. `workbench-topk/` and `workbench-batchtopk/` are folders the workbench wrote (`SAEFile.saveSAELens`; the Swift
   test writes them into the folder OTHELLO_WRITE_SAELENS_FIXTURE names: run it with that set to this folder first):
   this script loads them with `SAE.load_from_disk` — so SAELens reads what the workbench writes — and records
   their encode and decode of x as "<name>.acts" / ".out".
"""
import json
import os

import torch
from safetensors.torch import save_file
from sae_lens import SAE
from sae_lens.evals import ExplainedVarianceCalculator
from sae_lens.saes.jumprelu_sae import JumpReLUSAE, JumpReLUSAEConfig
from sae_lens.saes.sae import SAEMetadata
from sae_lens.saes.standard_sae import StandardSAE, StandardSAEConfig
from sae_lens.saes.topk_sae import TopKSAE, TopKSAEConfig

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "OthelloSAEsTests", "Fixtures", "saelens")
HOOK = "blocks.1.hook_resid_post"


def metrics(x, acts, out):
    calculator = ExplainedVarianceCalculator()
    calculator.add_batch(sae_output=out, hidden_acts=x)
    return {"mse": (x - out).pow(2).sum(dim=-1).mean().item(), "explained_variance": calculator.compute(),
            "l0": (acts != 0).sum(dim=-1).float().mean().item()}


def randomize(sae, generator):
    with torch.no_grad():
        sae.W_enc.copy_(torch.randn(sae.W_enc.shape, generator=generator) / 4)
        sae.W_dec.copy_(torch.randn(sae.W_dec.shape, generator=generator) / 4)
        sae.b_enc.copy_(0.2 * torch.randn(sae.b_enc.shape, generator=generator))
        sae.b_dec.copy_(0.2 * torch.randn(sae.b_dec.shape, generator=generator))


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(29)
    x = 1.5 * torch.randn(64, 16, generator=g) + 0.5
    tensors = {"x": x}
    meta = {}
    metadata = lambda: SAEMetadata(hook_name=HOOK, model_name="othello-gpt fixture")
    saes = {
        "standard": StandardSAE(StandardSAEConfig(d_in=16, d_sae=32, metadata=metadata())),
        "topk": TopKSAE(TopKSAEConfig(d_in=16, d_sae=32, k=4, metadata=metadata())),
        "jumprelu": JumpReLUSAE(JumpReLUSAEConfig(d_in=16, d_sae=32, metadata=metadata())),
    }
    for name, sae in saes.items():
        randomize(sae, g)
        if name == "jumprelu":
            with torch.no_grad():
                sae.threshold.fill_(0.3)
        sae.save_model(os.path.join(OUT, name))
        with torch.no_grad():
            acts = sae.encode(x)
            out = sae.decode(acts)
        tensors[name + ".acts"], tensors[name + ".out"] = acts.contiguous(), out.contiguous()
        meta[name] = metrics(x, acts, out)
    for name, architecture in [("workbench-topk", "topk"), ("workbench-batchtopk", "jumprelu")]:
        workbench = os.path.join(OUT, name)
        if not os.path.isdir(workbench):
            continue
        sae = SAE.load_from_disk(workbench)
        assert sae.cfg.architecture() == architecture, sae.cfg
        assert sae.cfg.metadata.hook_name == HOOK, sae.cfg.metadata
        with torch.no_grad():
            acts = sae.encode(x)
            out = sae.decode(acts)
        tensors[name + ".acts"], tensors[name + ".out"] = acts.contiguous(), out.contiguous()
        meta[name] = metrics(x, acts, out)
    save_file(tensors, os.path.join(OUT, "reference.safetensors"), metadata={"metrics": json.dumps(meta, sort_keys=True)})
    print(json.dumps(meta, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
