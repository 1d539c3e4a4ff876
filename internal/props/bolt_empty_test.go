package props_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/davit-dav/davit/internal/props"
)

// TestBoltEmptyShortcut: a Bolt that starts on an empty bucket answers
// reads without a transaction until a property is set, and then sees it,
// as does a new Bolt on the same database.
func TestBoltEmptyShortcut(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "props.db"), true)
	defer db.Close()
	s := newBolt(t, db)
	if got, err := s.Get(ctx, "/a"); err != nil || got != nil {
		t.Fatalf("Get on an empty store = %v, %v", got, err)
	}
	if _, err := s.Get(ctx, "a/../b"); err == nil {
		t.Error("Get of an invalid path on an empty store succeeded")
	}
	if _, err := s.GetPage(ctx, []string{"/a", "//b"}); err == nil {
		t.Error("GetPage of an invalid path on an empty store succeeded")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Get(cancelled, "/a"); err == nil {
		t.Error("Get with a cancelled context on an empty store succeeded")
	}
	p := props.Property{Name: name("urn:x", "k"), Inner: []byte("v")}
	if err := s.Apply(ctx, "/a", []props.Patch{{Remove: true, Prop: p}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, "/a", []props.Patch{{Prop: p}}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []*props.Bolt{s, newBolt(t, db)} {
		if got, err := st.Get(ctx, "/a"); err != nil || len(got) != 1 || string(got[0].Inner) != "v" {
			t.Errorf("Get after Apply = %+v, %v", got, err)
		}
		if page, err := st.GetPage(ctx, []string{"/b", "/a"}); err != nil || len(page) != 2 || page[0] != nil || len(page[1]) != 1 {
			t.Errorf("GetPage after Apply = %+v, %v", page, err)
		}
	}
	if err := s.Copy(ctx, "/a", "/c", false); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, "/c"); err != nil || len(got) != 1 {
		t.Errorf("Get after Copy = %+v, %v", got, err)
	}
}
