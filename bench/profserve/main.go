// Command profserve is `davit serve` under the Go profiler, for the
// benchmark (scripts/bench-peers.sh with PROFILE=DIR): the same server,
// started by the same internal/server.Run, with a CPU profile taken from
// start to shutdown and an allocation profile written at shutdown. It
// adds nothing to the server itself.
//
//	profserve -cpuprofile cpu.pprof [-memprofile allocs.pprof] serve --root DIR --listen ADDR ...
//	go tool pprof -top cpu.pprof
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"

	davserver "github.com/davit-dav/davit/internal/server"
)

func main() {
	cpu := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	mem := flag.String("memprofile", "", "write an allocation profile (allocs) to this file at shutdown")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 || args[0] != "serve" {
		fmt.Fprintln(os.Stderr, "usage: profserve [-cpuprofile FILE] [-memprofile FILE] serve [davit serve flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *cpu != "" {
		f, err := os.Create(*cpu)
		if err != nil {
			fmt.Fprintln(os.Stderr, "profserve:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "profserve:", err)
			os.Exit(1)
		}
	}
	code := davserver.Run(ctx, args[1:], os.Stderr)
	if *cpu != "" {
		pprof.StopCPUProfile()
	}
	if *mem != "" {
		runtime.GC()
		if f, err := os.Create(*mem); err == nil {
			pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	os.Exit(code)
}
