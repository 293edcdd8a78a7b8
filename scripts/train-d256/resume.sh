#!/usr/bin/env bash
# The long training run of the stronger shipped model (8 layers, d_model 256, 8 heads, d_mlp 1024, 3,000,000 games,
# seed 1): starts it, or resumes it exactly from its checkpoint, in the background at low priority.
#
#   scripts/train-d256/resume.sh            # run folder /work/train-d256 (RUN_DIR=... to choose another)
#   BUILD_LOCK=/tmp/othello-build.lock scripts/train-d256/resume.sh    # on a machine shared with other builds
#
# The run folder holds d256.ckpt.safetensors (weights, AdamW moments, step; rewritten every 5 minutes), the log
# d256.jsonl and the binary that trains. If the folder has no checkpoint but this folder has one (committed at the
# end of a session, for a new machine), it is copied there first. The trainer uses the CPU's own OpenBLAS kernels
# (OPENBLAS_CORETYPE unset for this command only).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
run="${RUN_DIR:-/work/train-d256}"
if [ ! -f "$run/d256.ckpt.safetensors" ] && [ ! -f "$here/d256.ckpt.safetensors" ] && [ -d "$here/final" ]; then
  echo "resume: the run has finished and its weights are the shipped model's; scripts/train-d256/finish.sh measures them" >&2
  exit 1
fi
mkdir -p "$run"
if [ ! -f "$run/d256.ckpt.safetensors" ] && [ -f "$here/d256.ckpt.safetensors" ]; then
  cp "$here/d256.ckpt.safetensors" "$run/"
  [ -f "$run/d256.jsonl" ] || cp "$here/d256.jsonl" "$run/"
fi
"$repo/scripts/build-trainer.sh" "$run/othello-gpt-trainer"
cd "$run"
if [ -f d256.ckpt.safetensors ]; then
  args=(--resume d256.ckpt.safetensors)
else
  args=(--layers 8 --d-model 256 --heads 8 --d-mlp 1024 --games 3000000 --batch 128 --lr 1e-3 --seed 1)
fi
nohup nice -n 19 env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ./othello-gpt-trainer train "${args[@]}" \
  --out d256.safetensors --log d256.jsonl --threads 2 --checkpoint-every 300 >> train.out 2>> train.err &
echo "training in the background (pid $!); progress: tail -f $run/train.err $run/d256.jsonl"
