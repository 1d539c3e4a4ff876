//go:build !unix

package main

import "time"

// selfCPU is not measured here: the load tool's own CPU column reads 0.
// The benchmark runs on Linux (taskset, /proc); this only lets the
// module build everywhere.
func selfCPU() time.Duration { return 0 }
