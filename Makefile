# The README's commands. `make test` is what CI runs (.ci/run).
.PHONY: run test fuzz bench bench-peers pgo

run:
	go run ./cmd/davit serve

test:
	scripts/test.sh

fuzz:
	scripts/fuzz.sh

bench:
	go test -run='^$$' -bench=. -benchmem ./...

# Side-by-side benchmark against the peer servers (docs/performance.md).
bench-peers:
	scripts/bench-peers.sh

# Refresh the profile the davit binary is built with (profile-guided
# optimization: `go build` reads cmd/davit/default.pgo): the server under
# the profiler through the benchmark's workloads, CPU profile kept.
pgo:
	rm -rf .pgo && mkdir -p .pgo
	PROFILE=$(CURDIR)/.pgo SERVERS=davit WORKLOADS=get4k,pf0-all,pf0-named,pf1-100-all,pf1-100-named,pf1-10k-all,pf1-10k-named,put1m,mixed DOC= scripts/bench-peers.sh
	cp .pgo/davit.cpu.pprof cmd/davit/default.pgo
	rm -rf .pgo
