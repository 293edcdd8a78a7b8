#!/usr/bin/env bash
# Hands the continued d256 run (issue #28) to a new machine: writes the run folder's checkpoint as a compact one
# (F16 weights, BF16 AdamW moments: 38 MB instead of 76 MB) into this folder, with the run's log, for a commit.
# At most one such commit per session (every copy stays in the repository's history); resume.sh starts from it.
#
#   scripts/train-d256-8m/handoff.sh        # run folder /work/train-d256-8m (RUN_DIR=... to choose another)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
run="${RUN_DIR:-/work/train-d256-8m}"
tool="$run/othello-gpt-trainer"
"$tool" train export "$run/d256-8m.ckpt.safetensors" --with-optimizer --out "$here/handoff.ckpt.safetensors"
cp "$run/d256-8m.jsonl" "$here/d256-8m.jsonl"
