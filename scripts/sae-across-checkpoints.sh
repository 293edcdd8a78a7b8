#!/usr/bin/env bash
# Is the model the limit of the SAEs' board metrics (issue #29)? For each weights file given, this trains the same
# SAE (TopK k 32, 2,048 features, 4M positions at blocks.5.hook_resid_post, the sweep's recipe), trains the linear
# relative probe at that hook, writes the probe as a dictionary (`sae dictionary`), and scores both on the same
# 500 fresh games; one JSON line per model goes to OUT/checkpoints.jsonl (the games seen are read from the file
# name's suffix -gN, e.g. d256-g522496.safetensors).
#
#   scripts/sae-across-checkpoints.sh OUT MODEL-gN.safetensors …
#
# The checkpoints of the d256 run are in the repository's history (`git show 8ae5760:scripts/train-d256/d256.ckpt.safetensors`,
# then `othello-gpt train export`); docs/results.md lists the commits. Each model takes ≈ 10 min on 2 cores.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tool="${TOOL:-$repo/.build/release/othello-gpt}"
out="${1:?usage: scripts/sae-across-checkpoints.sh OUT MODEL-gN.safetensors …}"
shift
mkdir -p "$out"
for model in "$@"; do
  name="$(basename "$model" .safetensors)"
  games="${name##*-g}"
  [[ "$games" =~ ^[0-9]+$ ]] || { echo "sae-across-checkpoints: $model: name it NAME-gN.safetensors, N the games it has seen (e.g. d256-g522496.safetensors)" >&2; exit 1; }
  [ -f "$model" ] || { echo "sae-across-checkpoints: $model: no such file" >&2; exit 1; }
  dir="$out/$name"
  mkdir -p "$dir"
  grep -q "\"model\":\"$name\"" "$out/checkpoints.jsonl" 2>/dev/null && continue
  echo "$name: probe, dictionary, then the SAE (≈ 10 min; the sweep's log in $dir/sweep.err)" >&2
  "$tool" probe train --model "$model" --layer 5 --kind linear --basis relative --count 2000 --no-control --json \
    --out "$dir/relative-L5.safetensors" > "$dir/probe.json"
  "$tool" sae dictionary --probe "$dir/relative-L5.safetensors" --out "$dir/dictionary.safetensors" >/dev/null
  "$tool" sae eval --model "$model" --sae "$dir/dictionary.safetensors" --count 500 --json > "$dir/dictionary.json"
  "$tool" sae sweep --model "$model" --kind topk --k 32 --positions 4000000 --eval-games 500 --no-control \
    --out "$dir/sweep" 2> "$dir/sweep.err" >/dev/null
  jq -c -n --arg model "$name" --argjson games "$games" \
    --slurpfile probe "$dir/probe.json" --slurpfile dictionary "$dir/dictionary.json" --slurpfile sweep "$dir/sweep/results.json" '
    def board: {coverage, reconstruction_f1, reconstruction_f1_mine_theirs, legal_coverage: .coverage_by_property.legal};
    {model: $model, games: $games, probe_accuracy: $probe[0].accuracy,
     dictionary: ($dictionary[0] | board),
     sae: ($sweep[0][0].numbers | board + {explained_variance, l0, loss_recovered})}' | tee -a "$out/checkpoints.jsonl"
done
