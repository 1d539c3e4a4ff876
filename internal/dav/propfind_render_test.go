package dav

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/davit-dav/davit/internal/lock"
	"github.com/davit-dav/davit/internal/props"
	"github.com/davit-dav/davit/internal/storage"
	"github.com/davit-dav/davit/multistatus"
)

// quotaMem is a MemFS that knows its space, for the quota properties.
type quotaMem struct{ *storage.MemFS }

func (quotaMem) Quota(context.Context) (available, used int64, err error) { return 1 << 30, 12345, nil }

// TestRenderMatchesGeneral: the responses render writes are byte for byte
// those writeGeneral writes through multistatus.Response values, and read
// back the same with the multistatus Reader and with encoding/xml, for
// every kind of request and a table of resources.
func TestRenderMatchesGeneral(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	mod := time.Date(2025, 12, 31, 23, 59, 58, 123, time.FixedZone("x", 3600))

	type entry struct {
		name string
		path string
		info storage.Info
		dead []props.Property
	}
	file := func(p, etag string, size int64) storage.Info {
		return storage.Info{Name: p[strings.LastIndexByte(p, '/')+1:], Path: p, Size: size, ModTime: mod, ETag: etag}
	}
	dir := func(p string) storage.Info {
		return storage.Info{Name: p[strings.LastIndexByte(p, '/')+1:], Path: p, ModTime: mod, IsDir: true}
	}
	dead := []props.Property{
		{Name: xml.Name{Space: "DAV:", Local: "displayname"}, Inner: []byte("Dead &amp; named")},
		{Name: xml.Name{Space: "DAV:", Local: "getetag"}, Inner: []byte(`"shadowed"`)},
		{Name: xml.Name{Space: "DAV:", Local: "unknown-dav"}, Inner: []byte("x")},
		{Name: xml.Name{Space: "urn:x", Local: "color"}, Lang: "fr", Inner: []byte(`rouge <b xmlns="urn:x">vif</b>`)},
		{Name: xml.Name{Space: "urn:q\"&<", Local: "empty"}},
		{Name: xml.Name{Space: "", Local: "nons"}, Inner: []byte("no namespace")},
	}
	entries := []entry{
		{name: "root", path: "/", info: storage.Info{Path: "/", ModTime: mod, IsDir: true}},
		{name: "file", path: "/d100/f000011.txt", info: file("/d100/f000011.txt", `"e3fe0-40-18ea32d70c69b919"`, 64)},
		{name: "collection", path: "/d100", info: dir("/d100")},
		{name: "no extension", path: "/a/README", info: file("/a/README", `"1"`, 0)},
		{name: "unknown extension", path: "/a/x.zzzunknown", info: file("/a/x.zzzunknown", `"2"`, 1<<40)},
		{name: "escaping", path: "/Café & co/<a> \"q\" 'b'.html", info: file("/Café & co/<a> \"q\" 'b'.html", `W/"x&y<z>"`, 7)},
		{name: "percent", path: "/100% sure/a b?c#d;e=f@g:h", info: file("/100% sure/a b?c#d;e=f@g:h", `"p"`, 1)},
		{name: "percent collection", path: "/日本 😀/sub dir", info: dir("/日本 😀/sub dir")},
		{name: "control and invalid utf-8", path: "/bad\x01\r\n\xff\xfe.txt", info: file("/bad\x01\r\n\xff\xfe.txt", "\"\x02\"", 2)},
		{name: "old date", path: "/old.txt", info: storage.Info{Name: "old.txt", Path: "/old.txt", ModTime: time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC), ETag: `"o"`}},
		{name: "file with dead properties", path: "/dead.txt", info: file("/dead.txt", `"d"`, 3), dead: dead},
		{name: "collection with dead properties", path: "/deaddir", info: dir("/deaddir"), dead: dead},
		{name: "locked file", path: "/locked/f.txt", info: file("/locked/f.txt", `"l"`, 4)},
		{name: "locked collection", path: "/locked", info: dir("/locked")},
		{name: "shared lock", path: "/shared.txt", info: file("/shared.txt", `"s"`, 5), dead: dead[3:4]},
		{name: "same instant elsewhere", path: "/z.txt", info: storage.Info{Name: "z.txt", Path: "/z.txt", ModTime: mod.In(time.UTC), ETag: `"z"`}},
		{name: "next second", path: "/z.json", info: storage.Info{Name: "z.json", Path: "/z.json", ModTime: mod.Add(time.Second), ETag: `"z"`}},
		{name: "sub-second later", path: "/z.txt", info: storage.Info{Name: "z.txt", Path: "/z.txt", ModTime: mod.Add(time.Second + 999*time.Millisecond), ETag: `"z"`}},
		{name: "before 1970", path: "/z.TXT", info: storage.Info{Name: "z.TXT", Path: "/z.TXT", ModTime: time.Date(1969, 12, 31, 23, 59, 59, 500, time.UTC), ETag: `"z"`}},
	}

	names := func(locals ...string) []xml.Name {
		var out []xml.Name
		for _, l := range locals {
			if i := strings.IndexByte(l, ' '); i >= 0 {
				out = append(out, xml.Name{Space: l[:i], Local: l[i+1:]})
			} else {
				out = append(out, davName(l))
			}
		}
		return out
	}
	allLive := []string{"creationdate", "displayname", "getcontentlength", "getcontenttype", "getetag",
		"getlastmodified", "resourcetype", "supportedlock", "lockdiscovery", "quota-available-bytes", "quota-used-bytes"}
	requests := []struct {
		name string
		req  propfindRequest
	}{
		{"allprop", propfindRequest{kind: allProp}},
		{"propname", propfindRequest{kind: propName}},
		{"named4", propfindRequest{kind: namedProps, names: names("getcontentlength", "getlastmodified", "resourcetype", "getetag")}},
		{"named all live", propfindRequest{kind: namedProps, names: names(allLive...)}},
		{"named dead and missing", propfindRequest{kind: namedProps, names: names("urn:x color", "displayname", "urn:x missing", " nons", "unknown-dav", "getetag", "urn:q\"&< empty")}},
		{"named missing only", propfindRequest{kind: namedProps, names: names("urn:x missing", "nothing")}},
		{"named none", propfindRequest{kind: namedProps}},
	}

	for _, quota := range []bool{false, true} {
		for _, prefix := range []string{"", "/dav", "/a&b c"} {
			mem := storage.NewMem()
			var fs storage.FS = mem
			if quota {
				fs = quotaMem{mem}
			}
			for _, d := range []string{"/locked", "/d100"} {
				if err := mem.Mkdir(ctx, d); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range []string{"/locked/f.txt", "/shared.txt"} {
				if _, _, err := mem.Put(ctx, f, strings.NewReader("x"), storage.PutOptions{ExpectedSize: 1}); err != nil {
					t.Fatal(err)
				}
			}
			locks := lock.NewMemory(lock.Options{Now: func() time.Time { return now }, MaxTimeout: -1})
			for _, l := range []lock.Lock{
				{Root: "/locked", Depth: lock.Infinity, Exclusive: true, Owner: []byte(`<D:href>mailto:a@example.com</D:href>`), Timeout: time.Hour},
				{Root: "/shared.txt", Owner: []byte("me &amp; you")},
				{Root: "/shared.txt", Timeout: 90 * time.Second},
			} {
				if _, err := locks.Create(ctx, l); err != nil {
					t.Fatal(err)
				}
			}
			h := New(Config{FS: fs, Locks: locks, Props: props.NewMemory(), Prefix: prefix, Now: func() time.Time { return now },
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			for _, rq := range requests {
				for _, e := range entries {
					name := fmt.Sprintf("quota=%v/prefix=%q/%s/%s", quota, prefix, rq.name, e.name)
					general := renderOne(t, h, rq.req, e.path, e.info, e.dead, false)
					fast := renderOne(t, h, rq.req, e.path, e.info, e.dead, true)
					if !bytes.Equal(fast, general) {
						t.Errorf("%s: render differs from the general path\n got %s\nwant %s", name, fast, general)
						continue
					}
					checkSameDocument(t, name, fast, general)
				}
				// The whole table as one listing, written by one propWriter
				// on the fast path and by a new one for each resource on
				// the general path, so what a propWriter remembers from one
				// resource to the next is tried too. The fast path is
				// writeWith itself, and the table is listed over and over,
				// past several flushes of the Writer's buffer, so responses
				// that straddle a flush come up.
				docs := [2]bytes.Buffer{}
				for i, fast := range []bool{false, true} {
					ms := multistatus.NewWriter(&docs[i])
					pw := &propWriter{h: h, ctx: ctx, req: rq.req, ms: ms}
					pw.resolveNames()
					for range 150 {
						for _, e := range entries {
							var err error
							if fast {
								err = pw.writeWith(e.path, e.info, e.dead)
							} else {
								pw = &propWriter{h: h, ctx: ctx, req: rq.req, ms: ms}
								err = pw.writeGeneral(e.path, e.info, e.dead)
							}
							if err != nil {
								t.Fatal(err)
							}
						}
					}
					if err := ms.Close(); err != nil {
						t.Fatal(err)
					}
				}
				if !bytes.Equal(docs[1].Bytes(), docs[0].Bytes()) {
					t.Errorf("quota=%v/prefix=%q/%s: listing differs from the general path\n got %s\nwant %s", quota, prefix, rq.name, docs[1].Bytes(), docs[0].Bytes())
				}
			}
		}
	}
}

// renderOne writes the document of one response, through render or
// through writeGeneral.
func renderOne(t *testing.T, h *Handler, req propfindRequest, p string, info storage.Info, dead []props.Property, fast bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	pw := &propWriter{h: h, ctx: context.Background(), req: req, ms: multistatus.NewWriter(&buf)}
	pw.resolveNames()
	// Twice, so buffers reused from one resource to the next are too.
	for range 2 {
		var err error
		if fast {
			err = pw.writeWith(p, info, dead)
		} else {
			err = pw.writeGeneral(p, info, dead)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := pw.ms.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkSameDocument reads both documents with the multistatus Reader and
// with encoding/xml and compares what they hold.
func checkSameDocument(t *testing.T, name string, fast, general []byte) {
	t.Helper()
	read := func(doc []byte) []multistatus.Response {
		r := multistatus.NewReader(bytes.NewReader(doc))
		var out []multistatus.Response
		for {
			resp, err := r.Next()
			if errors.Is(err, io.EOF) {
				return out
			}
			if err != nil {
				t.Fatalf("%s: multistatus Reader: %v\n%s", name, err, doc)
			}
			out = append(out, *resp)
		}
	}
	if got, want := read(fast), read(general); !reflect.DeepEqual(got, want) || len(got) != 2 {
		t.Errorf("%s: Reader reads\n%+v\nwant\n%+v", name, got, want)
	}
	tokens := func(doc []byte) []xml.Token {
		d := xml.NewDecoder(bytes.NewReader(doc))
		var out []xml.Token
		for {
			tok, err := d.Token()
			if err == io.EOF {
				return out
			}
			if err != nil {
				t.Fatalf("%s: encoding/xml: %v\n%s", name, err, doc)
			}
			out = append(out, xml.CopyToken(tok))
		}
	}
	if got, want := tokens(fast), tokens(general); !reflect.DeepEqual(got, want) {
		t.Errorf("%s: encoding/xml reads different tokens", name)
	}
}

// TestChildOf: childOf(dir, p) is parent(p) == dir.
func TestChildOf(t *testing.T) {
	paths := []string{"/", "/a", "/a/b", "/a/b/c", "/ab", "/ab/c", "/a b/c d"}
	for _, dir := range paths {
		for _, p := range paths {
			if got, want := childOf(dir, p), parent(p) == dir; got != want {
				t.Errorf("childOf(%q, %q) = %v, want %v", dir, p, got, want)
			}
		}
	}
}

// FuzzRender: for any resource name, ETag, modification time and dead
// property, render writes what writeGeneral writes, for every kind of
// request.
func FuzzRender(f *testing.F) {
	f.Add("f000011.txt", `"e3fe0-40-18ea32d70c69b919"`, int64(1772532000), false, "urn:x", "color", "fr", "rouge")
	f.Add("Café & co", "", int64(-1), true, "DAV:", "displayname", "", "x &amp; y")
	f.Add("a\x00b\xff", "W/\"<&>\"", int64(1<<40), false, "", "0bad", "\"", "")
	h := New(Config{FS: quotaMem{storage.NewMem()}, Locks: lock.NewMemory(lock.Options{}), Props: props.NewMemory(), Prefix: "/dav",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	f.Fuzz(func(t *testing.T, name, etag string, sec int64, dir bool, space, local, lang, inner string) {
		info := storage.Info{Name: name, Path: "/d/" + name, ModTime: time.Unix(sec, 0), IsDir: dir, ETag: etag, Size: sec}
		var dead []props.Property
		if local != "" {
			dead = []props.Property{{Name: xml.Name{Space: space, Local: local}, Lang: lang, Inner: []byte(multistatus.AppendText(nil, inner))}}
		}
		for _, req := range []propfindRequest{
			{kind: allProp},
			{kind: propName},
			{kind: namedProps, names: []xml.Name{davName("getetag"), davName("displayname"), {Space: space, Local: local}, davName("quota-used-bytes")}},
		} {
			general := renderOne(t, h, req, info.Path, info, dead, false)
			if fast := renderOne(t, h, req, info.Path, info, dead, true); !bytes.Equal(fast, general) {
				t.Fatalf("render differs from the general path\n got %s\nwant %s", fast, general)
			}
		}
	})
}
