#!/usr/bin/env bash
# Every measurement the README and docs/results.md quote for the shipped model, rerun on a model, into one folder —
# the commands of their sections, with their sizes:
#
#   scripts/measure-model.sh                          # the shipped model, into measurements/
#   scripts/measure-model.sh --model M.safetensors --out DIR
#   scripts/measure-model.sh --figures                # then copy the figures the README and docs/ show into Figures/
#
# Steps (each writes DIR/NAME.txt, its command's output, and its folder or file, and its seconds to DIR/seconds.txt;
# a step whose NAME.txt is there is skipped, so an interrupted run goes on where it stopped; delete NAME.txt to
# redo one):
#   quick-study       othello-gpt study --quick (make demo)                       the README's front figures
#   probe-sweep       probe sweep --count 5000                                    docs/results.md, Probes
#   intervene-sweep   intervene sweep on 1,000 drawn cases (seed 1)               docs/results.md, Interventions
#   intervene-show    what the best single-hook direction edit changes, averaged over 300 cases, and case 3
#   edit-empty, edit-mine, edit-theirs   1,000 cases of each other edit at that hook (scales 1, 2, 4) and by
#                     gradient edits from layer 4 on
#   heads-circuit, heads-scores, heads-ablate   docs/results.md, Features
#   sae-topk, sae-relu   SAE training with controls at blocks.5.hook_resid_post (4M positions), then sae eval
#   sae-features      the TopK SAE's features
#   intervene-mlp     the sweep's gradient edits with MLP probes, 300 cases
# Takes about 1.5 h for a d128 model on 2 cores, twice that for d256. Commands run with the CPU's own OpenBLAS
# kernels (OPENBLAS_CORETYPE unset for them alone), at nice 5 (NICE=...).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
model=""
out="measurements"
figures=false
while [ $# -gt 0 ]; do
  case "$1" in
    --model|--out) [ $# -ge 2 ] || { echo "measure-model: $1 needs a value (see --help)" >&2; exit 2; } ;;&
    --model) [ -f "$2" ] || { echo "measure-model: --model $2: no such file" >&2; exit 2; }
             model="$(realpath "$2")"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --figures) figures=true; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "measure-model: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
out="$(realpath -m "$out")"
tool="$repo/.build/release/othello-gpt"
[ -x "$tool" ] || (cd "$repo" && make build >/dev/null)
mkdir -p "$out"
cd "$repo"    # so that the study finds Games/WTH_2025.wtb
modelArgs=()
[ -z "$model" ] || modelArgs=(--model "$model")

fast() { nice -n "${NICE:-5}" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$tool" "$@"; }
# step NAME COMMAND...: runs `othello-gpt COMMAND...` once, its standard output into NAME.txt (written at the end).
step() {
  local name="$1"; shift
  if [ -f "$out/$name.txt" ]; then echo "$name: done ($out/$name.txt)"; return; fi
  echo "$name: othello-gpt $*" >&2
  local started=$SECONDS
  fast "$@" > "$out/$name.txt.tmp"
  mv "$out/$name.txt.tmp" "$out/$name.txt"
  echo "$name $((SECONDS - started))" >> "$out/seconds.txt"
}

step quick-study study --quick --fresh "${modelArgs[@]}" --out "$out/quick-study"
step probe-sweep probe sweep "${modelArgs[@]}" --count 5000 --out "$out/probe-sweep"

[ -f "$out/cases.jsonl" ] || fast intervene cases --count 1000 --seed 1 --out "$out/cases.jsonl" >/dev/null
head -300 "$out/cases.jsonl" > "$out/cases-300.jsonl"
step intervene-sweep intervene sweep "${modelArgs[@]}" --cases "$out/cases.jsonl" --out "$out/intervene-sweep"
# The best single-hook direction edit at the last position, as the sweep found it.
best="$(jq -r '.results | map(select(.method == "direction" and (.hooks | length) == 1 and .positions == "last"))
               | min_by(.error) | "\(.hooks[0]) \(.scale)"' "$out/intervene-sweep/intervene-sweep.json")"
hook="${best% *}"; scale="${best#* }"
echo "best single-hook direction edit: $hook ×$scale" >&2
step intervene-show intervene show "${modelArgs[@]}" --cases "$out/cases-300.jsonl" --hook "$hook" --scale "$scale" \
  --out "$out/intervene-show-average"
step intervene-show-case3 intervene show "${modelArgs[@]}" --cases "$out/cases.jsonl" --case 3 --hook "$hook" \
  --scale "$scale" --out "$out/intervene-show-case3"
last=$(( $(jq '.model_shape.layers' "$out/quick-study/report.json") - 1 ))
for edit in empty mine theirs; do
  cases="$out/cases-$edit.jsonl"
  [ -f "$cases" ] || fast intervene cases --count 1000 --seed 1 --edit "$edit" --out "$cases" >/dev/null
  for s in 1 2 4; do
    step "edit-$edit-x$s" intervene eval "${modelArgs[@]}" --cases "$cases" --hook "$hook" --scale "$s" --json
  done
  step "edit-$edit-gradient" intervene eval "${modelArgs[@]}" --cases "$cases" --method gradient --layers "4-$last" --json
done

step heads-circuit heads circuit "${modelArgs[@]}" --count 300 --out "$out/circuit"
step heads-scores heads scores "${modelArgs[@]}" --count 200 --out "$out/head-scores"
step heads-ablate heads ablate "${modelArgs[@]}" --count 100 --mean --out "$out/head-ablation"

for kind in topk relu; do
  if [ "$kind" = topk ]; then recipe=(--kind topk --k 32); else recipe=(--kind relu --l1 1); fi
  step "sae-$kind-train" sae train "${modelArgs[@]}" --hook blocks.5.hook_resid_post "${recipe[@]}" --features 2048 \
    --positions 4000000 --lr 1e-3 --control --out "$out/L5-$kind.safetensors"
  step "sae-$kind" sae eval "${modelArgs[@]}" --sae "$out/L5-$kind.safetensors" \
    --control "$out/L5-$kind-control.safetensors" --count 1000 --json
done
step sae-features sae features "${modelArgs[@]}" --sae "$out/L5-topk.safetensors" --out "$out/sae-features"

# The slowest last: gradient edits with MLP probes.
step intervene-mlp intervene sweep "${modelArgs[@]}" --cases "$out/cases-300.jsonl" --gradient-probe mlp \
  --out "$out/intervene-mlp"
echo "measured: $out"

if $figures; then
  copy() { cp "$out/$1" "$repo/Figures/$2"; echo "Figures/$2 ← $1"; }
  copy quick-study/figures/accuracy-by-layer.png study-accuracy-by-layer.png
  copy quick-study/figures/intervene-sweep.png study-intervene-sweep.png
  copy quick-study/figures/example-case/boards.png study-example-case.png
  copy probe-sweep/accuracy-by-layer.png probe-accuracy-by-layer.png
  copy probe-sweep/directions.png probe-directions.png
  copy probe-sweep/per-square.png probe-per-square.png
  copy intervene-sweep/intervene-sweep.png intervene-sweep.png
  copy intervene-show-case3/boards.png intervene-show-boards.png
  copy sae-features/correlations.png sae-topk-correlations.png
fi
