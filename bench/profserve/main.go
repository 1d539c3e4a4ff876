// Command profserve is `davit serve` under the Go profiler, for the
// benchmark (scripts/bench-peers.sh with PROFILE=DIR): the same server,
// started by the same internal/server.Run, with a CPU profile taken from
// start to shutdown and allocation, mutex and blocking profiles written
// at shutdown (the last two show where requests wait rather than run,
// such as behind a lock held over an fsync). It adds nothing to the server
// itself.
//
//	profserve -cpuprofile cpu.pprof [-memprofile allocs.pprof] [-mutexprofile mutex.pprof] [-blockprofile block.pprof] serve --root DIR --listen ADDR ...
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
	mutex := flag.String("mutexprofile", "", "write a mutex contention profile to this file at shutdown")
	block := flag.String("blockprofile", "", "write a blocking profile (on average one sample per 100 µs spent waiting) to this file at shutdown")
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
	if *mutex != "" {
		runtime.SetMutexProfileFraction(10)
	}
	if *block != "" {
		runtime.SetBlockProfileRate(100_000) // ns: a wait of 100 µs or more is always sampled, a shorter one in proportion
	}
	code := davserver.Run(ctx, args[1:], os.Stderr)
	if *cpu != "" {
		pprof.StopCPUProfile()
	}
	if *mem != "" {
		runtime.GC()
	}
	for _, p := range []struct{ file, name string }{{*mem, "allocs"}, {*mutex, "mutex"}, {*block, "block"}} {
		if p.file == "" {
			continue
		}
		f, err := os.Create(p.file)
		if err == nil {
			err = pprof.Lookup(p.name).WriteTo(f, 0)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "profserve:", err)
			code = 1
		}
	}
	os.Exit(code)
}
