#!/usr/bin/env bash
# The main job (`make demo`): the whole world-model study of the shipped model, in its short setting.
# Writes study/report.md (open it: the figures are embedded), study/report.json and study/figures/.
# Options after `--` go to the study, e.g. `make demo ARGS="--model synthetic_model.pth"`.
set -euo pipefail
cd "$(dirname "$0")/.."
.build/release/othello-gpt study --quick --fresh --out study "$@"
printf '\nThe report: study/report.md\n'
