#!/usr/bin/env bash
# build.sh DIR builds the server into DIR and prints the path of a binary
# that takes `serve --root R --listen A [flags]`. It is cmd/davit; while
# cmd/davit's serve is not in place (it answers without serving), the
# development main internal/server/devmain behind a small wrapper, with a
# note on stderr. Exits non-zero when neither builds.
set -uo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"
dir=$1
if go build -o "$dir/davit" ./cmd/davit 2>"$dir/build.out"; then
  # Does `davit serve` serve? Start it on a free port for a moment.
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$dir/davit" serve --root "$dir/probe" --listen "127.0.0.1:$port" --no-sync >"$dir/probe.log" 2>&1 &
  pid=$!
  ok=0
  for _ in $(seq 50); do
    if curl -fs -o /dev/null -X OPTIONS "http://127.0.0.1:$port/"; then ok=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  rm -rf "$dir/probe"
  if [ "$ok" = 1 ]; then echo "$dir/davit"; exit 0; fi
  echo "note: cmd/davit serve does not serve yet ($(head -c 200 "$dir/probe.log")); using internal/server/devmain" >&2
else
  echo "note: cmd/davit does not build ($(head -n 3 "$dir/build.out" | tr '\n' ' ')); using internal/server/devmain" >&2
fi
go build -o "$dir/davit-dev" ./internal/server/devmain 2>>"$dir/build.out" || { cat "$dir/build.out" >&2; exit 1; }
printf '#!/bin/sh\n[ "$1" = serve ] && shift\nexec "%s" "$@"\n' "$dir/davit-dev" >"$dir/davit"
chmod +x "$dir/davit"
echo "$dir/davit"
