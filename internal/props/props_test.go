package props_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/davit-dav/davit/internal/props"
	"github.com/davit-dav/davit/internal/props/propstest"
)

func openDB(t testing.TB, file string, noSync bool) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(file, 0o600, &bbolt.Options{Timeout: time.Second, NoSync: noSync})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func newBolt(t testing.TB, db *bbolt.DB) *props.Bolt {
	t.Helper()
	s, err := props.NewBolt(db)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMemory(t *testing.T) {
	propstest.Run(t, func(t *testing.T) props.Store { return props.NewMemory() })
}

func TestBolt(t *testing.T) {
	propstest.Run(t, func(t *testing.T) props.Store {
		db := openDB(t, filepath.Join(t.TempDir(), "props.db"), true)
		t.Cleanup(func() { db.Close() })
		return newBolt(t, db)
	})
}

func TestBoltReopen(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "props.db")
	db := openDB(t, file, false)
	s := newBolt(t, db)
	want := props.Property{Name: name("urn:x", "k"), Lang: "en", Inner: []byte("kept <b xmlns=\"\">ü</b>")}
	if err := s.Apply(ctx, "/a/b", []props.Patch{{Prop: want}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, "/c", []props.Patch{{Prop: want}}); err == nil {
		t.Error("Apply on a closed database succeeded")
	}
	db = openDB(t, file, false)
	defer db.Close()
	s = newBolt(t, db)
	got, err := s.Get(ctx, "/a/b")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != want.Name || got[0].Lang != want.Lang || string(got[0].Inner) != string(want.Inner) {
		t.Errorf("reloaded %+v, want %+v", got, want)
	}
}

func name(space, local string) xml.Name { return xml.Name{Space: space, Local: local} }

// BenchmarkGet reads a resource with 10 properties, as PROPFIND allprop does.
func BenchmarkGet(b *testing.B) {
	run := func(b *testing.B, s props.Store) {
		ctx := context.Background()
		for _, p := range []string{"/dir/file", "/dir/file2", "/dir", "/dir/file/x"} {
			var patches []props.Patch
			for i := range 10 {
				patches = append(patches, props.Patch{Prop: props.Property{Name: name("http://example.com/ns", fmt.Sprintf("prop%d", i)),
					Inner: []byte("a value of moderate length, like a comment")}})
			}
			if err := s.Apply(ctx, p, patches); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		for b.Loop() {
			ps, err := s.Get(ctx, "/dir/file")
			if err != nil || len(ps) != 10 {
				b.Fatal(len(ps), err)
			}
		}
	}
	b.Run("Memory", func(b *testing.B) { run(b, props.NewMemory()) })
	b.Run("Bolt", func(b *testing.B) {
		db := openDB(b, filepath.Join(b.TempDir(), "props.db"), false)
		defer db.Close()
		run(b, newBolt(b, db))
	})
}
