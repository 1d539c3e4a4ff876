package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The section of the doc that `load table -doc` rewrites.
const (
	docBegin = "<!-- bench-peers:begin (written by scripts/bench-peers.sh; do not edit by hand) -->"
	docEnd   = "<!-- bench-peers:end -->"
)

// The Davit columns (davit-base is another build, to compare two builds
// within one run) and the two references, net/http (bench/floor) and a Go
// server without net/http (bench/evfloor); every other server is a peer.
const (
	davit       = "davit"
	davitNoSync = "davit-nosync"
	davitBase   = "davit-base"
	floor       = "floor"
	evfloor     = "evfloor"
)

func isPeer(server string) bool {
	return server != davit && server != davitNoSync && server != davitBase && server != floor && server != evfloor
}

// references are the columns the table sets beside Davit and the best
// peer, with what each is.
var references = []struct{ name, what string }{
	{floor, "net/http on Davit's connection layer answering from memory"},
	{evfloor, "a Go event loop without net/http doing only Davit's system calls"},
}

func tableCmd(args []string) error {
	fl := flag.NewFlagSet("load table", flag.ExitOnError)
	doc := fl.String("doc", "", "also write the table into this markdown file, between the bench-peers markers")
	note := fl.String("note", "", "a line about the run (duration, machine) printed above the table")
	fl.Parse(args)
	var runs []runFile
	for _, name := range fl.Args() {
		data, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		var rfs []runFile
		if err := json.Unmarshal(data, &rfs); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		runs = append(runs, rfs...)
	}
	if len(runs) == 0 {
		return fmt.Errorf("table: no result files")
	}
	t := newTable(runs)
	var sb strings.Builder
	if *note != "" {
		fmt.Fprintf(&sb, "%s\n\n", *note)
	}
	t.write(&sb)
	fmt.Print(sb.String())
	if *doc != "" {
		return writeDoc(*doc, sb.String())
	}
	return nil
}

// writeDoc replaces the marked section of the markdown file (appending it
// when the markers are missing).
func writeDoc(name, section string) error {
	old, err := os.ReadFile(name)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	body := docBegin + "\n" + section + docEnd + "\n"
	s := string(old)
	i, j := strings.Index(s, docBegin), strings.Index(s, docEnd)
	if i >= 0 && j > i {
		s = s[:i] + body + strings.TrimPrefix(s[j+len(docEnd):], "\n")
	} else {
		if s != "" && !strings.HasSuffix(s, "\n\n") {
			s += "\n"
		}
		s += body
	}
	return os.WriteFile(name, []byte(s), 0o644)
}

type table struct {
	runs    []runFile
	servers []string
	byName  map[string]map[string]result // server -> workload -> result
}

func newTable(runs []runFile) *table {
	t := &table{runs: runs, byName: map[string]map[string]result{}}
	for _, rf := range runs {
		t.servers = append(t.servers, rf.Server)
		m := map[string]result{}
		for _, r := range rf.Results {
			m[r.Name] = r
		}
		t.byName[rf.Server] = m
	}
	return t
}

// row is one line of the table: a label, a unit, one cell per server and
// Davit's ratios to the best peer.
type row struct {
	label, unit string
	cells       []string
	// ratio: davit and davit-nosync to the best peer, on the figure and on
	// the figure per server CPU second, as printed (two decimals); raw, the
	// same unrounded (NaN where there is none), which verdicts are made on.
	ratio [4]string
	raw   [4]float64
}

// metric extracts a figure from a result; ok is false when there is none.
type metric func(r result) (v float64, ok bool)

func (t *table) metricRow(label, unit string, higher bool, wl string, m metric, withRatio bool) (row, bool) {
	rw := row{label: label, unit: unit}
	any := false
	vals, perCPU := map[string]float64{}, map[string]float64{}
	for _, s := range t.servers {
		r, ran := t.byName[s][wl]
		switch {
		case !ran:
			rw.cells = append(rw.cells, "-")
		case r.Unsupported != "":
			any = true
			rw.cells = append(rw.cells, "not supported")
		case !r.OK:
			any = true
			rw.cells = append(rw.cells, fmt.Sprintf("FAILED (%d err)", r.Errors))
		default:
			any = true
			v, ok := m(r)
			if !ok {
				rw.cells = append(rw.cells, "-")
				continue
			}
			vals[s] = v
			if r.PerCPU > 0 {
				perCPU[s] = r.PerCPU
			}
			rw.cells = append(rw.cells, formatValue(v, unit))
		}
	}
	rw.raw = [4]float64{math.NaN(), math.NaN(), math.NaN(), math.NaN()}
	if withRatio {
		for i, d := range []string{davit, davitNoSync} {
			rw.raw[i] = ratio(vals, d, higher)
			rw.ratio[i] = ratioCell(rw.raw[i])
			if unit != "MiB" {
				rw.raw[2+i] = ratio(perCPU, d, higher)
				rw.ratio[2+i] = ratioCell(rw.raw[2+i])
			}
		}
	}
	return rw, any
}

// ratio is Davit's figure against the best peer's, oriented so that above
// 1 means Davit is ahead (best/davit for figures where lower is better).
func ratio(vals map[string]float64, d string, higher bool) float64 {
	dv, ok := vals[d]
	if !ok {
		return math.NaN()
	}
	best, found := 0.0, false
	for s, v := range vals {
		if !isPeer(s) {
			continue
		}
		if !found || (higher && v > best) || (!higher && v < best) {
			best, found = v, true
		}
	}
	if !found || dv == 0 || best == 0 {
		return math.NaN()
	}
	if higher {
		return dv / best
	}
	return best / dv
}

// targetVerdict words a ratio against its target: met only when the ratio
// itself reaches it, not its rounding (0.998 is not met against 1.0, and
// is then printed with three decimals, so that it does not read 1.00).
func targetVerdict(r, min float64) (shown, verdict string) {
	shown = ratioCell(r)
	switch {
	case shown == "":
		return "", "not met"
	case r >= min:
		return shown, "met"
	}
	if v, err := strconv.ParseFloat(shown, 64); err == nil && v >= min {
		shown = strconv.FormatFloat(math.Floor(r*1000)/1000, 'f', 3, 64)
	}
	return shown, "not met"
}

func ratioCell(r float64) string {
	if math.IsNaN(r) {
		return ""
	}
	return strconv.FormatFloat(r, 'f', 2, 64)
}

func (t *table) rows() []row {
	var rows []row
	add := func(r row, ok bool) {
		if ok {
			rows = append(rows, r)
		}
	}
	value := func(r result) (float64, bool) { return r.Value, true }
	for _, w := range workloads {
		add(t.metricRow(w.title, w.unit, w.higher, w.name, value, true))
		if strings.HasPrefix(w.name, "pf") && !w.extra { // pf0-404 has no entries
			add(t.metricRow("↳ bytes per entry", "B", false, w.name, func(r result) (float64, bool) {
				return r.BytesPerEntry, r.BytesPerEntry > 0
			}, false))
		}
		if w.unit == "s" {
			add(t.metricRow("↳ response size", "MB", false, w.name, func(r result) (float64, bool) {
				return float64(r.BodyBytes) / 1e6, r.BodyBytes > 0
			}, false))
			add(t.metricRow("↳ peak memory during it", "MiB", false, w.name, func(r result) (float64, bool) {
				return float64(r.PeakRSSKiB) / 1024, r.PeakRSSKiB > 0
			}, true))
		}
		if w.name == "mixed" {
			add(t.metricRow("↳ errors", "count", false, w.name, func(r result) (float64, bool) {
				return float64(r.Errors), true
			}, false))
		}
	}
	rw := row{label: "peak resident memory, whole run", unit: "MiB"}
	vals := map[string]float64{}
	for _, rf := range t.runs {
		v := float64(rf.PeakRSSKiB) / 1024
		vals[rf.Server] = v
		rw.cells = append(rw.cells, formatValue(v, "MiB"))
	}
	rw.raw = [4]float64{math.NaN(), math.NaN(), math.NaN(), math.NaN()}
	for i, d := range []string{davit, davitNoSync} {
		rw.raw[i] = ratio(vals, d, false)
		rw.ratio[i] = ratioCell(rw.raw[i])
	}
	rows = append(rows, rw)
	return rows
}

func (t *table) write(w io.Writer) {
	rows := t.rows()
	head := append([]string{"workload", "unit"}, t.servers...)
	head = append(head, "davit/best peer", "nosync/best peer", "davit/best, per CPU-s", "nosync/best, per CPU-s")
	lines := [][]string{head}
	for _, r := range rows {
		l := append([]string{r.label, r.unit}, r.cells...)
		lines = append(lines, append(l, r.ratio[:]...))
	}
	// Drop a ratio column that is empty.
	for col := len(head) - 1; col >= len(head)-4; col-- {
		empty := true
		for _, l := range lines[1:] {
			if l[col] != "" {
				empty = false
			}
		}
		if empty {
			for i := range lines {
				lines[i] = append(lines[i][:col], lines[i][col+1:]...)
			}
		}
	}
	widths := make([]int, len(lines[0]))
	for _, l := range lines {
		for i, c := range l {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for n, l := range lines {
		fmt.Fprint(w, "|")
		for i, c := range l {
			pad := widths[i] - utf8.RuneCountInString(c)
			if i < 2 {
				fmt.Fprintf(w, " %s%s |", c, strings.Repeat(" ", max(pad, 0)))
			} else {
				fmt.Fprintf(w, " %s%s |", strings.Repeat(" ", max(pad, 0)), c)
			}
		}
		fmt.Fprintln(w)
		if n == 0 {
			fmt.Fprint(w, "|")
			for i := range l {
				if i < 2 {
					fmt.Fprintf(w, "%s|", strings.Repeat("-", widths[i]+2))
				} else {
					fmt.Fprintf(w, "%s:|", strings.Repeat("-", widths[i]+1))
				}
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Ratios are Davit's figure to the best peer's in this run, turned so that above 1 means Davit is ahead (best/Davit for seconds and memory). The per CPU-s ratios compare the same figures per second of server CPU time (requests or MB per CPU second; CPU seconds per listing): steadier when other work on the machine takes a changing share of the server's core, but flattering to a server that waits on fsync. FAILED: the workload had errors (any unexpected status, a PROPFIND with the wrong number of responses, or a setup the server got wrong), so it has no figure; not supported: the server refused the setup the workload needs (PROPPATCH of dead properties), so it did not run there; - : not run.")
	fmt.Fprintln(w)
	t.writeTargets(w)
	t.writeCPU(w)
	t.writePerRequest(w)
	t.writeLatency(w)
}

// writeTargets checks the targets against this run.
func (t *table) writeTargets(w io.Writer) {
	if _, ok := t.byName[davit]; !ok {
		return
	}
	fmt.Fprintln(w, "Targets (issue 5), this run:")
	fmt.Fprintln(w)
	value := func(r result) (float64, bool) { return r.Value, true }
	check := func(what string, wl string, higher bool, min float64, d string) {
		wk := findWorkload(wl)
		if _, ran := t.byName[d][wl]; !ran || wk == nil {
			return
		}
		rw, _ := t.metricRow("", wk.unit, higher, wl, value, true)
		i := 0
		if d == davitNoSync {
			i = 1
		}
		rs, verdict := targetVerdict(rw.raw[i], min)
		if rs == "" {
			rs, verdict = "no figure", "not met"
			if r := t.byName[d][wl]; !r.OK {
				rs = "FAILED"
			}
		}
		per := ""
		if c := rw.ratio[2+i]; c != "" {
			per = ", per CPU-s " + c
		}
		fmt.Fprintf(w, "- %s: ratio %s (target ≥ %.1f%s): **%s**\n", what, rs, min, per, verdict)
	}
	for _, wk := range workloads {
		if strings.HasPrefix(wk.name, "pf") && !wk.extra {
			check(wk.title, wk.name, wk.higher, 1.0, davit)
		}
	}
	check("PUT 1 MiB, Davit durable (fsync)", "put1m", true, 1.0, davit)
	check("PUT 1 MiB, Davit --no-sync", "put1m", true, 1.0, davitNoSync)
	check("GET 4 KiB", "get4k", true, 0.8, davit)
	check("GET 100 MiB", "get100m", true, 0.9, davit)
	// The references: what net/http itself reaches when the answer comes
	// from memory, and what Go reaches without net/http, beside Davit and
	// the best peer.
	for _, ref := range references {
		for _, wl := range []string{"get4k", "get4k-304", "pf0-all", "pf0-named"} {
			f, okf := t.byName[ref.name][wl]
			d, okd := t.byName[davit][wl]
			wk := findWorkload(wl)
			if !okf || !okd || !f.OK || !d.OK || wk == nil || f.Value == 0 {
				continue
			}
			best, bestName := 0.0, ""
			for s, rs := range t.byName {
				if r, ok := rs[wl]; ok && r.OK && isPeer(s) && r.Value > best {
					best, bestName = r.Value, s
				}
			}
			fmt.Fprintf(w, "- %s, reference: %s (%s) %s %s; Davit is %.2f of it", wk.title, ref.what, ref.name, formatValue(f.Value, wk.unit), wk.unit, d.Value/f.Value)
			if bestName != "" {
				fmt.Fprintf(w, ", the best peer (%s) %.2f of it", bestName, best/f.Value)
			}
			fmt.Fprintln(w)
		}
	}
	for _, rf := range t.runs {
		if rf.Server != davit {
			continue
		}
		mib := float64(rf.PeakRSSKiB) / 1024
		verdict := "met"
		if mib > 32 {
			verdict = "not met"
		}
		fmt.Fprintf(w, "- Davit's peak resident memory over the whole run: %.1f MiB (target ≤ 32 MiB): **%s**\n", mib, verdict)
	}
	for _, kind := range []string{"all", "named"} {
		r10, ok10 := t.byName[davit]["pf1-10k-"+kind]
		r100, ok100 := t.byName[davit]["pf1-100k-"+kind]
		if !ok10 || !ok100 || !r10.OK || !r100.OK {
			continue
		}
		a, b := float64(r10.PeakRSSKiB)/1024, float64(r100.PeakRSSKiB)/1024
		verdict := "met"
		if b > a+1 { // 1 MiB of slack for page-granular noise
			verdict = "not met"
		}
		fmt.Fprintf(w, "- PROPFIND Depth 1 (%s): peak memory on 100,000 files %.1f MiB vs %.1f MiB on 10,000 (target: not more, within 1 MiB): **%s**\n", kind, b, a, verdict)
	}
	if r, ok := t.byName[davit]["mixed"]; ok {
		verdict := "met"
		if !r.OK || r.Errors > 0 {
			verdict = "not met"
		}
		fmt.Fprintf(w, "- Mixed load, 64 clients: %d errors (target 0): **%s**\n", r.Errors, verdict)
	}
	fmt.Fprintln(w)
}

// writeLatency prints the median and 99th percentile time of one op of
// each throughput workload on each server: what a client waited, beside
// the throughput the table gives.
func (t *table) writeLatency(w io.Writer) {
	t.writeDetails(w, "Time of one request during each throughput workload (median / 99th percentile)", func(r result) string {
		if r.LatP50 == 0 {
			return ""
		}
		return formatLatency(r.LatP50) + " / " + formatLatency(r.LatP99)
	})
}

// writeCPU prints the CPU each side used during each workload: a load
// tool near 100% while the server is well below means the tool, not the
// server, set that figure.
func (t *table) writeCPU(w io.Writer) {
	t.writeDetails(w, "CPU during each workload (server / load tool, % of one core)", func(r result) string {
		return fmt.Sprintf("%.0f / %.0f", 100*r.ServerCPU, 100*r.ClientCPU)
	})
}

// writePerRequest prints the server's CPU time per request of each
// throughput workload counted in req/s, split into its own code (user)
// and the kernel's work for it (system): where a server's time goes, and
// so how much of a gap the server's code could close.
func (t *table) writePerRequest(w io.Writer) {
	t.writeDetails(w, "Server CPU time per request (own code + kernel, µs)", perRequest)
}

// perRequest is one cell of writePerRequest: "" for a workload not
// counted in requests or with no CPU measured.
func perRequest(r result) string {
	if r.Unit != "req/s" || r.Value <= 0 || r.ServerCPU <= 0 {
		return ""
	}
	user, sys := (r.ServerCPU-r.ServerSys)/r.Value*1e6, r.ServerSys/r.Value*1e6
	return fmt.Sprintf("%.1f + %.1f", user, sys)
}

// writeDetails prints a folded table of one cell a workload and server,
// from cell ("" or a failed workload: "-"); a workload with no cell at
// all is left out.
func (t *table) writeDetails(w io.Writer, summary string, cell func(result) string) {
	fmt.Fprintf(w, "<details><summary>%s</summary>\n\n", summary)
	fmt.Fprint(w, "| workload |")
	for _, s := range t.servers {
		fmt.Fprintf(w, " %s |", s)
	}
	fmt.Fprint(w, "\n|---|")
	for range t.servers {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w)
	for _, wk := range workloads {
		line := fmt.Sprintf("| %s |", wk.name)
		any := false
		for _, s := range t.servers {
			c := ""
			if r, ok := t.byName[s][wk.name]; ok && r.OK {
				c = cell(r)
			}
			if c == "" {
				line += " - |"
				continue
			}
			any = true
			line += " " + c + " |"
		}
		if any {
			fmt.Fprintln(w, line)
		}
	}
	fmt.Fprint(w, "\n</details>\n\n")
}

// formatValue prints a figure with as many digits as it deserves.
func formatValue(v float64, unit string) string {
	switch {
	case unit == "count":
		return strconv.FormatFloat(v, 'f', 0, 64)
	case unit == "s" && v < 0.01:
		return strconv.FormatFloat(v, 'f', 4, 64)
	case unit == "s" && v < 1:
		return strconv.FormatFloat(v, 'f', 3, 64)
	case v >= 1000:
		return groupThousands(int64(math.Round(v)))
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
