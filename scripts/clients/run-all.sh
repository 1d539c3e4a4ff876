#!/usr/bin/env bash
# Runs every real-client script (curl, cadaver, davfs2, rclone), each
# against its own freshly started Davit, and fails when any step of any
# client fails. The server is built once and shared by the scripts.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
export PATH="$PATH:/usr/local/go/bin"
clients=(curl cadaver davfs2 rclone)
[ $# -gt 0 ] && clients=("$@")

bindir=$(mktemp -d /tmp/davit-clients.XXXXXX)
trap 'rm -rf "$bindir"' EXIT
DAVIT_BIN=$(scripts/clients/build.sh "$bindir") || { echo "real clients: the server does not build" >&2; exit 1; }
export DAVIT_BIN

start=$SECONDS
bad=()
summary=()
for c in "${clients[@]}"; do
  t0=$SECONDS
  echo "-- $c"
  if "scripts/clients/$c.sh"; then r=ok; else r=FAILED; bad+=("$c"); fi
  summary+=("$(printf '%-8s %-6s %4d s' "$c" "$r" $((SECONDS - t0)))")
done
echo "-- real clients, $((SECONDS - start)) s:"
printf '   %s\n' "${summary[@]}"
if [ ${#bad[@]} -gt 0 ]; then
  echo "real clients: FAILED: ${bad[*]}" >&2
  exit 1
fi
