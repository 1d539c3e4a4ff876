package props_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
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

// BenchmarkGetPage reads the properties of a 10,000-entry folder in pages
// of 128 paths in the scattered order a directory listing gives, from a
// store where another tree holds 10,000 resources with properties and, in
// "1pct", one entry in 100 of the folder has some too ("none": the folder
// has none, the common case in a store clients have written into; "all":
// every entry has them, as in a folder Windows Explorer uploaded, which
// sets its Win32 properties on each file). Reported per path.
func BenchmarkGetPage(b *testing.B) {
	for _, tc := range []struct {
		label string
		every int
	}{{"1pct", 100}, {"none", 0}, {"all", 1}} {
		b.Run(tc.label, func(b *testing.B) { benchGetPage(b, tc.every) })
	}
}

func benchGetPage(b *testing.B, every int) {
	db := openDB(b, filepath.Join(b.TempDir(), "props.db"), true)
	defer db.Close()
	s := newBolt(b, db)
	ctx := context.Background()
	paths := make([]string, 10_000)
	for i := range paths {
		paths[i] = fmt.Sprintf("/dir/file-%05d.txt", i)
	}
	set := func(p string) {
		err := s.Apply(ctx, p, []props.Patch{
			{Prop: props.Property{Name: name("urn:schemas-microsoft-com:", "Win32FileAttributes"), Inner: []byte("00000020")}},
			{Prop: props.Property{Name: name("http://example.com/ns", "comment"), Inner: []byte("a note")}},
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	want := 0
	for i := 0; every > 0 && i < len(paths); i += every {
		set(paths[i])
		want += 2
	}
	for i := range 10_000 {
		set(fmt.Sprintf("/other/%05d", i))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(paths), func(i, j int) { paths[i], paths[j] = paths[j], paths[i] })
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		for off := 0; off < len(paths); off += 128 {
			page, err := s.GetPage(ctx, paths[off:min(off+128, len(paths))])
			if err != nil {
				b.Fatal(err)
			}
			for _, ps := range page {
				n += len(ps)
			}
		}
		if n != want {
			b.Fatalf("%d properties, want %d", n, want)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(paths)), "ns/path")
}

// BenchmarkApply sets Windows Explorer's four properties on a file, as its
// PROPPATCH after each upload does, in a synced store: from one writer,
// and from 8 at once, each on its own file, whose commits go together
// (the group commit). Reported per write; every file written is read
// back at the end.
func BenchmarkApply(b *testing.B) {
	patches := func(i int) []props.Patch {
		var ps []props.Patch
		for _, n := range []string{"Win32CreationTime", "Win32LastAccessTime", "Win32LastModifiedTime", "Win32FileAttributes"} {
			ps = append(ps, props.Patch{Prop: props.Property{Name: name("urn:schemas-microsoft-com:", n),
				Inner: fmt.Appendf(nil, "Mon, 07 Dec 2026 10:%02d:00 GMT", i%60)}})
		}
		return ps
	}
	for _, writers := range []int{1, 8} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			db := openDB(b, filepath.Join(b.TempDir(), "props.db"), false)
			defer db.Close()
			s := newBolt(b, db)
			ctx := context.Background()
			b.SetParallelism(max(1, writers/runtime.GOMAXPROCS(0))) // writers in all; 1 runs serially below
			var (
				n       atomic.Int64
				mu      sync.Mutex
				written []string // the paths some write went to
			)
			work := func(pb interface{ Next() bool }) {
				p := fmt.Sprintf("/dir/f%d", n.Add(1))
				for i := 0; pb.Next(); i++ {
					if err := s.Apply(ctx, p, patches(i)); err != nil {
						b.Error(err)
						return
					}
					if i == 0 {
						mu.Lock()
						written = append(written, p)
						mu.Unlock()
					}
				}
			}
			if writers == 1 {
				work(loop{b})
			} else {
				b.RunParallel(func(pb *testing.PB) { work(pb) })
			}
			if len(written) == 0 {
				b.Fatal("no write was made")
			}
			for _, p := range written {
				if ps, err := s.Get(ctx, p); err != nil || len(ps) != 4 {
					b.Fatalf("%s: read back %d properties (%v), want 4", p, len(ps), err)
				}
			}
		})
	}
}

// loop gives a *testing.B's Loop as a testing.PB's Next.
type loop struct{ b *testing.B }

func (l loop) Next() bool { return l.b.Loop() }
