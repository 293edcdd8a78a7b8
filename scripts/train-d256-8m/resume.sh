#!/usr/bin/env bash
# The continued training of the shipped d256 model toward 8M games in all (issue #28): starts it from the shipped
# weights, or resumes it from its checkpoint, in the background at low priority.
#
#   scripts/train-d256-8m/resume.sh         # run folder /work/train-d256-8m (RUN_DIR=... to choose another)
#   BUILD_LOCK=/tmp/othello-build.lock scripts/train-d256-8m/resume.sh
#
# The recipe: `train --init-from shipped` (the 3,000,064-game d256 weights, fresh AdamW moments), 5,000,000 more
# fresh random games (seed 2, so none of the first run's games of seed 1 repeat), batch 128 (39,063 steps), peak lr
# 2e-4 after 200 warm-up steps (the first run ended at 1e-4; a peak of 5e-4 set the model back in a first try),
# cosine to 2e-5. Checkpoints every 5 minutes in the run folder (F32, 76 MB, never committed). At the end of a
# session `scripts/train-d256-8m/handoff.sh` writes the compact checkpoint (F16 weights, BF16 moments, 38 MB) into
# this folder for a new machine; this script starts from it when the run folder has none.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
run="${RUN_DIR:-/work/train-d256-8m}"
mkdir -p "$run"
if pgrep -f "$run/othello-gpt-trainer|^./othello-gpt-trainer train .*d256-8m" >/dev/null; then
  echo "resume: the run is already training (pgrep -af othello-gpt-trainer); stop it first (kill -INT PID checkpoints and stops)" >&2
  exit 1
fi
if [ ! -f "$run/d256-8m.ckpt.safetensors" ] && [ -f "$here/handoff.ckpt.safetensors" ]; then
  cp "$here/handoff.ckpt.safetensors" "$run/d256-8m.ckpt.safetensors"
fi
if [ ! -f "$run/d256-8m.jsonl" ] && [ -f "$here/d256-8m.jsonl" ]; then
  cp "$here/d256-8m.jsonl" "$run/"
fi
"$repo/scripts/build-trainer.sh" "$run/othello-gpt-trainer"
cd "$run"
if [ -f d256-8m.ckpt.safetensors ]; then
  args=(--resume d256-8m.ckpt.safetensors)
else
  args=(--init-from shipped --games 5000000 --batch 128 --lr 2e-4 --warmup-steps 200 --final-lr-fraction 0.1 --seed 2)
fi
setsid nohup nice -n 19 env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ./othello-gpt-trainer train "${args[@]}" \
  --out d256-8m.safetensors --checkpoint d256-8m.ckpt.safetensors --log d256-8m.jsonl --threads 2 \
  --checkpoint-every 300 >> train.out 2>> train.err &
pid=$!
# setsid gives the run its own scheduler autogroup, inside which nice does not reach the other processes: lower the
# group's own priority too, or the trainer takes a full core from builds and tests (kernel.sched_autogroup_enabled).
# (Only once setsid has run: the new session, and its autogroup, exist when the process leads its own session.)
for _ in $(seq 50); do [ "$(ps -o sid= -p "$pid" | tr -d ' ')" = "$pid" ] && break; sleep 0.1; done
echo 19 > "/proc/$pid/autogroup" 2>/dev/null || true
echo "training in the background (pid $pid); progress: tail -f $run/train.err $run/d256-8m.jsonl"
