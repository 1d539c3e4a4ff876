package props_test

// Audit tests: attacks on Bolt.GetPage's shared memory and the group
// write path.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/davit-dav/davit/internal/props"
)

func auditBolt(t *testing.T) *props.Bolt {
	db := openDB(t, filepath.Join(t.TempDir(), "props.db"), true)
	t.Cleanup(func() { db.Close() })
	return newBolt(t, db)
}

func auditSet(space, local, v string) props.Patch {
	return props.Patch{Prop: props.Property{Name: name(space, local), Inner: []byte(v)}}
}

func dump(ps []props.Property) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "{%s}%s[%s]=%q ", p.Name.Space, p.Name.Local, p.Lang, p.Inner)
	}
	return b.String()
}

// TestBoltAuditPageCapacities: every list and every value of a page (runs
// moved across blocks, values shared and cloned, empty ones) is limited
// in capacity; writing to one through any reslice within its capacity,
// or appending to it, changes no other; the same path twice gives two
// independent copies.
func TestBoltAuditPageCapacities(t *testing.T) {
	s := auditBolt(t)
	ctx := context.Background()
	var paths []string
	for i := range 40 {
		p := fmt.Sprintf("/d/f%02d", i)
		var patches []props.Patch
		for j := range (i * 7) % 23 {
			v := strings.Repeat(strconv.Itoa(j%10), (i*j*37)%1500)
			patches = append(patches, auditSet(fmt.Sprint("urn:", j%3), fmt.Sprintf("p%02d", j), v))
		}
		if i%4 == 1 {
			patches = append(patches, props.Patch{Prop: props.Property{Name: name("urn:l", "lang"), Lang: "fr", Inner: []byte{}}})
		}
		if len(patches) > 0 {
			if err := s.Apply(ctx, p, patches); err != nil {
				t.Fatal(err)
			}
		}
		paths = append(paths, p)
	}
	paths = append(paths, paths[5], paths[5])
	page, err := s.GetPage(ctx, paths)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]string, len(page))
	for i := range page {
		want[i] = dump(page[i])
		if cap(page[i]) != len(page[i]) {
			t.Errorf("%s: list cap %d > len %d", paths[i], cap(page[i]), len(page[i]))
		}
		for j, p := range page[i] {
			if p.Inner == nil {
				t.Errorf("%s #%d: nil Inner", paths[i], j)
			}
			// values over 1 KiB are cloned alone (bytes.Clone rounds the
			// capacity up); the scribbling below checks they share nothing
			if len(p.Inner) <= 1024 && cap(p.Inner) != len(p.Inner) {
				t.Errorf("%s #%d: value cap %d > len %d", paths[i], j, cap(p.Inner), len(p.Inner))
			}
		}
	}
	// Scribble over everything of one path at a time (in place), append
	// to it, and check every other path still reads as before.
	for i := range page {
		grown := append(page[i], props.Property{Name: name("urn:z", "z"), Inner: []byte("zz")})
		for j := range page[i] {
			page[i][j].Lang = "XX"
			page[i][j].Name.Local = "XX"
			in := page[i][j].Inner[:cap(page[i][j].Inner)]
			for k := range in {
				in[k] = '#'
			}
			page[i][j].Inner = append(page[i][j].Inner, "tail"...)
		}
		_ = grown
		for k := range page {
			if k != i && k > i && dump(page[k]) != want[k] {
				t.Fatalf("writing to %s (#%d) changed %s (#%d): %s, want %s", paths[i], i, paths[k], k, dump(page[k]), want[k])
			}
		}
	}
	again, err := s.GetPage(ctx, paths)
	if err != nil {
		t.Fatal(err)
	}
	for i := range again {
		if got := dump(again[i]); got != want[i] {
			t.Errorf("after scribbling, %s reads %s, want %s", paths[i], got, want[i])
		}
	}
}

// TestBoltAuditPageSnapshot: one page is one read. A writer sets version v on
// /p00, then /p01, ... /p19 in turn, v rising; a page read in the same
// order must see versions that never rise along it. Each resource has two
// properties set together, which must agree. Run with -race.
func TestBoltAuditPageSnapshot(t *testing.T) {
	s := auditBolt(t)
	ctx := context.Background()
	const n = 20
	var paths []string
	for i := range n {
		paths = append(paths, fmt.Sprintf("/p%02d", i))
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var werr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for v := 1; v <= 60; v++ {
			for _, p := range paths {
				vs := fmt.Sprint(v)
				if err := s.Apply(ctx, p, []props.Patch{auditSet("urn:v", "a", vs), auditSet("urn:v", "b", vs)}); err != nil {
					werr = err
					return
				}
			}
		}
	}()
	// other writers on other resources, so that groups form
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if err := s.Apply(ctx, fmt.Sprintf("/o%d", w), []props.Patch{auditSet("urn:o", "x", fmt.Sprint(i))}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var rerr error
	var rwg sync.WaitGroup
	for range 2 {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				page, err := s.GetPage(ctx, paths)
				if err != nil {
					rerr = err
					return
				}
				prev := 1 << 30
				for i, ps := range page {
					v := 0
					if len(ps) > 0 {
						if len(ps) != 2 || !bytes.Equal(ps[0].Inner, ps[1].Inner) {
							rerr = fmt.Errorf("torn resource %s: %s", paths[i], dump(ps))
							return
						}
						v, _ = strconv.Atoi(string(ps[0].Inner))
						ps[0].Inner = append(ps[0].Inner, '!') // a caller that appends
					}
					if v > prev {
						rerr = fmt.Errorf("page not one snapshot: %s at %d after %d", paths[i], v, prev)
						return
					}
					prev = v
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	rwg.Wait()
	if werr != nil {
		t.Fatal(werr)
	}
	if rerr != nil {
		t.Fatal(rerr)
	}
}

// TestBoltAuditPatchFailureThenRead: PROPPATCHes that fail (over
// MaxPerResource, a key over bbolt's limit) in groups with others that
// succeed on the same resource: the failures leave nothing, the others
// are all applied, and a page read after agrees with Get.
func TestBoltAuditPatchFailureThenRead(t *testing.T) {
	s := auditBolt(t)
	ctx := context.Background()
	var many []props.Patch
	for j := range props.MaxPerResource + 1 {
		many = append(many, auditSet("urn:m", fmt.Sprintf("m%04d", j), "v"))
	}
	longPath := "/" + strings.Repeat("x", 40000)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var fails, oks int
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				var err error
				switch (w + i) % 3 {
				case 0:
					err = s.Apply(ctx, "/r", many)
				case 1:
					err = s.Apply(ctx, longPath, []props.Patch{auditSet("urn:k", "k", "v")})
				default:
					err = s.Apply(ctx, "/r", []props.Patch{auditSet("urn:ok", fmt.Sprintf("w%d", w), fmt.Sprint(i))})
					if err != nil {
						t.Errorf("good write: %v", err)
					}
				}
				mu.Lock()
				if err != nil {
					if !errors.Is(err, props.ErrTooLarge) {
						t.Errorf("failure: %v", err)
					}
					fails++
				} else {
					oks++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	got, err := s.Get(ctx, "/r")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range got {
		if p.Name.Space != "urn:ok" {
			t.Fatalf("a failed PROPPATCH left %s", dump([]props.Property{p}))
		}
	}
	if len(got) != 8 {
		t.Errorf("%d properties on /r, want 8 (one per writer): %s", len(got), dump(got))
	}
	page, err := s.GetPage(ctx, []string{"/r", longPath[:100], "/r"})
	if err != nil {
		t.Fatal(err)
	}
	if dump(page[0]) != dump(got) || dump(page[2]) != dump(got) || len(page[1]) != 0 {
		t.Errorf("page after failures: %s | %s | %s; Get: %s", dump(page[0]), dump(page[1]), dump(page[2]), dump(got))
	}
	t.Logf("%d failed, %d succeeded", fails, oks)
}
