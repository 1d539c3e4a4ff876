#!/usr/bin/env bash
# The one test command (README, .ci/run and developers): installs what the
# suites need, checks formatting and vet, runs every Go test with the race
# detector, then the conformance and real-client suites. Any failure fails
# the run; nothing is skipped in silence.
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$PATH:/usr/local/go/bin:$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"
export PATH
scripts/deps.sh
echo "== gofmt, go vet"
mapfile -t gofiles < <(git ls-files '*.go' 2>/dev/null || find . -name '*.go')
bad=$(gofmt -l "${gofiles[@]}")
if [ -n "$bad" ]; then echo "gofmt would change: $bad" >&2; exit 1; fi
go vet ./...
# The shell scripts (this one, the suites', the benchmark's, CI's), with
# the files they source; warnings and errors fail the run.
echo "== shellcheck"
shellcheck -x -S warning scripts/*.sh scripts/clients/*.sh .ci/run
# Davit runs beyond Linux (the portable os.Root code paths): every package
# must build and vet for the other systems too.
for os in windows darwin freebsd; do
  echo "== go vet, GOOS=$os"
  GOOS=$os go vet ./...
done
# staticcheck (../shared/DESIGN.md: the code is staticcheck clean), from the
# Go module proxy at a pinned version, on every build the tree has. The
# module's own version (v0.8.2 is release 2026.2.2): the proxy serves a
# release name only while it can reach the origin, a module version always.
sc_module=v0.8.2
if ! staticcheck -version 2>/dev/null | grep -q "(${sc_module#v})\$"; then
  echo "== installing staticcheck $sc_module"
  GOFLAGS='' go install "honnef.co/go/tools/cmd/staticcheck@$sc_module" ||
    { echo "test: cannot install staticcheck $sc_module" >&2; exit 1; }
fi
for build in "" CGO_ENABLED=0 GOOS=windows GOOS=darwin GOOS=freebsd; do
  echo "== staticcheck ${build:-(linux, cgo)}"
  env $build staticcheck ./...
done
echo "== go test -race"
go test -race -count=1 ./...
# The benchmark's own modules (bench/xnet, the x/net/webdav peer;
# bench/evfloor, the reference without net/http): kept apart so that the
# server's module never depends on what they build on.
for m in bench/xnet bench/evfloor; do
  echo "== $m: vet, staticcheck, test"
  (cd "$m" && go vet ./... && staticcheck ./... && go test -race -count=1 ./...)
done
# Every benchmark once: each checks what it measures (an answer's status,
# an encoding, the locks a lookup finds) before timing it, and those checks
# must run somewhere. Only correctness decides here, never a time.
echo "== benchmarks, once each"
go test -run='^$' -bench=. -benchtime=1x -count=1 ./...
# Listing on Linux calls into C when cgo is on (internal/storage,
# statmany_cgo.go); the build without cgo must vet and pass as well.
echo "== go vet and storage tests, CGO_ENABLED=0"
CGO_ENABLED=0 go vet ./...
CGO_ENABLED=0 go test -count=1 ./internal/storage/...
echo "== litmus"
scripts/litmus.sh
echo "== real clients"; scripts/clients/run-all.sh
