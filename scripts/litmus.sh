#!/usr/bin/env bash
# Runs every litmus suite (basic, copymove, props, locks, http) against a
# freshly started Davit on 127.0.0.1 and fails on any failure or warning.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v litmus >/dev/null || { echo "litmus: not installed (run scripts/deps.sh)" >&2; exit 1; }
work=$(mktemp -d)
bin="$work/davit"
go build -o "$bin" ./cmd/davit
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --root "$work/data" --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -fs -o /dev/null -X OPTIONS "http://127.0.0.1:$port/" && break; sleep 0.1; done
out="$work/litmus.out"
(cd "$work" && litmus "http://127.0.0.1:$port/") >"$out" 2>&1 || true
grep -E '^<- summary' "$out"
passed=$(grep -Eo 'of [0-9]+ tests run: [0-9]+ passed' "$out" | awk '{s+=$5} END {print s+0}')
total=$(grep -Eo 'of [0-9]+ tests run' "$out" | awk '{s+=$2} END {print s+0}')
warnings=$(grep -ci 'warning' "$out" || true)
failed=$((total - passed))
echo "litmus: $passed passed, $failed failed, $warnings warnings"
if [ "$total" -lt 104 ] || [ "$failed" -ne 0 ] || [ "$warnings" -ne 0 ]; then
  cat "$out" >&2
  echo "litmus: FAILED (expected 104 of 104, no warning)" >&2
  exit 1
fi
