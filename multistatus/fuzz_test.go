package multistatus

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// fuzzLimits are small so that hostile inputs hit them quickly.
var fuzzLimits = Limits{MaxDepth: 16, MaxTokenBytes: 4 << 10, MaxResponseBytes: 64 << 10}

// Allocation bound for reading one input with fuzzLimits: a fixed multiple
// of the input size plus a constant (the decoder's buffers).
const (
	fuzzAllocPerByte = 160
	fuzzAllocBase    = 64 << 10
)

const maxSeed = 16 << 10

func addSeeds(f *testing.F) {
	for _, pattern := range []string{"testdata/corpus/*.xml", "testdata/golden/*.xml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			if len(b) > maxSeed {
				continue // the big listings repeat one shape; they only slow mutation down
			}
			f.Add(b)
		}
	}
	for _, s := range []string{
		``,
		`<D:multistatus xmlns:D="DAV:"/>`,
		`<multistatus xmlns="DAV:"><response><href>/a b</href><status>200</status></response></multistatus>`,
		`<a:multistatus xmlns:a="DAV:"><a:response><a:href>/a</a:href><a:href>/b</a:href><a:status>HTTP/1.0 599 X</a:status><a:error><x xmlns="urn:x"><y/></x></a:error><a:location><a:href>/c</a:href></a:location></a:response></a:multistatus>`,
		`<D:multistatus xmlns:D="DAV:"><D:response><D:href>/</D:href><D:propstat><D:prop><p xmlns="urn:p" xml:lang="en">mixed <c xmlns="">text</c> <D:href>x</D:href></p></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`,
		"\uFEFF<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!DOCTYPE x>\n<!-- c --><D:multistatus xmlns:D=\"DAV:\"><?pi x?><D:responsedescription>all &amp; <b>some</b></D:responsedescription></D:multistatus>\n",
		`<D:multistatus xmlns:D="DAV:" xmlns:q="urn:q"><D:response><D:href> /a%zz b </D:href><D:propstat><D:prop><q:v q:a="1" b='2&#9;' xmlns:r="urn:r" r:c="&lt;">x<![CDATA[<y>]]>&#x1F600;<r:z/></q:v><D:e/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status><D:error><q:cond>t</q:cond></D:error><D:responsedescription>rd</D:responsedescription></D:propstat><D:location><D:href>/l</D:href></D:location></D:response></D:multistatus>`,
		`<D:multistatus xmlns:D="DAV:"><D:response><D:href>/a</D:href><D:propstat><D:prop><a><b><c><d><e><f><g><h><i><j><k><l/></k></j></i></h></g></f></e></d></c></b></a></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`,
		`<D:multistatus xmlns:D="DAV:"><D:response><D:href>/a</D:href><D:href>/b</D:href><D:status>HTTP/1.1 102 Processing</D:status></D:response><D:response><D:href>/c</D:href></D:response></D:multistatus>`,
	} {
		f.Add([]byte(s))
	}
}

// readAll reads every response of doc; complete reports whether the
// document ended properly.
func readAll(doc []byte, lim Limits) (resps []Response, desc string, err error) {
	r := NewReaderLimits(bytes.NewReader(doc), lim)
	for {
		resp, err := r.Next()
		if err == io.EOF {
			return resps, r.ResponseDescription(), nil
		}
		if err != nil {
			return resps, "", err
		}
		resps = append(resps, *resp)
	}
}

func FuzzReader(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, doc []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		resps, desc, err := readAll(doc, fuzzLimits)
		runtime.ReadMemStats(&after)
		if alloc, bound := after.TotalAlloc-before.TotalAlloc, uint64(fuzzAllocPerByte*len(doc)+fuzzAllocBase); alloc > bound {
			t.Fatalf("reading %d bytes allocated %d bytes, more than %d", len(doc), alloc, bound)
		}
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T) is not a *SyntaxError", err, err)
			}
			if se.Line < 1 || se.Column < 1 || se.Offset < 0 || se.Offset > int64(len(doc)) {
				t.Fatalf("error position out of range: %+v", se)
			}
			return
		}

		// Fixed point: write what the Writer accepts, read it back.
		var kept []Response
		var out bytes.Buffer
		w := NewWriter(&out)
		w.ResponseDescription = desc
		for i := range resps {
			if err := w.Write(&resps[i]); err != nil {
				if !errors.Is(err, ErrInvalid) || validate(&resps[i]) == nil {
					t.Fatalf("Write(%+v): %v", resps[i], err)
				}
				continue // a response the Writer refuses by design (1xx, no status...)
			}
			kept = append(kept, resps[i])
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		written := out.String()
		back, err := Decode(strings.NewReader(written))
		if err != nil {
			t.Fatalf("the Writer's output does not read back: %v\ninput:  %q\noutput: %q", err, doc, written)
		}
		want := normalize(&Multistatus{Responses: kept, ResponseDescription: desc})
		if !reflect.DeepEqual(back, want) {
			t.Fatalf("read, write, read is not a fixed point\ninput: %q\nwritten: %q\n got %s\nwant %s", doc, written, dump(back), dump(want))
		}
		if again := encodeString(t, back); again != written {
			t.Fatalf("writing again differs\n%q\n%q", written, again)
		}
	})
}

func FuzzParseStatus(f *testing.F) {
	for _, s := range []string{"HTTP/1.1 200 OK", "HTTP/1.0 404 Not Found", "599", "HTTP/1.1", " HTTP/1.1  207  Multi-Status ", "HTTP/1.1 2000", "200OK", "\t423\tLocked\n", "HTTP/ 200", "HTTP/1.1 099"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		s, err := ParseStatus(line)
		if err != nil {
			if s != (Status{}) {
				t.Fatalf("ParseStatus(%q) = %+v with error %v", line, s, err)
			}
			return
		}
		if s.Code < 100 || s.Code > 999 {
			t.Fatalf("ParseStatus(%q): code %d out of range", line, s.Code)
		}
		if s.Reason != strings.TrimSpace(s.Reason) {
			t.Fatalf("ParseStatus(%q): reason %q not trimmed", line, s.Reason)
		}
		if strings.ContainsAny(s.Proto, " \t") || (s.Proto != "" && !strings.HasPrefix(s.Proto, "HTTP/")) {
			t.Fatalf("ParseStatus(%q): protocol %q", line, s.Proto)
		}
		if !strings.Contains(line, s.Reason) || !strings.Contains(line, s.Proto) {
			t.Fatalf("ParseStatus(%q) = %+v: not taken from the line", line, s)
		}
		// The Writer's form of it reads back the same.
		back, err := ParseStatus(s.String())
		if err != nil {
			t.Fatalf("ParseStatus(%q) = %+v, whose String %q does not parse: %v", line, s, s.String(), err)
		}
		if back != normStatus(s) {
			t.Fatalf("ParseStatus(%q) = %+v; String %q reads back as %+v", line, s, s.String(), back)
		}
	})
}
