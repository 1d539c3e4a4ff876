# shellcheck shell=bash
# Common helpers for the real-client scripts (sourced, not run).
#
# A script sources this file, calls start_server, creates its own fresh
# collection with fresh_collection, runs its steps through step/check, and
# ends with finish. Everything it started (the server, mounts, temporary
# files) is stopped and removed on exit, also on failure or interrupt.
#
#   DAVIT_BIN   a prebuilt server binary (run-all.sh builds it once);
#               otherwise the script builds cmd/davit itself.
#   KEEP=1      keep the work folder (server log, client output) on exit.

set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
export PATH="$PATH:/usr/local/go/bin"
export LC_ALL=C.UTF-8

client=$(basename "$0" .sh)
work=$(mktemp -d "/tmp/davit-$client.XXXXXX")
passed=0
failed=0
server_pid=""
cleanups=()   # commands run on exit, last registered first

on_exit() {
  local i
  for ((i = ${#cleanups[@]} - 1; i >= 0; i--)); do eval "${cleanups[$i]}" || true; done
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  if [ "${KEEP:-0}" = 1 ] || [ "$failed" -ne 0 ]; then
    echo "$client: work folder kept: $work" >&2
  else
    rm -rf "$work"
  fi
}
trap on_exit EXIT
trap 'echo "$client: interrupted" >&2; exit 130' INT TERM

# on_cleanup CMD registers CMD to run on exit (before the server stops).
on_cleanup() { cleanups+=("$1"); }

pass() { passed=$((passed + 1)); echo "PASS $client: $1"; }
fail() {
  failed=$((failed + 1)); echo "FAIL $client: $1"
  if [ -n "${2:-}" ]; then printf '%s\n' "$2" | head -c 4000 | sed 's/^/    /'; fi
}

# step NAME CMD... runs CMD (output to $work/step.out) and passes when it
# exits 0.
step() {
  local name=$1; shift
  if "$@" >"$work/step.out" 2>&1; then pass "$name"; else fail "$name" "$(tail -n 30 "$work/step.out")"; fi
}

# check NAME EXPR... passes when the test(1) expression holds.
check() {
  local name=$1; shift
  if [ "$@" ]; then pass "$name"; else fail "$name" "expected: $*"; fi
}

# fatal REASON fails loudly and stops the script (a client that cannot run
# here is a failure, never a skip).
fatal() {
  fail "$1" "${2:-}"
  finish
}

# finish checks that the server is still up, prints the tally and exits
# non-zero on any failure.
finish() {
  if [ -n "$server_pid" ] && ! kill -0 "$server_pid" 2>/dev/null; then
    local rc=0
    wait "$server_pid" 2>/dev/null || rc=$?
    fail "the server is still running at the end" "it exited with status $rc$([ "$rc" -gt 128 ] && echo " (signal $((rc - 128)))"); last log lines:
$(tail -n 5 "$work/server.log")"
    server_pid=""
  fi
  echo "$client: $passed passed, $failed failed"
  [ "$failed" -eq 0 ] || exit 1
  exit 0
}

need() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] || [ -x "/sbin/$c" ] ||
      fatal "$c is installed" "$c not found: run scripts/deps.sh (Debian packages)"
  done
}

# build_server sets DAVIT_BIN, building the server when not given.
build_server() {
  if [ -n "${DAVIT_BIN:-}" ] && [ -x "$DAVIT_BIN" ]; then return; fi
  mkdir -p "$work/bin"
  DAVIT_BIN=$(scripts/clients/build.sh "$work/bin") || fatal "build the server" "$(cat "$work/bin/build.out")"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_server [FLAG...] starts a fresh Davit on a free loopback port, with
# its own empty root, and sets port, base (http://127.0.0.1:PORT) and root.
start_server() {
  build_server
  port=$(free_port)
  root="$work/root"
  base="http://127.0.0.1:$port"
  "$DAVIT_BIN" serve --root "$root" --listen "127.0.0.1:$port" --no-sync "$@" >"$work/server.log" 2>&1 &
  server_pid=$!
  local i
  for i in $(seq 100); do
    curl -fs -o /dev/null -X OPTIONS "$base/" && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  fatal "server starts" "$(tail -n 20 "$work/server.log")"
}

# fresh_collection sets coll (path, with slashes) and url to a new, empty
# collection of this client's own.
fresh_collection() {
  coll="/$client-$(date +%s)-$RANDOM/"
  url="$base$coll"
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -X MKCOL "$url")
  [ "$code" = 201 ] || fatal "MKCOL $coll" "status $code"
}

# sha_tree DIR prints "sha256  relative/path" for every file below DIR, sorted.
sha_tree() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum); }

# elapsed prints the seconds since the script started.
elapsed() { echo "$SECONDS"; }
