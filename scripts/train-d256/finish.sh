#!/usr/bin/env bash
# The measurements of the finished d256 run (issue #12) that its model card, the README and docs/results.md report,
# rerun on the shipped weights, in the background on a quiet machine (the default study takes about 25 min on 2 cores,
# the measurements of docs/results.md about 2.5 h more):
#
#   scripts/train-d256/finish.sh            # measures into /work/train-d256/final (RUN_DIR=... for another run folder)
#
# The shipped file, Sources/OthelloModel/Resources/shipped-model.safetensors, is the final checkpoint's weights
# stored as F16 (`othello-gpt train export d256.ckpt.safetensors --dtype f16`: 12.7 MB instead of 25 MB); that is
# the file measured. Measures: legal top-1 on 10,000 fresh synthetic games (seed 2026, never trained on; also of the
# F32 weights when the run folder has them, d256.safetensors, to show what the rounding costs), on
# Games/synthetic-10k.npy and on Games/WTH_2025.wtb (eval-*.json, committed in this folder's final/ and copied from
# there); the default `othello-gpt study` (10,000 games, 1,000 cases; study/); the curves with the milestones
# (training.png, as Figures/training.png); every measurement the README and docs/results.md quote
# (scripts/measure-model.sh, into measurements/; `--figures` then refreshes Figures/). Steps whose output is there
# are skipped, so an interrupted finish goes on where it stopped.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
run="$(realpath -m "${RUN_DIR:-/work/train-d256}")"
final32="$run/d256.safetensors"
out="$run/final"
weights="$repo/Sources/OthelloModel/Resources/shipped-model.safetensors"
tool="$repo/.build/release/othello-gpt"
mkdir -p "$out"
for file in "$here"/final/*; do [ -e "$out/$(basename "$file")" ] || cp "$file" "$out/"; done

[ -x "$tool" ] || (cd "$repo" && make build >/dev/null)
# Benchmark-like runs use the CPU's own OpenBLAS kernels, as on a fresh machine.
fast() { nice -n "${NICE:-5}" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$tool" "$@"; }
cd "$repo"
[ -f "$out/fresh-10k.npy" ] || fast games generate --count 10000 --seed 2026 --out "$out/fresh-10k.npy"
if [ ! -f "$out/eval-fresh-10k-f32.json" ] && [ -f "$final32" ]; then
  fast eval --model "$final32" --games "$out/fresh-10k.npy" --json > "$out/eval-fresh-10k-f32.json.tmp"
  mv "$out/eval-fresh-10k-f32.json.tmp" "$out/eval-fresh-10k-f32.json"
fi
[ ! -f "$out/eval-fresh-10k-f32.json" ] ||
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
fast train figure "$here/d256.jsonl" --milestones "$here/milestones.jsonl" --title "d256 (shipped)" --out "$out/training.png"
NICE="${NICE:-5}" "$repo/scripts/measure-model.sh" --model "$weights" --out "$out/measurements" "$@"
echo "measured: $out (eval-*.json, study/report.md, training.png, measurements/)"
