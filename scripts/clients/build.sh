#!/usr/bin/env bash
# build.sh DIR builds cmd/davit into DIR and prints the binary's path; the
# build's output is in DIR/build.out when it fails (exit status 1).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
export PATH="$PATH:/usr/local/go/bin"
go build -o "$1/davit" ./cmd/davit >"$1/build.out" 2>&1 || { cat "$1/build.out" >&2; exit 1; }
echo "$1/davit"
