package multistatus

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestCorpus decodes every captured answer in testdata/corpus (Apache
// mod_dav, nginx, rclone, golang.org/x/net/webdav) and compares the JSON
// form with the expected decoding checked in beside it. An expected value
// of "<xml>" means "has child elements" (the value itself is not compared).
func TestCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/*.xml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Fatalf("only %d corpus documents found", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".xml")
		t.Run(name, func(t *testing.T) {
			in, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			ms, err := Decode(in)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			got := toGeneric(t, ms)
			wantBytes, err := os.ReadFile(strings.TrimSuffix(f, ".xml") + ".json")
			if err != nil {
				t.Fatal(err)
			}
			var want any
			if err := json.Unmarshal(wantBytes, &want); err != nil {
				t.Fatal(err)
			}
			markElements(want, got)
			if !reflect.DeepEqual(got, want) {
				g, _ := json.MarshalIndent(got, "", " ")
				t.Errorf("decoding differs\n got: %s\nwant: %s", g, wantBytes)
			}
		})
	}
}

func toGeneric(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// markElements replaces, in got, each property value whose expected value is
// "<xml>" by "<xml>" when it holds an element, so DeepEqual checks presence,
// and trims the expected responsedescription texts.
func markElements(want, got any) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return
		}
		for k, wv := range w {
			if s, ok := wv.(string); ok && k == "responsedescription" {
				w[k] = strings.TrimSpace(s) // compared whitespace-trimmed
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
