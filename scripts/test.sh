#!/usr/bin/env bash
# The one test command (README, .ci/run and developers): installs what the
# suites need, checks formatting and vet, runs every Go test with the race
# detector, then the conformance and real-client suites. Any failure fails
# the run; nothing is skipped in silence.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"
scripts/deps.sh
echo "== gofmt, go vet"
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$bad" ]; then echo "gofmt would change: $bad" >&2; exit 1; fi
go vet ./...
# Davit runs beyond Linux (the portable os.Root code paths): every package
# must build and vet for the other systems too.
for os in windows darwin freebsd; do
  echo "== go vet, GOOS=$os"
  GOOS=$os go vet ./...
done
echo "== go test -race"
go test -race -count=1 ./...
# Listing on Linux calls into C when cgo is on (internal/storage,
# statmany_cgo.go); the build without cgo must vet and pass as well.
echo "== go vet and storage tests, CGO_ENABLED=0"
CGO_ENABLED=0 go vet ./...
CGO_ENABLED=0 go test -count=1 ./internal/storage/...
echo "== litmus"
scripts/litmus.sh
echo "== real clients"; scripts/clients/run-all.sh
