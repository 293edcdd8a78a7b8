#!/usr/bin/env bash
# Records one milestone of the d256 run (issue #12): the checkpoint's weights are exported, `othello-gpt study
# --quick` measures them, and one line is appended to milestones.jsonl beside this script:
#
#   scripts/train-d256/milestone.sh                 # the run folder's checkpoint (/work/train-d256, RUN_DIR=...)
#   scripts/train-d256/milestone.sh CKPT            # another checkpoint
#
# A line holds the step and games seen, the study's command, legal top-1 on its 2,000 synthetic games, the best
# linear mine/theirs probe, the best linear colour and MLP colour probes, the null edit's error and the best
# single-hook probe-direction edit at the last position (and the best single-hook edit of any span). The study's
# folder (report.md, report.json, figures) is kept in the run folder under milestones/step-N.
# `othello-gpt train figure LOG --milestones milestones.jsonl` draws these against games seen.
# GAMES_OFFSET=N adds N to the games seen (a run continued from another model: the continued run of issue #28
# starts from the 3,000,064 games of this one), and CHECKPOINT_NAME names the weights (default d256).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
run="${RUN_DIR:-/work/train-d256}"
name="${CHECKPOINT_NAME:-d256}"
checkpoint="$(realpath "${1:-$run/$name.ckpt.safetensors}")"
offset="${GAMES_OFFSET:-0}"
tool="$run/othello-gpt-trainer"
[ -x "$tool" ] || tool="$repo/.build/release/othello-gpt"

mkdir -p "$run/milestones"
weights="$run/milestones/weights.safetensors"
exported="$("$tool" train export "$checkpoint" --out "$weights")"
step="$(echo "$exported" | sed -n 's/.*weights of step \([0-9]*\) (\([0-9]*\) games).*/\1/p')"
games="$(echo "$exported" | sed -n 's/.*weights of step \([0-9]*\) (\([0-9]*\) games).*/\2/p')"
games=$((games + offset))
[ -n "$step" ] || { echo "milestone: could not read the step from: $exported" >&2; exit 1; }
study="$run/milestones/step-$step"
mv "$weights" "$run/milestones/$name-step$step.safetensors"
weights="$run/milestones/$name-step$step.safetensors"

# The study runs in the repository's folder, so that it scores Games/WTH_2025.wtb too.
(cd "$repo" && nice -n "${NICE:-5}" "$tool" study --quick --fresh --model "$weights" --out "$study" >/dev/null)

jq -c --argjson step "$step" --argjson games "$games" --arg command "othello-gpt study --quick --model $name-step$step.safetensors" '
  def single: .edits.results | map(select(.method == "direction" and (.hooks | length) == 1));
  {step: $step, games: $games, command: $command,
   legal_top1: .legal.synthetic.share,
   legal_top1_wthor: (.legal.wthor.share // null),
   best_linear_relative: (.probes.rows | map(select(.kind == "linear" and .basis == "relative")) | max_by(.accuracy) | {hook, accuracy}),
   best_linear_colour: (.probes.rows | map(select(.kind == "linear" and .basis == "colour")) | max_by(.accuracy) | .accuracy),
   best_mlp_colour: (.probes.rows | map(select(.kind == "mlp" and .basis == "colour")) | max_by(.accuracy) | {hook, accuracy}),
   null_error: .edits.null_error,
   best_single_direction_edit: (single | map(select(.positions == "last")) | min_by(.error) | {label: .label, error}),
   best_single_hook_edit: (single | min_by(.error) | {label: .label, error}),
   study_seconds: (.seconds | add)}' "$study/report.json" | tee -a "$here/milestones.jsonl"
