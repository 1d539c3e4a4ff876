package main

import (
	"context"
	"fmt"
	"os"

	davserver "github.com/davit-dav/davit/internal/server"
)

// runServe runs "davit serve": the server on a folder with its embedded
// state store, or as a configuration file describes.
func runServe(ctx context.Context, args []string) int {
	return davserver.Run(ctx, args, os.Stderr)
}

// runConfig runs "davit config check FILE": validate a configuration and
// print the effective one.
func runConfig(args []string) int {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(os.Stderr, "usage: davit config check FILE")
		return exitUsage
	}
	return davserver.RunConfigCheck(args[1:], os.Stdout, os.Stderr)
}
