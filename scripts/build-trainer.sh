#!/usr/bin/env bash
# Builds the tool in release mode and copies it to FILE, the binary a long training run uses (so that later
# builds do not change the program a run is using). The copy is renamed into place, so a run still using the old
# binary keeps it.
#
#   scripts/build-trainer.sh FILE
#   BUILD_LOCK=/tmp/othello-build.lock scripts/build-trainer.sh FILE   # build while holding that lock
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
target="${1:?usage: scripts/build-trainer.sh FILE}"
# BUILD_LOCK=FILE: build while holding that lock (flock -o, so the trainer started afterwards does not inherit it).
if [ -n "${BUILD_LOCK:-}" ]; then
  (cd "$repo" && flock -o "$BUILD_LOCK" make build >/dev/null)
else
  (cd "$repo" && make build >/dev/null)
fi
cp "$repo/.build/release/othello-gpt" "$target.tmp"
mv "$target.tmp" "$target"
