#!/usr/bin/env bash
# The measurements of the finished d256 run (issue #12), for its model card: run once the trainer has written
# d256.safetensors (all 23,438 steps), in the background on a quiet machine (the default study takes about an hour
# on 2 cores, the README's measurements two to three more).
#
#   scripts/train-d256/finish.sh            # measures into /work/train-d256/final (RUN_DIR=... for another run folder)
#   scripts/train-d256/finish.sh ship       # then: the weights, log and curves become the shipped model's
#
# The shipped file is the final checkpoint's weights stored as F16 (`train export --dtype f16`: 12.7 MB instead of
# 25 MB), and that is the file measured. Measures: legal top-1 on 10,000 fresh synthetic games (seed 2026, never
# trained on; also of the F32 weights, to show what the rounding costs), on Games/synthetic-10k.npy and on
# Games/WTH_2025.wtb (eval-*.json); the default `othello-gpt study` (10,000 games, 1,000 cases; study/); the
# curves with the milestones (training.png, redrawn every time); every measurement the README quotes
# (scripts/measure-model.sh, into measurements/). The other steps are skipped when their output is there (the study
# and the measurements resume), so an interrupted finish goes on where it stopped. Between machines, commit the F16
# weights and eval-*.json into this folder's final/: they are copied back, and the rest is measured again.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
run="$(realpath -m "${RUN_DIR:-/work/train-d256}")"
final32="$run/d256.safetensors"
out="$run/final"
weights="$out/shipped-model.safetensors"
tool="$repo/.build/release/othello-gpt"
log="$run/d256.jsonl"
[ -f "$log" ] || log="$here/d256.jsonl"    # the committed log, on a machine that did not train
# What a session committed of final/ (the F16 weights and the evaluations) goes into the run folder first, so that
# a new machine goes on from there without the run's checkpoint.
if [ -d "$here/final" ]; then
  mkdir -p "$out"
  for file in "$here"/final/*; do [ -e "$out/$(basename "$file")" ] || cp "$file" "$out/"; done
fi
[ -f "$final32" ] || [ -f "$weights" ] ||
  { echo "finish: $final32 is not there yet: the run has not finished (see $run/train.err)" >&2; exit 1; }

if [ "${1:-}" = ship ]; then
  for file in "$weights" "$log" "$out/training.png" "$out/study/report.md" "$out/measurements/heads-ablate.txt"; do
    [ -f "$file" ] || { echo "finish ship: $file is missing; run scripts/train-d256/finish.sh first" >&2; exit 1; }
  done
  resources="$repo/Sources/OthelloModel/Resources"
  cp "$weights" "$resources/shipped-model.safetensors"
  cp "$log" "$resources/training-log.jsonl"
  cp "$out/training.png" "$repo/Figures/training.png"
  [ "$log" -ef "$here/d256.jsonl" ] || cp "$log" "$here/d256.jsonl"
  "$repo/scripts/measure-model.sh" --model "$weights" --out "$out/measurements" --figures
  echo "shipped: $resources/shipped-model.safetensors, training-log.jsonl, Figures/training.png; now update"
  echo "ShippedModelTests (d_model 256, 8 heads, d_mlp 1024), model-card.md and the README's measured sections"
  exit 0
fi

[ -x "$tool" ] || (cd "$repo" && make build >/dev/null)
# Benchmark-like runs use the CPU's own OpenBLAS kernels, as on a fresh machine.
fast() { nice -n "${NICE:-5}" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$tool" "$@"; }
mkdir -p "$out"
cd "$repo"
[ -f "$weights" ] || "$tool" train export "$run/d256.ckpt.safetensors" --dtype f16 --out "$weights"
[ -f "$out/fresh-10k.npy" ] || fast games generate --count 10000 --seed 2026 --out "$out/fresh-10k.npy"
if [ ! -f "$out/eval-fresh-10k-f32.json" ]; then
  [ -f "$final32" ] || { echo "finish: $final32 is needed for the F32 evaluation" >&2; exit 1; }
  fast eval --model "$final32" --games "$out/fresh-10k.npy" --json > "$out/eval-fresh-10k-f32.json.tmp"
  mv "$out/eval-fresh-10k-f32.json.tmp" "$out/eval-fresh-10k-f32.json"
fi
echo "fresh-10k, F32 weights: $(jq -c '{games, positions, legal_share}' "$out/eval-fresh-10k-f32.json")"
for games in "$out/fresh-10k.npy" Games/synthetic-10k.npy Games/WTH_2025.wtb; do
  name="eval-$(basename "${games%.*}").json"
  if [ ! -f "$out/$name" ]; then
    fast eval --model "$weights" --games "$games" --json > "$out/$name.tmp"
    mv "$out/$name.tmp" "$out/$name"
  fi
  echo "$games: $(jq -c '{games, positions, legal_share}' "$out/$name")"
done
if [ ! -f "$out/study/report.json" ] || [ "$(jq .complete "$out/study/report.json")" != true ]; then
  fast study --resume --model "$weights" --out "$out/study"    # starts it when there is none
fi
fast train figure "$log" --milestones "$here/milestones.jsonl" --title "d256" --out "$out/training.png"
NICE="${NICE:-5}" "$repo/scripts/measure-model.sh" --model "$weights" --out "$out/measurements"
echo "measured: $out (eval-*.json, study/report.md, training.png, measurements/)"
