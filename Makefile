# The README's commands. `make test` is what CI runs (.ci/run).
.PHONY: run test fuzz bench

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
