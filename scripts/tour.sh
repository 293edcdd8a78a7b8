#!/usr/bin/env bash
# A short tour of the workbench's commands on the shipped model (`make tour`).
# Everything it writes goes to tour-output/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release/othello-gpt
out=tour-output
mkdir -p "$out"

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

step "Rules engine: perft from the start position (pass = one ply)" $bin perft 8
step "Synthetic games: Li et al.'s uniformly random legal games, seeded" \
    $bin games generate --count 2000 --seed 7 --full-length --out "$out/games.npy"
step "Championship games: the 2025 WTHOR file, replayed and converted" \
    $bin games import Games/WTH_2025.wtb --out "$out/wthor-2025.npy"
step "The shipped model's next-move predictions for a championship game" \
    $bin run --games "$out/wthor-2025.npy" --game 0 --top 3
step "Legal-move top-1 rate of the shipped model on synthetic games (Li et al.'s metric)" \
    $bin eval --games "$out/games.npy"
step "... and on the 2,010 championship games of 2025" \
    $bin eval --games "$out/wthor-2025.npy"
step "Activation cache: the residual stream after every layer, as NumPy files" \
    $bin cache --games "$out/games.npy" --limit 200 --hooks 'blocks.*.hook_resid_post' --out "$out/cache"
step "A figure: the position after 30 moves of the first championship game" \
    $bin figure board --games "$out/wthor-2025.npy" --game 0 --moves 30 --out "$out/board.png"
step "Probes: is the board linear in black/white? (Li et al.) ..." \
    $bin probe train --layer 4 --kind linear --basis colour --count 1500 --out "$out/colour-L4.safetensors"
step "... or in mine/theirs, relative to the player who moves next? (Nanda)" \
    $bin probe train --layer 4 --kind linear --basis relative --count 1500 --out "$out/relative-L4.safetensors"
step "Interventions: flip a square along the probe's mine - theirs direction, score the legal moves (Li et al.)" \
    $bin intervene eval --count 300 --probe "$out/relative-L4.safetensors" --hook blocks.4.hook_resid_post --scale 2
printf '\nDone: outputs are in %s/\n' "$out"
