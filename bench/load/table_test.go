package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

// TestRatio checks that Davit is measured against the best peer only:
// never against its own other columns (davit-nosync, davit-base) or the
// references (floor, evfloor), whatever their figures.
func TestRatio(t *testing.T) {
	for _, tc := range []struct {
		name   string
		vals   map[string]float64
		d      string
		higher bool
		want   float64
	}{
		{"higher is better", map[string]float64{davit: 120, "nginx": 100, "lighttpd": 80}, davit, true, 1.2},
		{"lower is better", map[string]float64{davit: 0.5, "nginx": 1, "lighttpd": 2}, davit, false, 2},
		{"not a peer: floor", map[string]float64{davit: 50, floor: 500, "nginx": 100}, davit, true, 0.5},
		{"not a peer: evfloor", map[string]float64{davit: 50, evfloor: 500, "lighttpd": 100}, davit, true, 0.5},
		{"not a peer: davit-base", map[string]float64{davit: 50, davitBase: 500, "nginx": 100}, davit, true, 0.5},
		{"not a peer: davit-nosync", map[string]float64{davit: 2, davitNoSync: 1, "nginx": 4}, davit, false, 2},
		{"the no-sync column", map[string]float64{davit: 50, davitNoSync: 200, "nginx": 100}, davitNoSync, true, 2},
		{"no peer", map[string]float64{davit: 50, davitBase: 40, floor: 60}, davit, true, math.NaN()},
		{"no Davit figure", map[string]float64{"nginx": 100}, davit, true, math.NaN()},
	} {
		got := ratio(tc.vals, tc.d, tc.higher)
		if got != tc.want && !(math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("%s: ratio = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestTargetVerdict: a target is met by the ratio itself, never by its
// rounding; a ratio that would print as the target without reaching it
// (2,815 req/s against nginx's 2,820 in the thirteenth session's run of
// 2026-12-07) shows three decimals instead.
func TestTargetVerdict(t *testing.T) {
	for _, tc := range []struct {
		r, min        float64
		shown, verdct string
	}{
		{2815.0 / 2820, 1.0, "0.998", "not met"},
		{1.0, 1.0, "1.00", "met"},
		{1.004, 1.0, "1.00", "met"},
		{0.7999, 0.8, "0.799", "not met"},
		{0.42, 0.8, "0.42", "not met"},
		{1.70, 1.0, "1.70", "met"},
		{math.NaN(), 1.0, "", "not met"},
	} {
		shown, verdict := targetVerdict(tc.r, tc.min)
		if shown != tc.shown || verdict != tc.verdct {
			t.Errorf("targetVerdict(%v, %v) = %q, %q; want %q, %q", tc.r, tc.min, shown, verdict, tc.shown, tc.verdct)
		}
	}
}

// TestPercentile checks the nearest-rank quantiles the latency columns
// report.
func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var d []time.Duration
		for _, x := range v {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	for _, tc := range []struct {
		name string
		d    []time.Duration
		q    float64
		want float64
	}{
		{"none", nil, 0.5, 0},
		{"one", ms(7), 0.99, 0.007},
		{"median of four, unsorted", ms(4, 1, 3, 2), 0.5, 0.002},
		{"p99 of a hundred", ms(func() []int {
			v := make([]int, 100)
			for i := range v {
				v[i] = 100 - i
			}
			return v
		}()...), 0.99, 0.099},
		{"p50 of three", ms(10, 30, 20), 0.5, 0.020},
	} {
		if got := percentile(tc.d, tc.q); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: %g, want %g", tc.name, got, tc.want)
		}
	}
}

// TestPerRequest checks the split of the server's CPU time per request
// into its own code and the kernel's part.
func TestPerRequest(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    result
		want string
	}{
		{"split", result{Unit: "req/s", Value: 50_000, ServerCPU: 0.99, ServerSys: 0.44}, "11.0 + 8.8"},
		{"all in the kernel", result{Unit: "req/s", Value: 1000, ServerCPU: 0.5, ServerSys: 0.5}, "0.0 + 500.0"},
		{"not in requests", result{Unit: "MB/s", Value: 5000, ServerCPU: 1, ServerSys: 0.9}, ""},
		{"no CPU measured", result{Unit: "req/s", Value: 1000}, ""},
		{"failed", result{Unit: "req/s", ServerCPU: 1}, ""},
	} {
		if got := perRequest(tc.r); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestReferences checks the lines below the targets that set Davit and
// the best peer beside each reference, and that a reference never stands
// in for the best peer there.
func TestReferences(t *testing.T) {
	get := func(v float64) []result { return []result{{Name: "get4k", OK: true, Value: v, Unit: "req/s"}} }
	tb := newTable([]runFile{
		{Server: davit, Results: get(30_000)},
		{Server: floor, Results: get(60_000)},
		{Server: evfloor, Results: get(100_000)},
		{Server: "lighttpd", Results: get(90_000)},
		{Server: "nginx", Results: get(45_000)},
	})
	var b strings.Builder
	tb.writeTargets(&b)
	for _, want := range []string{
		"(floor) 60,000 req/s; Davit is 0.50 of it, the best peer (lighttpd) 1.50 of it\n",
		"(evfloor) 100,000 req/s; Davit is 0.30 of it, the best peer (lighttpd) 0.90 of it\n",
		"- GET 4 KiB: ratio 0.33 (target ≥ 0.8",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in:\n%s", want, b.String())
		}
	}
}
