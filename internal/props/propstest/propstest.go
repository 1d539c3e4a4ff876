// Package propstest is the conformance suite every props.Store must pass.
package propstest

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/davit-dav/davit/internal/props"
)

// New returns a fresh, empty Store. It may use t for cleanup.
type New func(t *testing.T) props.Store

// Run runs the suite; each subtest gets its own Store from newS.
func Run(t *testing.T, newS New) {
	t.Run("SetGet", func(t *testing.T) { testSetGet(t, newS) })
	t.Run("Order", func(t *testing.T) { testOrder(t, newS) })
	t.Run("ReplaceRemove", func(t *testing.T) { testReplaceRemove(t, newS) })
	t.Run("AllOrNothing", func(t *testing.T) { testAllOrNothing(t, newS) })
	t.Run("Limits", func(t *testing.T) { testLimits(t, newS) })
	t.Run("Invalid", func(t *testing.T) { testInvalid(t, newS) })
	t.Run("Trees", func(t *testing.T) { testTrees(t, newS) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, newS) })
	t.Run("GetPage", func(t *testing.T) { testGetPage(t, newS) })
	t.Run("Paths", func(t *testing.T) { testPaths(t, newS) })
	t.Run("ResultsOwned", func(t *testing.T) { testResultsOwned(t, newS) })
}

// testResultsOwned: what Get and GetPage return belongs to the caller.
// Appending to a property list or to a value, or changing a value's bytes,
// changes no other property of the same read and nothing a later read
// gives. The page is large enough (values short and long, namespaces
// alternating, a language, an empty value) that a store sharing memory
// between the values of one read would have to cross its blocks.
func testResultsOwned(t *testing.T, newS New) {
	s := newS(t)
	ctx := context.Background()
	var paths []string
	for i := range 12 {
		p := fmt.Sprintf("/o/f%02d", i)
		paths = append(paths, p)
		patches := []props.Patch{
			set("urn:a", "short", fmt.Sprint(i)),
			set("urn:b", "long", strings.Repeat(string(rune('a'+i)), 100*i)),
			set("urn:a", "zempty", ""),
			{Prop: props.Property{Name: name("urn:c", "lang"), Lang: "de-CH", Inner: []byte("Grüezi")}},
		}
		if i%3 == 0 {
			patches = append(patches, set("urn:b", "big", strings.Repeat("x", 3000)))
		}
		mustApply(t, s, p, patches...)
	}
	page, err := s.GetPage(ctx, paths)
	if err != nil {
		t.Fatal(err)
	}
	single := mustGet(t, s, paths[4])
	want := make([]string, len(paths))
	for i := range paths {
		want[i] = show(page[i])
		if n := 4 + btoi(i%3 == 0); len(page[i]) != n {
			t.Fatalf("GetPage: %d properties for %s, want %d", len(page[i]), paths[i], n)
		}
	}
	wantSingle := show(single)
	// Grow every list and every value of the page and of the Get.
	for _, ps := range append(page, single) {
		_ = append(ps, props.Property{Name: name("urn:z", "added"), Inner: []byte("added")})
		for j := range ps {
			_ = append(ps[j].Inner, "appended"...)
		}
	}
	for i := range paths {
		if got := show(page[i]); got != want[i] {
			t.Errorf("after appending: %s reads %s, want %s", paths[i], got, want[i])
		}
	}
	if got := show(single); got != wantSingle {
		t.Errorf("after appending: Get(%s) reads %s, want %s", paths[4], got, wantSingle)
	}
	// Overwrite the bytes of every value read: the store keeps its own.
	for _, ps := range append(page, single) {
		for j := range ps {
			for k := range ps[j].Inner {
				ps[j].Inner[k] = '#'
			}
		}
	}
	again, err := s.GetPage(ctx, paths)
	if err != nil {
		t.Fatal(err)
	}
	for i := range paths {
		if got := show(again[i]); got != want[i] {
			t.Errorf("after overwriting what was read: %s reads %s, want %s", paths[i], got, want[i])
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// testPaths lists the paths holding properties in a tree: each once (two
// properties each), in byte order, none outside it, none once removed.
func testPaths(t *testing.T, newS New) {
	ctx := context.Background()
	s := newS(t)
	if got, err := s.Paths(ctx, "/"); err != nil || len(got) != 0 {
		t.Fatalf("Paths of an empty store = %q, %v", got, err)
	}
	fill(t, s, "/", "/a", "/a/b", "/a/b/c", "/a.txt", "/a-b", "/ab", "/ab/x", "/a b", "/a b/c")
	for _, tc := range []struct{ p, want string }{
		{"/", "/ /a /a b /a b/c /a-b /a.txt /a/b /a/b/c /ab /ab/x"},
		{"/a", "/a /a/b /a/b/c"},
		{"/a/b", "/a/b /a/b/c"},
		{"/a/b/c", "/a/b/c"},
		{"/a b", "/a b /a b/c"},
		{"/ab", "/ab /ab/x"},
		{"/a/x", ""},
		{"/b", ""},
	} {
		got, err := s.Paths(ctx, tc.p)
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("Paths(%s) = %q, %v; want %q", tc.p, got, err, tc.want)
		}
	}
	if err := s.Delete(ctx, "/a/b"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Paths(ctx, "/a"); err != nil || strings.Join(got, " ") != "/a" {
		t.Errorf("Paths(/a) after deleting /a/b = %q, %v; want /a", got, err)
	}
	if _, err := s.Paths(ctx, "a/../b"); err == nil {
		t.Error("Paths of an invalid path: no error")
	}
}

func name(space, local string) xml.Name { return xml.Name{Space: space, Local: local} }

func set(space, local, inner string) props.Patch {
	return props.Patch{Prop: props.Property{Name: name(space, local), Inner: []byte(inner)}}
}

func del(space, local string) props.Patch {
	return props.Patch{Remove: true, Prop: props.Property{Name: name(space, local)}}
}

func mustApply(t *testing.T, s props.Store, p string, patches ...props.Patch) {
	t.Helper()
	if err := s.Apply(context.Background(), p, patches); err != nil {
		t.Fatalf("Apply(%s): %v", p, err)
	}
}

func mustGet(t *testing.T, s props.Store, p string) []props.Property {
	t.Helper()
	ps, err := s.Get(context.Background(), p)
	if err != nil {
		t.Fatalf("Get(%s): %v", p, err)
	}
	return ps
}

// show renders properties compactly for comparison.
func show(ps []props.Property) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "{%s}%s", p.Name.Space, p.Name.Local)
		if p.Lang != "" {
			fmt.Fprintf(&b, "@%s", p.Lang)
		}
		fmt.Fprintf(&b, "=%s", p.Inner)
	}
	return b.String()
}

func testSetGet(t *testing.T, newS New) {
	s := newS(t)
	if ps := mustGet(t, s, "/none"); len(ps) != 0 {
		t.Errorf("Get(unknown) = %v, want none", show(ps))
	}
	want := []props.Property{
		{Name: name("", "plain"), Inner: []byte("no namespace")},
		{Name: name("http://example.com/ns", "mixed"),
			Inner: []byte(`text <x:b xmlns:x="http://example.com/x">bold</x:b> &amp; more <![CDATA[?]]> <e xmlns=""/>tail`)},
		{Name: name("http://example.com/ns", "unicode"), Lang: "ja-JP", Inner: []byte("日本語 ✓ \u00e9\u0301 \U0001F600 &lt;")},
		{Name: name("http://example.com/ns", "empty")},
		{Name: name("urn:x", "ws"), Inner: []byte("  \n\t leading and trailing  \r\n")},
		{Name: name("DAV:", "displayname-like"), Lang: "en", Inner: []byte("Dead, in DAV:")},
	}
	var patches []props.Patch
	for _, p := range want {
		patches = append(patches, props.Patch{Prop: p})
	}
	mustApply(t, s, "/r", patches...)
	got := mustGet(t, s, "/r")
	if len(got) != len(want) {
		t.Fatalf("Get = %s, want %d properties", show(got), len(want))
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			if g.Name == w.Name {
				found = true
				if g.Lang != w.Lang || !bytes.Equal(g.Inner, w.Inner) {
					t.Errorf("%v: got lang %q inner %q, want %q %q", w.Name, g.Lang, g.Inner, w.Lang, w.Inner)
				}
			}
		}
		if !found {
			t.Errorf("%v missing", w.Name)
		}
	}
	// Neither the caller's slices nor the returned ones alias the store.
	patches[0].Prop.Inner[0] = 'X'
	got[0].Inner = append(got[0].Inner[:0], "changed"...)
	if g := mustGet(t, s, "/r"); string(g[0].Inner) != "no namespace" {
		t.Errorf("store aliased a caller's slice: %q", g[0].Inner)
	}
	if ps := mustGet(t, s, "/r/child"); len(ps) != 0 {
		t.Errorf("child sees parent's properties: %s", show(ps))
	}
	if ps := mustGet(t, s, "/"); len(ps) != 0 {
		t.Errorf("root sees /r's properties: %s", show(ps))
	}
}

func testOrder(t *testing.T, newS New) {
	s := newS(t)
	mustApply(t, s, "/", set("urn:b", "a", "1"), set("", "z", "2"), set("urn:a", "y", "3"),
		set("urn:a", "x", "4"), set("urn:a:", "a", "5"), set("", "a", "6"), set("urn:a", "Y", "7"))
	want := "{}a=6 {}z=2 {urn:a}Y=7 {urn:a}x=4 {urn:a}y=3 {urn:a:}a=5 {urn:b}a=1"
	if got := show(mustGet(t, s, "/")); got != want {
		t.Errorf("Get = %s\nwant  %s", got, want)
	}
}

func testReplaceRemove(t *testing.T, newS New) {
	s := newS(t)
	lang := props.Patch{Prop: props.Property{Name: name("urn:x", "a"), Lang: "fr", Inner: []byte("un")}}
	mustApply(t, s, "/f", lang, set("urn:x", "b", "b"), set("urn:y", "a", "other ns"))
	mustApply(t, s, "/f", set("urn:x", "a", "one")) // replaces, Lang included
	mustApply(t, s, "/f", del("urn:x", "b"), del("urn:x", "never-set"))
	if got, want := show(mustGet(t, s, "/f")), "{urn:x}a=one {urn:y}a=other ns"; got != want {
		t.Errorf("Get = %s, want %s", got, want)
	}
	// Patches apply in order.
	mustApply(t, s, "/f", set("urn:x", "c", "c"), del("urn:x", "c"), del("urn:x", "d"), set("urn:x", "d", "d"))
	if got, want := show(mustGet(t, s, "/f")), "{urn:x}a=one {urn:x}d=d {urn:y}a=other ns"; got != want {
		t.Errorf("Get = %s, want %s", got, want)
	}
	mustApply(t, s, "/f")
	mustApply(t, s, "/f", del("urn:x", "a"), del("urn:x", "d"), del("urn:y", "a"))
	if ps := mustGet(t, s, "/f"); len(ps) != 0 {
		t.Errorf("Get after removing all = %s", show(ps))
	}
}

func testAllOrNothing(t *testing.T, newS New) {
	ctx := context.Background()
	s := newS(t)
	mustApply(t, s, "/p", set("urn:x", "keep", "old"), set("urn:x", "gone", "still here"))
	before := show(mustGet(t, s, "/p"))
	big := strings.Repeat("x", props.MaxValueSize+1)
	for _, patches := range [][]props.Patch{
		{set("urn:x", "keep", "new"), del("urn:x", "gone"), set("urn:x", "big", big)},
		{set("urn:x", "new", "v"), del("urn:x", "gone"), set("urn:x", "", "no local name")},
	} {
		if err := s.Apply(ctx, "/p", patches); err == nil {
			t.Errorf("Apply succeeded, want an error")
		}
		if got := show(mustGet(t, s, "/p")); got != before {
			t.Errorf("failed Apply left %s, want %s", got, before)
		}
	}
}

func testLimits(t *testing.T, newS New) {
	ctx := context.Background()
	s := newS(t)
	mustApply(t, s, "/v", set("urn:x", "max", strings.Repeat("é", props.MaxValueSize/2)))
	if err := s.Apply(ctx, "/v", []props.Patch{set("urn:x", "over", strings.Repeat("x", props.MaxValueSize+1))}); !errors.Is(err, props.ErrTooLarge) {
		t.Errorf("value over MaxValueSize: %v, want ErrTooLarge", err)
	}
	if err := s.Apply(ctx, "/v", []props.Patch{set("urn:x", strings.Repeat("n", props.MaxNameSize), "")}); !errors.Is(err, props.ErrTooLarge) {
		t.Errorf("name over MaxNameSize: %v, want ErrTooLarge", err)
	}

	var fill []props.Patch
	for i := range props.MaxPerResource {
		fill = append(fill, set("urn:n", fmt.Sprintf("p%04d", i), "v"))
	}
	mustApply(t, s, "/n", fill...)
	if err := s.Apply(ctx, "/n", []props.Patch{set("urn:n", "one-more", "v")}); !errors.Is(err, props.ErrTooLarge) {
		t.Errorf("property %d: %v, want ErrTooLarge", props.MaxPerResource+1, err)
	}
	// Replacing, or adding after removing, stays within the limit.
	mustApply(t, s, "/n", set("urn:n", "p0000", "replaced"))
	mustApply(t, s, "/n", del("urn:n", "p0001"), set("urn:n", "one-more", "v"))
	if n := len(mustGet(t, s, "/n")); n != props.MaxPerResource {
		t.Errorf("%d properties, want %d", n, props.MaxPerResource)
	}
	// The limit is per resource.
	mustApply(t, s, "/n/child", set("urn:n", "c", "v"))
}

func testInvalid(t *testing.T, newS New) {
	ctx := context.Background()
	s := newS(t)
	for _, p := range []string{"", "a", "/a/", "/a/../b", "/a\x00b"} {
		if _, err := s.Get(ctx, p); err == nil {
			t.Errorf("Get(%q) succeeded", p)
		}
		if err := s.Apply(ctx, p, []props.Patch{set("urn:x", "a", "")}); err == nil {
			t.Errorf("Apply(%q) succeeded", p)
		}
		if err := s.Delete(ctx, p); err == nil {
			t.Errorf("Delete(%q) succeeded", p)
		}
		if err := s.Copy(ctx, "/", p, true); err == nil {
			t.Errorf("Copy to %q succeeded", p)
		}
		if err := s.Move(ctx, p, "/x"); err == nil {
			t.Errorf("Move from %q succeeded", p)
		}
	}
	for _, n := range []xml.Name{name("urn:x", ""), name("urn:\x00", "a"), name("urn:x", "a\x00b")} {
		if err := s.Apply(ctx, "/a", []props.Patch{{Prop: props.Property{Name: n}}}); err == nil {
			t.Errorf("Apply of name %q succeeded", n)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Get(cctx, "/a"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with canceled context = %v", err)
	}
}

// treePaths are the resources testTrees populates and inspects. "/a.txt"
// and "/a-b" sort between "/a" and "/a/" byte-wise; "/ab" shares a prefix.
var treePaths = []string{"/", "/a", "/a/b", "/a/b/c", "/a.txt", "/a-b", "/ab", "/ab/x", "/z", "/z/old", "/z/b"}

// fill gives every path in ps one property whose value is the path.
func fill(t *testing.T, s props.Store, ps ...string) {
	for _, p := range ps {
		mustApply(t, s, p, set("urn:t", "p", p), set("", "q", p))
	}
}

// state maps each of treePaths to the "p" values it holds.
func state(t *testing.T, s props.Store) string {
	var out []string
	for _, p := range treePaths {
		ps := mustGet(t, s, p)
		if len(ps) == 0 {
			continue
		}
		if len(ps) != 2 || string(ps[0].Inner) != string(ps[1].Inner) {
			t.Errorf("%s: %s", p, show(ps))
		}
		out = append(out, p+"="+string(ps[0].Inner))
	}
	return strings.Join(out, " ")
}

func testTrees(t *testing.T, newS New) {
	ctx := context.Background()
	base := []string{"/", "/a", "/a/b", "/a/b/c", "/a.txt", "/a-b", "/ab", "/ab/x", "/z", "/z/old"}
	tests := []struct {
		name string
		op   func(s props.Store) error
		want string
	}{
		{"CopyTree", func(s props.Store) error { return s.Copy(ctx, "/a", "/z", true) },
			"/=/ /a=/a /a/b=/a/b /a/b/c=/a/b/c /a.txt=/a.txt /a-b=/a-b /ab=/ab /ab/x=/ab/x /z=/a /z/b=/a/b"},
		{"CopyOne", func(s props.Store) error { return s.Copy(ctx, "/a", "/z", false) },
			"/=/ /a=/a /a/b=/a/b /a/b/c=/a/b/c /a.txt=/a.txt /a-b=/a-b /ab=/ab /ab/x=/ab/x /z=/a"},
		{"CopyToPrefixSibling", func(s props.Store) error { return s.Copy(ctx, "/a", "/ab", true) },
			"/=/ /a=/a /a/b=/a/b /a/b/c=/a/b/c /a.txt=/a.txt /a-b=/a-b /ab=/a /z=/z /z/old=/z/old"},
		{"CopyRootOne", func(s props.Store) error { return s.Copy(ctx, "/", "/z", false) },
			"/=/ /a=/a /a/b=/a/b /a/b/c=/a/b/c /a.txt=/a.txt /a-b=/a-b /ab=/ab /ab/x=/ab/x /z=/"},
		{"CopyEmptySource", func(s props.Store) error { return s.Copy(ctx, "/none", "/z", true) },
			"/=/ /a=/a /a/b=/a/b /a/b/c=/a/b/c /a.txt=/a.txt /a-b=/a-b /ab=/ab /ab/x=/ab/x"},
		{"Move", func(s props.Store) error { return s.Move(ctx, "/a", "/z") },
			"/=/ /a.txt=/a.txt /a-b=/a-b /ab=/ab /ab/x=/ab/x /z=/a /z/b=/a/b"},
		{"MoveIntoPrefixSibling", func(s props.Store) error { return s.Move(ctx, "/a/b", "/ab/x") },
			"/=/ /a=/a /a.txt=/a.txt /a-b=/a-b /ab=/ab /ab/x=/a/b /z=/z /z/old=/z/old"},
		{"MoveBack", func(s props.Store) error {
			if err := s.Move(ctx, "/a", "/m"); err != nil {
				return err
			}
			return s.Move(ctx, "/m", "/a")
		}, "/=/ /a=/a /a/b=/a/b /a/b/c=/a/b/c /a.txt=/a.txt /a-b=/a-b /ab=/ab /ab/x=/ab/x /z=/z /z/old=/z/old"},
		{"Delete", func(s props.Store) error { return s.Delete(ctx, "/a") },
			"/=/ /a.txt=/a.txt /a-b=/a-b /ab=/ab /ab/x=/ab/x /z=/z /z/old=/z/old"},
		{"DeleteLeaf", func(s props.Store) error { return s.Delete(ctx, "/a/b/c") },
			"/=/ /a=/a /a/b=/a/b /a.txt=/a.txt /a-b=/a-b /ab=/ab /ab/x=/ab/x /z=/z /z/old=/z/old"},
		{"DeleteRoot", func(s props.Store) error { return s.Delete(ctx, "/") }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newS(t)
			fill(t, s, base...)
			if err := tt.op(s); err != nil {
				t.Fatal(err)
			}
			if got := state(t, s); got != tt.want {
				t.Errorf("after %s:\n got %s\nwant %s", tt.name, got, tt.want)
			}
			// The copies are independent of their sources.
			mustApply(t, s, "/a", set("urn:t", "p", "changed"), set("", "q", "changed"))
			for _, p := range []string{"/z", "/ab"} {
				if ps := mustGet(t, s, p); len(ps) > 0 && string(ps[0].Inner) == "changed" {
					t.Errorf("%s follows changes to /a", p)
				}
			}
		})
	}
	t.Run("LangAndBytesSurvive", func(t *testing.T) {
		s := newS(t)
		p := props.Property{Name: name("urn:x", "l"), Lang: "de-CH", Inner: []byte("Grüezi <b xmlns=\"\">!</b>")}
		mustApply(t, s, "/a/b", props.Patch{Prop: p})
		if err := s.Copy(ctx, "/a", "/c", true); err != nil {
			t.Fatal(err)
		}
		if err := s.Move(ctx, "/c", "/d"); err != nil {
			t.Fatal(err)
		}
		got := mustGet(t, s, "/d/b")
		if len(got) != 1 || got[0].Name != p.Name || got[0].Lang != p.Lang || !bytes.Equal(got[0].Inner, p.Inner) {
			t.Errorf("after copy and move: %s, want %s", show(got), show([]props.Property{p}))
		}
	})
}

func testConcurrent(t *testing.T, newS New) {
	ctx := context.Background()
	s := newS(t)
	const workers, rounds = 8, 50
	var wg sync.WaitGroup
	errc := make(chan error, workers*rounds)
	for w := range workers {
		wg.Go(func() {
			own := fmt.Sprintf("/w%d", w)
			for i := range rounds {
				v := fmt.Sprint(i)
				if err := s.Apply(ctx, own, []props.Patch{set("urn:c", "a", v), set("urn:c", "b", v)}); err != nil {
					errc <- err
				}
				if err := s.Apply(ctx, "/shared", []props.Patch{set("urn:c", "a", own+v), set("urn:c", "b", own+v)}); err != nil {
					errc <- err
				}
				ps, err := s.Get(ctx, "/shared")
				if err != nil {
					errc <- err
				} else if len(ps) != 2 || !bytes.Equal(ps[0].Inner, ps[1].Inner) {
					errc <- fmt.Errorf("torn write seen: %s", show(ps))
				}
				if err := s.Copy(ctx, own, own+"/copy", false); err != nil {
					errc <- err
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	for w := range workers {
		if got, want := show(mustGet(t, s, fmt.Sprintf("/w%d", w))), "{urn:c}a=49 {urn:c}b=49"; got != want {
			t.Errorf("/w%d = %s, want %s", w, got, want)
		}
	}
}

// testGetPage: a page read gives, for each path in order, what Get gives,
// including paths without properties and paths that share a prefix.
func testGetPage(t *testing.T, newS New) {
	s := newS(t)
	ctx := context.Background()
	mustApply(t, s, "/a", set("urn:x", "n", "1"), set("urn:x", "m", "<b xmlns=\"urn:y\">2</b>"))
	mustApply(t, s, "/ab", set("urn:x", "n", "3"))
	mustApply(t, s, "/a/c", set("", "plain", "4"))
	paths := []string{"/a", "/missing", "/ab", "/a/c", "/a"}
	page, err := s.GetPage(ctx, paths)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != len(paths) {
		t.Fatalf("GetPage gave %d entries for %d paths", len(page), len(paths))
	}
	for i, p := range paths {
		if got, want := show(page[i]), show(mustGet(t, s, p)); got != want {
			t.Errorf("GetPage entry %d (%s) = %s, Get = %s", i, p, got, want)
		}
	}
	if len(page[1]) != 0 || len(page[0]) != 2 {
		t.Errorf("GetPage: %d properties for /missing, %d for /a; want 0 and 2", len(page[1]), len(page[0]))
	}
	if _, err := s.GetPage(ctx, []string{"/ok", "relative"}); err == nil {
		t.Error("GetPage with an invalid path succeeded")
	}
	// Pages whose paths share a folder, as a listing's do: with properties
	// on one member only, on the folder's neighbours only (a name that
	// extends the shared part), and on none.
	mustApply(t, s, "/d/f2", set("urn:x", "n", "5"))
	mustApply(t, s, "/d/f10x", set("urn:x", "n", "6"))
	mustApply(t, s, "/e0", set("urn:x", "n", "7"))
	for _, pg := range []struct {
		paths []string
		want  []int
	}{
		{[]string{"/d/f1", "/d/f2", "/d/f3"}, []int{0, 1, 0}},
		{[]string{"/d/f10", "/d/f11", "/d/f1"}, []int{0, 0, 0}},
		{[]string{"/e/a", "/e/b"}, []int{0, 0}},
		{[]string{"/e"}, []int{0}},
		{[]string{"/d/f2", "/d/f2"}, []int{1, 1}},
	} {
		page, err := s.GetPage(ctx, pg.paths)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range pg.paths {
			if len(page[i]) != pg.want[i] {
				t.Errorf("GetPage(%q): %d properties for %s, want %d", pg.paths, len(page[i]), p, pg.want[i])
			}
		}
	}
	// A folder Windows filled: the same four names on every file, and
	// then more names, more than a store keeps at hand, in three
	// namespaces, each value its own; more properties than one block of
	// a page holds, and a resource with none among them.
	const ms = "urn:schemas-microsoft-com:"
	var wpaths []string
	want := map[string]int{}
	for i := range 60 {
		p := fmt.Sprintf("/w/f%02d", i)
		wpaths = append(wpaths, p)
		if i == 30 {
			continue
		}
		v := strconv.Itoa(i)
		patches := []props.Patch{
			set(ms, "Win32CreationTime", "c"+v), set(ms, "Win32LastAccessTime", "a"+v),
			set(ms, "Win32LastModifiedTime", "m"+v), set(ms, "Win32FileAttributes", "f"+v),
		}
		for j := range i % 25 {
			patches = append(patches, set("urn:x", fmt.Sprintf("x%02d", j), v+"."+strconv.Itoa(j)))
		}
		if i%7 == 0 {
			patches = append(patches, set("urn:z", "x00", "z"+v))
		}
		mustApply(t, s, p, patches...)
		want[p] = len(patches)
	}
	page, err = s.GetPage(ctx, wpaths)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range wpaths {
		if len(page[i]) != want[p] {
			t.Errorf("GetPage of /w: %d properties for %s, want %d", len(page[i]), p, want[p])
		}
		if got, want := show(page[i]), show(mustGet(t, s, p)); got != want {
			t.Errorf("GetPage of /w, %s = %s, Get = %s", p, got, want)
		}
	}
}
