package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProgress checks that put and get draw a progress line on stderr when
// it is a terminal, and only there.
func TestProgress(t *testing.T) {
	srv := newServer(t, map[string]answer{
		"PUT /f.txt": {status: 201},
		"GET /f.txt": {status: 200, body: "0123456789"},
	})
	local := filepath.Join(t.TempDir(), "f.txt")
	os.WriteFile(local, []byte("0123456789"), 0o644)
	for _, terminal := range []bool{true, false} {
		for _, args := range [][]string{{"put", local, srv.URL + "/f.txt"}, {"get", srv.URL + "/f.txt", "-"}} {
			var stdout, stderr bytes.Buffer
			e := &cli{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
				getenv: func(string) string { return "" }, isTerminal: terminal}
			if code := e.run(context.Background(), args); code != 0 {
				t.Fatalf("%v: exit code %d, %s", args, code, stderr.String())
			}
			shown := strings.Contains(stderr.String(), "10 B / 10 B (100%)")
			if shown != terminal {
				t.Errorf("%v, terminal %v: stderr %q", args, terminal, stderr.String())
			}
			if args[0] == "get" && stdout.String() != "0123456789" {
				t.Errorf("get: stdout %q", stdout.String())
			}
		}
	}
}
