package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/davit-dav/davit/internal/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(server.Run(ctx, os.Args[1:], os.Stderr))
}
