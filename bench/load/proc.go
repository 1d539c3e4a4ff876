package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// server watches the processes of the server under test: every process
// whose session id is the session the script started the server in (the
// main process plus the workers of Apache and nginx).
type server struct {
	sid    int
	peak   map[int]int64 // pid -> VmHWM in KiB, the highest seen over the run
	cached []int         // pids as of the last resetPeak, for cpu
}

func newServer(pid int) *server { return &server{sid: pid, peak: map[int]int64{}} }

// pids lists the processes of the server.
func (s *server) pids() []int {
	if s == nil || s.sid <= 0 {
		return nil
	}
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := statFields(pid); len(f) > 3 {
			if sid, _ := strconv.Atoi(f[3]); sid == s.sid {
				out = append(out, pid)
			}
		}
	}
	return out
}

// statFields returns the fields of /proc/PID/stat after the command name:
// f[0] is the state, f[2] the process group, f[3] the session, f[11] and
// f[12] the user and system time (proc(5) numbers them from 3 on).
func statFields(pid int) []string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// resetPeak resets the peak resident size of every server process
// (clear_refs 5, Linux 4.0 and later), so that the peak read after a
// workload is the peak during it. It first records the peak so far.
func (s *server) resetPeak() {
	s.peakKiB()
	s.cached = s.pids()
	for _, pid := range s.cached {
		_ = os.WriteFile(filepath.Join("/proc", strconv.Itoa(pid), "clear_refs"), []byte("5"), 0)
	}
}

// peakKiB returns the sum over the server's processes of their peak
// resident size since the last reset, and folds it into the run's peak.
func (s *server) peakKiB() int64 {
	var sum int64
	for _, pid := range s.pids() {
		hwm := statusKiB(pid, "VmHWM:")
		sum += hwm
		if hwm > s.peak[pid] {
			s.peak[pid] = hwm
		}
	}
	return sum
}

// runPeakKiB is the sum of each process's highest peak over the whole run.
func (s *server) runPeakKiB() int64 {
	s.peakKiB()
	var sum int64
	for _, v := range s.peak {
		sum += v
	}
	return sum
}

func statusKiB(pid int, field string) int64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, field) {
			f := strings.Fields(l[len(field):])
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// cpu returns the CPU time the server's processes (as of the last
// resetPeak) have used so far, user and system together, and the system
// (kernel) part of it alone.
func (s *server) cpu() (total, sys time.Duration) {
	var user, kernel int64
	for _, pid := range s.cached {
		f := statFields(pid)
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			k, _ := strconv.ParseInt(f[12], 10, 64)
			user += u
			kernel += k
		}
	}
	tick := func(n int64) time.Duration { return time.Duration(n) * time.Second / 100 } // USER_HZ is 100 on Linux
	return tick(user + kernel), tick(kernel)
}
