package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestMultistatusDecode decodes every corpus document with "davit
// multistatus decode" and compares the output with the expected decoding
// beside it, where "<xml>" stands for any value with child elements.
func TestMultistatusDecode(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "multistatus", "testdata", "corpus", "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Fatalf("only %d corpus documents", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			res := runCLI(t, "", nil, "multistatus", "decode", f)
			if res.code != 0 || res.stderr != "" {
				t.Fatalf("exit code %d, stderr %s", res.code, res.stderr)
			}
			var got, want any
			if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, res.stdout)
			}
			wantBytes, err := os.ReadFile(strings.TrimSuffix(f, ".xml") + ".json")
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(wantBytes, &want); err != nil {
				t.Fatal(err)
			}
			markElements(want, got)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %s\nwant %s", res.stdout, wantBytes)
			}
		})
	}

	// Standard input gives the same.
	f := files[0]
	b, _ := os.ReadFile(f)
	fromFile := runCLI(t, "", nil, "multistatus", "decode", f)
	fromStdin := runCLI(t, string(b), nil, "multistatus", "decode")
	dash := runCLI(t, string(b), nil, "multistatus", "decode", "-")
	if fromStdin.stdout != fromFile.stdout || dash.stdout != fromFile.stdout || fromStdin.code != 0 {
		t.Errorf("standard input: %+v", fromStdin)
	}
}

// markElements replaces, in got, each value whose expected value is
// "<xml>" by "<xml>" when it holds an element, and trims the expected
// responsedescription texts (the corpus's rules, see its README).
func markElements(want, got any) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return
		}
		for k, wv := range w {
			if s, ok := wv.(string); ok && k == "responsedescription" {
				w[k] = strings.TrimSpace(s)
				continue
			}
			if s, ok := wv.(string); ok && s == "<xml>" {
				if gs, ok := g[k].(string); ok && strings.Contains(gs, "<") {
					g[k] = "<xml>"
				}
				continue
			}
			markElements(wv, g[k])
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			return
		}
		for i := range w {
			if i < len(g) {
				markElements(w[i], g[i])
			}
		}
	}
}

func TestMultistatusDecodeMalformed(t *testing.T) {
	tests := []struct{ name, in, pos string }{
		{"unclosed", "<D:multistatus xmlns:D=\"DAV:\">\n<D:response>\n<D:href>/a</D:href>\n", "line 4"},
		{"mismatched", "<D:multistatus xmlns:D=\"DAV:\">\n  <D:response><D:href>/a</oops>", "line 2"},
		{"wrong root", "<?xml version=\"1.0\"?>\n<html/>", "line 2"},
		{"bad status", "<D:multistatus xmlns:D=\"DAV:\"><D:response><D:href>/a</D:href>\n\n<D:status>HTTP/1.1 abc</D:status></D:response></D:multistatus>", "line 3"},
		{"empty", "", "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, tt.in, nil, "multistatus", "decode")
			if res.code != 2 || !strings.Contains(res.stderr, tt.pos) || !strings.Contains(res.stderr, "column") {
				t.Errorf("exit code %d, stderr %q: want 2 and %q", res.code, res.stderr, tt.pos)
			}
		})
	}
	res := runCLI(t, "", nil, "multistatus", "decode", filepath.Join(t.TempDir(), "missing.xml"))
	if res.code != 2 {
		t.Errorf("missing file: exit code %d", res.code)
	}
}
