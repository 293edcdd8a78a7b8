#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer and AddressSanitizer and runs each for a while (issue #15).
#
#   scripts/fuzz/run.sh                       # every target, 60 s each
#   scripts/fuzz/run.sh --seconds 3           # CI: each target briefly, so the targets build and the seeds pass
#   scripts/fuzz/run.sh --seconds 3600 pickle pth     # long runs of some targets
#   scripts/fuzz/run.sh --seconds 3600 --runs 10000000    # each target to 10 million executions or an hour
#   make fuzz SECONDS=600 TARGETS="npy pgn" RUNS=…
#
# Each target starts from its committed seeds (scripts/fuzz/seeds/NAME) and keeps what it finds in an ignored corpus
# (scripts/fuzz/corpus/NAME), so later runs go on from there; dictionaries are scripts/fuzz/dict/NAME.dict. A finding
# stops the run and is written to scripts/fuzz/findings/NAME/ (crash-…, timeout-…, oom-…); reproduce it with
#   scripts/fuzz/OthelloFuzz/.build/release/othello-fuzz --target=NAME FILE
# (FUZZ_VERBOSE=1 prints the error each input gets). Each run's executions and coverage (libFuzzer's final stats) are
# gathered in scripts/fuzz/findings/summary.txt; FUZZ_SUMMARY=FILE gathers them there instead (two runs side by side,
# each with its own list of targets; a relative path is from the folder the script is run in).
set -euo pipefail
self="$(realpath "$0")"
summary_file=""
[ -z "${FUZZ_SUMMARY:-}" ] || summary_file=$(realpath -m "$FUZZ_SUMMARY")
cd "$(dirname "$0")"
here=$(pwd)

seconds=60
runs=()
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --seconds=*) seconds="${1#--seconds=}"; shift ;;
    --runs) runs=("-runs=$2"); shift 2 ;;
    --runs=*) runs=("-runs=${1#--runs=}"); shift ;;
    -h|--help) sed -n '2,16p' "$self"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done

# FUZZ_LOCK=FILE holds the lock FILE (flock) around the build and around each target's run: on a machine shared with
# other builds, one at a time.
locked() { if [ -n "${FUZZ_LOCK:-}" ]; then flock "$FUZZ_LOCK" "$@"; else "$@"; fi; }

# The linker's warnings about the sanitizer's local symbols are noise.
locked swift build --package-path OthelloFuzz -c release -Xswiftc -sanitize=fuzzer,address 2>&1 \
  | { grep -v "ld.gold: warning: Cannot export local symbol" || true; }
fuzzer="$here/OthelloFuzz/.build/release/othello-fuzz"
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <("$fuzzer" --list)

# Swift's backtracer would hold up every finding for half a minute; libFuzzer reports them itself.
export SWIFT_BACKTRACE=enable=no
mkdir -p findings
summary=${summary_file:-findings/summary.txt}
: > "$summary"
failed=()
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target" "findings/$target"
  seeds=()
  [ -d "seeds/$target" ] && seeds=("seeds/$target")
  dict=()
  [ -f "dict/$target.dict" ] && dict=("-dict=dict/$target.dict")
  log="findings/$target/fuzz.log"
  echo "== $target: ${seconds}s"
  # -timeout: an input that takes 10 s is a hang; -rss_limit_mb bounds the process (the allocation check in
  # Fuzz.swift bounds each input much more tightly).
  if locked "$fuzzer" --target="$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
       -artifact_prefix="findings/$target/" "${runs[@]}" "${dict[@]}" "corpus/$target" "${seeds[@]}" > "$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$target")
  fi
  executed=$(grep -o '^stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
  cov=$(echo "$done_line" | grep -o 'cov: [0-9]*' || true)
  ft=$(echo "$done_line" | grep -o 'ft: [0-9]*' || true)
  corp=$(echo "$done_line" | grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' || true)
  took=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | grep -o 'in [0-9]*' | grep -o '[0-9]*' || echo "?")
  line="$target: $status, $executed runs in ${took}s, $cov $ft $corp"
  echo "$line" | tee -a "$summary"
  if [ "$status" = FAILED ]; then
    grep -E "ERROR|Fatal error|SUMMARY|Test unit written|==[0-9]+==" "$log" | head -8 | tee -a "$summary"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]}; see scripts/fuzz/findings/" >&2
  exit 1
fi
