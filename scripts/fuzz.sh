#!/usr/bin/env bash
# Runs every fuzz target in the repository, one at a time, each for
# FUZZTIME (default 60s). Targets are found with `go test -list` in every
# package whose *_test.go files declare a func Fuzz...; the first failure
# stops the run with a non-zero exit status.
#
#   scripts/fuzz.sh                 # all targets, 60s each
#   FUZZTIME=10m scripts/fuzz.sh    # longer
#   FUZZTIME=500x scripts/fuzz.sh   # a fixed number of executions
set -euo pipefail

FUZZTIME="${FUZZTIME:-60s}"
GO="${GO:-go}"

cd "$(dirname "$0")/.."

fail() {
	echo "fuzz.sh: FAIL: $*" >&2
	exit 1
}

# Packages (as ./dir) whose test files declare a fuzz target.
mapfile -t dirs < <(grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . |
	grep -v '/testdata/' | xargs -r -n1 dirname | sort -u)
[ "${#dirs[@]}" -gt 0 ] || fail "no fuzz targets found"

total=0
for dir in "${dirs[@]}"; do
	pkg="./${dir#./}"
	list="$("$GO" test -list '^Fuzz' "$pkg")" || fail "go test -list in $pkg"
	mapfile -t targets < <(printf '%s\n' "$list" | grep -E '^Fuzz[A-Za-z0-9_]*$' || true)
	for target in "${targets[@]}"; do
		echo "==> $pkg $target (fuzztime $FUZZTIME)"
		if ! "$GO" test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" "$pkg"; then
			fail "$pkg $target (a failing input, if any, is in $dir/testdata/fuzz/$target)"
		fi
		total=$((total + 1))
	done
done
[ "$total" -gt 0 ] || fail "go test -list found no fuzz targets"
echo "fuzz.sh: $total fuzz targets passed, $FUZZTIME each"
