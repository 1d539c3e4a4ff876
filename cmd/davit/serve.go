package main

import (
	"context"
	"fmt"
	"os"
)

// runServe runs "davit serve". This placeholder is replaced by the
// server's own serve.go.
func runServe(ctx context.Context, args []string) int {
	fmt.Fprintln(os.Stderr, "davit serve: not yet")
	return 2
}
