#!/usr/bin/env bash
# The live explorer's speed and a bounded load test on loopback (issue #27): starts `othello-gpt serve` on one core,
# times single requests (/api/run of a 59-move game, a direction edit, a 200-step gradient edit), then runs wrk
# (Debian's wrk) against /api/run and /api/edit for SECONDS with CONNECTIONS clients each, and prints requests/s,
# p50/p99 latency, errors and the server's memory before and after.
#
#   make build && scripts/bench-serve.sh                 # the shipped model, 10 s per load test, 4 connections
#   SECONDS_EACH=30 CONNECTIONS=16 MODEL=model.safetensors scripts/bench-serve.sh
#
# Measure with nothing else running (stop a trainer with kill -STOP, resume with kill -CONT).
set -euo pipefail
cd "$(dirname "$0")/.."
tool=.build/release/othello-gpt
[ -x "$tool" ] || { echo "bench-serve: build the tool first (make build)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench-serve: needs wrk (apt-get install wrk)" >&2; exit 1; }
seconds=${SECONDS_EACH:-10}
connections=${CONNECTIONS:-4}
port=${PORT:-18091}
work=$(mktemp -d)
trap 'kill -INT $server 2>/dev/null || true; rm -rf "$work"' EXIT

model_args=()
[ -n "${MODEL:-}" ] && model_args=(--model "$MODEL")
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$tool" serve "${model_args[@]}" --threads 1 --port "$port" > "$work/serve.out" 2> "$work/serve.err" &
server=$!
for _ in $(seq 1 600); do grep -q "http://" "$work/serve.out" 2>/dev/null && break; sleep 0.5; done
grep -q "http://" "$work/serve.out" || { cat "$work/serve.err" >&2; exit 1; }
url="http://127.0.0.1:$port"
rss() { awk '/VmRSS/ {print $2 " kB"}' "/proc/$server/status"; }

# A 59-move game and an edit case, from the workbench itself.
"$tool" intervene cases --count 1 --seed 4 --out "$work/case.jsonl" > /dev/null
"$tool" games generate --count 1 --seed 4 --full-length --out "$work/game.txt" > /dev/null 2>&1 || true
python3 - "$work" <<'EOF'
import json, sys
work = sys.argv[1]
case = json.loads(open(f"{work}/case.jsonl").readline())
try:
    game = open(f"{work}/game.txt").read().split()[:59]
except OSError:
    game = case["moves"]
run = {"moves": game}
direction = {"moves": case["moves"], "square": case["square"], "method": "direction", "scale": 2, "hook": "blocks.4.hook_resid_post"}
gradient = {"moves": case["moves"], "square": case["square"], "method": "gradient", "steps": 200, "stop_at": False,
            "hook": "blocks.4.hook_resid_post", "positions": "from-edit"}
for name, body in [("run", run), ("direction", direction), ("gradient", gradient)]:
    json.dump(body, open(f"{work}/{name}.json", "w"))
    open(f"{work}/{name}.lua", "w").write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                                         f"wrk.body = '{json.dumps(body)}'\n")
print(f"run: {len(game)} moves; edit: {len(case['moves'])}-move prefix, square {case['square']}")
EOF

echo "== single requests (best of 5, seconds)"
for name in run direction gradient; do
  path=/api/run; [ "$name" = run ] || path=/api/edit
  best=$(for _ in 1 2 3 4 5; do curl -s -o /dev/null -w "%{time_total}\n" "$url$path" -d @"$work/$name.json"; done | sort -n | head -1)
  echo "$name: $best"
done
echo "== load: $connections connections, $seconds s each; memory $(rss)"
for name in run direction; do
  path=/api/run; [ "$name" = run ] || path=/api/edit
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/$name.lua" "$url$path" > "$work/wrk.txt" 2>&1
  rate=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.txt"); p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
  errors=$(awk '/Non-2xx|Socket errors/ {print}' "$work/wrk.txt")
  echo "$path ($name): $rate requests/s, p50 $p50, p99 $p99, errors: ${errors:-0}; memory $(rss)"
done
