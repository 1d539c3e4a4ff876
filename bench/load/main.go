// Command load is the load tool of the side-by-side benchmark
// (scripts/bench-peers.sh): it makes the data set, runs the same
// workloads against one WebDAV server at a time and prints the table that
// compares them.
//
//	load mkdata DIR
//	load run -target NAME,127.0.0.1:PORT[,PID] [-target ...] [-duration 3s] [-workloads a,b] [-out FILE]
//	load table [-doc docs/performance.md] RESULTS.json...
//	load freeport                      (prints a free TCP port on 127.0.0.1)
//	load wait -addr 127.0.0.1:PORT     (waits until GET /small.bin answers 200)
//
// Every response's status is checked (and the number of DAV:response
// elements of every PROPFIND): a workload with any error is reported as
// FAILED, never as a figure.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "mkdata":
		if len(os.Args) != 3 {
			usage()
		}
		err = mkdata(os.Args[2])
	case "run":
		err = runCmd(os.Args[2:])
	case "table":
		err = tableCmd(os.Args[2:])
	case "freeport":
		err = freePort()
	case "wait":
		err = waitCmd(os.Args[2:])
	case "workloads":
		for _, w := range workloads {
			fmt.Printf("%-16s %s (%s)\n", w.name, w.title, w.unit)
		}
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: load mkdata DIR | load run -target NAME,HOST:PORT[,PID] [flags] | load table [-doc FILE] RESULTS.json... | load freeport | load wait -addr HOST:PORT | load workloads")
	os.Exit(2)
}

// mkdata writes the data set that every server gets a fresh copy of.
func mkdata(dir string) error {
	files := map[string][]byte{
		"small.bin": randomBytes(smallSize, 11),
		"big.bin":   randomBytes(bigSize, 12),
	}
	for name, b := range files {
		if err := writeFile(filepath.Join(dir, name), b); err != nil {
			return err
		}
	}
	entry := []byte(strings.Repeat("davit bench\n", entrySize/12+1)[:entrySize])
	for _, l := range []listing{dir100, dir10k, dir100k, dir100p, dir100l} {
		d := filepath.Join(dir, strings.Trim(l.dir, "/"))
		for i := range l.files {
			if err := writeFile(filepath.Join(d, fileName(i)), entry); err != nil {
				return err
			}
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "put"), 0o755); err != nil {
		return err
	}
	for w := range moveClient {
		if err := writeFile(filepath.Join(dir, "mv", fmt.Sprintf("c%02d-0.txt", w)), entry); err != nil {
			return err
		}
	}
	for w := range lockClient {
		if err := writeFile(filepath.Join(dir, "lk", fmt.Sprintf("c%02d.txt", w)), entry); err != nil {
			return err
		}
	}
	for w := range mixedClient {
		if err := writeFile(filepath.Join(dir, "mixed", fmt.Sprintf("c%02d.lock", w)), entry); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(name string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	return os.WriteFile(name, b, 0o644)
}

// runFile is one server's results, as `load run` writes them (a JSON
// array of them, one per target).
type runFile struct {
	Server  string   `json:"server"`
	Started string   `json:"started"`
	Results []result `json:"results"`
	// PeakRSSKiB is the server's peak resident size over the whole run
	// (VmHWM summed over its processes).
	PeakRSSKiB int64 `json:"peak_rss_kib"`
}

// target is one server under test: -target NAME,HOST:PORT[,PID[,W1+W2]].
type target struct {
	name string
	addr string
	pid  int
	only []string // workloads to run on it (empty: all selected)
	srv  *server
	run  *runFile
}

type targetList []*target

func (l *targetList) String() string { return fmt.Sprint(len(*l)) }

func (l *targetList) Set(v string) error {
	f := strings.Split(v, ",")
	if len(f) < 2 || f[0] == "" || f[1] == "" {
		return fmt.Errorf("want NAME,HOST:PORT[,PID[,W1+W2]], got %q", v)
	}
	t := &target{name: f[0], addr: f[1]}
	if len(f) > 2 && f[2] != "" {
		pid, err := strconv.Atoi(f[2])
		if err != nil {
			return fmt.Errorf("target %s: bad pid %q", f[0], f[2])
		}
		t.pid = pid
	}
	if len(f) > 3 && f[3] != "" {
		t.only = strings.Split(f[3], "+")
	}
	*l = append(*l, t)
	return nil
}

func runCmd(args []string) error {
	fl := flag.NewFlagSet("load run", flag.ExitOnError)
	var targets targetList
	fl.Var(&targets, "target", "a server: NAME,HOST:PORT[,PID[,W1+W2]] (repeat; PID: its process and session id, for memory and CPU; W: only these workloads)")
	dur := fl.Duration("duration", 3*time.Second, "measured time of each workload")
	warm := fl.Duration("warmup", 0, "warm-up before each workload (default: a fifth of -duration, at most 1s)")
	timeout := fl.Duration("timeout", 120*time.Second, "longest time for one request")
	list := fl.String("workloads", "", "comma-separated workloads (default: all; see `load workloads`)")
	slice := fl.Duration("slice", 250*time.Millisecond, "servers take turns at the load in slices this long")
	rounds := fl.Int("rounds", 1, "run every workload on every server this many times and keep each one's best")
	out := fl.String("out", "", "write the results as JSON to this file (default: stdout)")
	fl.Parse(args)
	if len(targets) == 0 {
		return fmt.Errorf("run: at least one -target is needed")
	}
	if *warm == 0 {
		*warm = min(*dur/5, time.Second)
	}
	var sel []*workload
	if *list == "" {
		for i := range workloads {
			sel = append(sel, &workloads[i])
		}
	} else {
		for _, n := range strings.Split(*list, ",") {
			w := findWorkload(strings.TrimSpace(n))
			if w == nil {
				return fmt.Errorf("run: unknown workload %q (see `load workloads`)", n)
			}
			sel = append(sel, w)
		}
	}
	started := time.Now().UTC().Format(time.RFC3339)
	for _, t := range targets {
		for _, n := range t.only {
			if findWorkload(n) == nil {
				return fmt.Errorf("run: target %s: unknown workload %q", t.name, n)
			}
		}
		t.srv = newServer(t.pid)
		t.run = &runFile{Server: t.name, Started: started}
		t.srv.peakKiB()
	}
	e := &engine{duration: *dur, warmup: *warm, slice: *slice, timeout: *timeout}
	// Workload by workload, the servers interleaved (see engine), so that
	// the figures compared with each other are taken at the same time.
	for _, w := range sel {
		var on []*target
		for _, t := range targets {
			if len(t.only) == 0 || slices.Contains(t.only, w.name) {
				on = append(on, t)
			}
		}
		if len(on) == 0 {
			continue
		}
		best := make([]result, len(on))
		for round := range max(*rounds, 1) {
			res := e.run(w, on)
			for i, r := range res {
				printResult(os.Stderr, on[i].name, w, r)
				best[i] = better(w, best[i], r, round > 0)
			}
		}
		for i, t := range on {
			t.run.Results = append(t.run.Results, best[i])
		}
	}
	var runs []runFile
	for _, t := range targets {
		t.run.PeakRSSKiB = t.srv.runPeakKiB()
		fmt.Fprintf(os.Stderr, "%-12s %-44s %10.1f MiB\n", t.name, "peak resident memory over the run", float64(t.run.PeakRSSKiB)/1024)
		runs = append(runs, *t.run)
	}
	data, err := json.MarshalIndent(runs, "", "  ")
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = os.Stdout.Write(append(data, '\n'))
		return err
	}
	return os.WriteFile(*out, append(data, '\n'), 0o644)
}

// better merges two rounds of a workload on one server: a failure in any
// round fails it; otherwise the better figure stands, with its peak memory
// the higher of the two.
func better(w *workload, a, b result, seen bool) result {
	if !seen {
		return b
	}
	if !a.OK || !b.OK {
		f := a // the failure; a real one before a lack of support
		if a.OK || (a.Unsupported != "" && !b.OK && b.Unsupported == "") {
			f = b
		}
		f.OK, f.Errors = false, a.Errors+b.Errors
		return f
	}
	peak := max(a.PeakRSSKiB, b.PeakRSSKiB)
	r := a
	if (w.higher && b.Value > a.Value) || (!w.higher && b.Value < a.Value) {
		r = b
	}
	r.PeakRSSKiB = peak
	return r
}

func printResult(w io.Writer, server string, wl *workload, r result) {
	if r.Unsupported != "" {
		fmt.Fprintf(w, "%-12s %-44s NOT SUPPORTED: %s\n", server, wl.title, r.Unsupported)
		return
	}
	if !r.OK {
		fmt.Fprintf(w, "%-12s %-44s FAILED: %d errors; first: %s\n", server, wl.title, r.Errors, r.Err)
		return
	}
	fmt.Fprintf(w, "%-12s %-44s %10s %-5s", server, wl.title, formatValue(r.Value, wl.unit), wl.unit)
	if r.BytesPerEntry > 0 {
		fmt.Fprintf(w, "  %5.0f B/entry", r.BytesPerEntry)
	}
	if r.BodyBytes > 0 {
		fmt.Fprintf(w, "  %.2f MB", float64(r.BodyBytes)/1e6)
	}
	fmt.Fprintf(w, "  [n=%d, peak %.1f MiB, cpu client %.0f%% server %.0f%%",
		r.Requests, float64(r.PeakRSSKiB)/1024, 100*r.ClientCPU, 100*r.ServerCPU)
	if r.LatP50 > 0 {
		fmt.Fprintf(w, ", p50 %s p99 %s", formatLatency(r.LatP50), formatLatency(r.LatP99))
	}
	fmt.Fprintln(w, "]")
}

// formatLatency writes seconds as µs below a millisecond, ms above.
func formatLatency(s float64) string {
	if s < 1e-3 {
		return fmt.Sprintf("%.0f µs", s*1e6)
	}
	return fmt.Sprintf("%.2f ms", s*1e3)
}

// freePort prints a TCP port that is free on 127.0.0.1 right now.
func freePort() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	return nil
}

// waitCmd waits until the server answers GET /small.bin with a 200.
func waitCmd(args []string) error {
	fl := flag.NewFlagSet("load wait", flag.ExitOnError)
	addr := fl.String("addr", "", "server address, host:port")
	timeout := fl.Duration("timeout", 30*time.Second, "how long to wait")
	fl.Parse(args)
	deadline := time.Now().Add(*timeout)
	req := &request{method: "GET", path: "/small.bin"}
	var last error
	for time.Now().Before(deadline) {
		c := newConn(*addr, time.Second)
		var resp response
		err := c.do(req, &resp)
		c.close()
		if err == nil && resp.status == 200 {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("GET /small.bin: status %d", resp.status)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("wait %s: not ready after %s: %v", *addr, *timeout, last)
}
