package batch

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/davit-dav/davit/internal/xmlbody"
)

// The batch document and B-method parsers take untrusted bodies. Their
// fuzz targets check that nothing panics, that a document is either
// refused with a docError (400), errTooMany (413) or the XML reader's
// error, or comes out of finish in the shape the runner relies on:
// unique ids, dependencies on earlier items, a known method, paths that
// are absolute and free of query and fragment, header values without a
// line break, and every body a well-formed XML document whose root is the
// method's DAV: element.

const fuzzMaxItems = 50

var xmlSeeds = []string{
	`<batch xmlns="urn:davit:batch"><item method="DELETE" href="a"/></batch>`,
	`<batch xmlns="urn:davit:batch" xmlns:D="DAV:" stop-on-error="true" dry-run="0">
	  <item id="mk" method="MKCOL" href="x/"/>
	  <item id="c" method="copy" href="/a b" destination="http://h/x/a%20b" overwrite="F" depends="mk"/>
	  <item method="PROPPATCH" href="x/a%20b"><D:propertyupdate><D:set><D:prop><s xmlns="urn:t" xml:lang="en">v</s></D:prop></D:set></D:propertyupdate></item>
	  <item method="PROPFIND" href="x/" depth="1"><D:propfind><D:prop><D:getetag/></D:prop></D:propfind></item>
	  <item id="l" method="LOCK" href="x/a%20b" timeout="Second-60"><D:lockinfo><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><a xmlns="urn:o">me</a></D:owner></D:lockinfo></item>
	  <item method="UNLOCK" href="x/a%20b" lock-token="opaquelocktoken:1"/>
	  <item method="LOCK" href="x" if="(&lt;opaquelocktoken:1&gt;)"/>
	</batch>`,
	`<batch xmlns="urn:davit:batch"><item method="MOVE" href="../../etc/passwd" destination="/%2e%2e/x"/></batch>`,
	`<batch xmlns="urn:davit:batch"><item method="DELETE" href="a?q#f"/></batch>`,
	`<batch xmlns="urn:davit:batch"><item method="DELETE" href="a" depends="b"/><item id="b" method="DELETE" href="b"/></batch>`,
	`<batch xmlns="urn:davit:batch"><item method="DELETE" href="a" if="x&#13;&#10;Evil: 1"/></batch>`,
	`<batch xmlns="urn:davit:batch"><item method="DELETE" href="a">text</item></batch>`,
	`<batch xmlns="urn:other"/>`,
	`<?xml version="1.0" encoding="UTF-16"?><batch xmlns="urn:davit:batch"/>`,
	`<!DOCTYPE b [<!ENTITY e "e">]><batch xmlns="urn:davit:batch"><item method="DELETE" href="&e;"/></batch>`,
}

var jsonSeeds = []string{
	`{"items":[{"method":"DELETE","href":"a"}]}`,
	`{"stop-on-error":true,"dry-run":true,"items":[
	  {"id":"mk","method":"MKCOL","href":"x/"},
	  {"id":"c","method":"COPY","href":"a","destination":"x/a","overwrite":false,"depends":["mk"]},
	  {"method":"PROPPATCH","href":"x/a","set":{"{urn:t}s":"v <&>","displayname":"D"},"remove":["{urn:t}r"]},
	  {"method":"PROPFIND","href":"x/","depth":1,"props":["{DAV:}getetag","{urn:t}s"]},
	  {"method":"PROPFIND","href":"x/","depth":"infinity","props":[]},
	  {"method":"LOCK","href":"x/a","lock":{"scope":"shared","owner":"me & you"},"timeout":"Infinite"},
	  {"method":"UNLOCK","href":"x/a","lock-token":"opaquelocktoken:1"},
	  {"method":"PROPPATCH","href":"x/a","body":"<propertyupdate xmlns='DAV:'><remove><prop><x xmlns='urn:x'/></prop></remove></propertyupdate>"}
	]}`,
	`{"items":[{"method":"PROPPATCH","href":"a","set":{"{urn:x}a b":"v"}}]}`,
	`{"items":[{"method":"PROPPATCH","href":"a","set":{"{urn:x\"><evil/>}a":"v"}}]}`,
	`{"items":[{"method":"DELETE","href":"a","if":"x\r\nEvil: 1"}]}`,
	`{"items":[{"method":"DELETE","href":"a"}]} {}`,
	`{"items":[{"method":"DELETE","href":"a","unknown":1}]}`,
	`{"items":[{"method":"PROPFIND","href":"a","depth":[1]}]}`,
}

var targetSeeds = []struct{ body, root string }{
	{`<D:delete xmlns:D="DAV:"><D:target><D:href>a</D:href><D:href>/b/</D:href></D:target></D:delete>`, ""},
	{`<D:copy xmlns:D="DAV:"><D:target><D:href>a</D:href><D:dest>b</D:dest></D:target></D:copy>`, ""},
	{`<D:propfind xmlns:D="DAV:"><D:target><D:href>a</D:href></D:target><D:prop><D:getetag/><x xmlns="urn:x" xml:lang="fr"/></D:prop></D:propfind>`, "propfind"},
	{`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x xmlns="urn:x">1</x></D:prop></D:set><D:target><D:href>a</D:href></D:target></D:propertyupdate>`, "propertyupdate"},
	{`<D:delete xmlns:D="DAV:"><D:target><D:dest>b</D:dest></D:target></D:delete>`, ""},
	{`<D:delete xmlns:D="DAV:"><D:target/></D:delete>`, ""},
	{`<D:propfind xmlns:D="DAV:"><D:target><D:href>a</D:href></D:target><other xmlns=""><y/></other></D:propfind>`, "propfind"},
}

// example returns a document of the repo's examples, as a seed.
func example(f *testing.F, name string) string {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "examples", name))
	if err != nil {
		f.Fatal(err)
	}
	return string(b)
}

func FuzzParseXML(f *testing.F) {
	for _, s := range xmlSeeds {
		f.Add(s)
	}
	f.Add(example(f, "batch.xml"))
	f.Fuzz(func(t *testing.T, s string) {
		doc, err := parseXML(strings.NewReader(s))
		checkParsed(t, s, doc, err)
	})
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add(s)
	}
	f.Add(example(f, "batch.json"))
	f.Fuzz(func(t *testing.T, s string) {
		doc, err := parseJSON(strings.NewReader(s))
		checkParsed(t, s, doc, err)
	})
}

func FuzzParseTargets(f *testing.F) {
	for _, s := range targetSeeds {
		f.Add(s.body, s.root)
	}
	f.Fuzz(func(t *testing.T, s, root string) {
		// Only the roots the B-methods ask for: the caller's, not input.
		if root != "propfind" && root != "propertyupdate" {
			root = ""
		}
		targets, body, err := parseTargets(strings.NewReader(s), root)
		if err != nil {
			if targets != nil || body != nil {
				t.Fatalf("error %v with results %v %q", err, targets, body)
			}
			return
		}
		if len(targets) == 0 {
			t.Fatalf("no target accepted from %q", s)
		}
		switch {
		case root == "" && body != nil:
			t.Fatalf("body %q where none is asked for", body)
		case root != "":
			checkBodyDoc(t, body, root)
		}
	})
}

// checkParsed checks a parsed document, then finishes it and checks the
// result.
func checkParsed(t *testing.T, in string, doc *Document, err error) {
	t.Helper()
	if err != nil {
		if doc != nil {
			t.Fatalf("error %v with a document", err)
		}
		return
	}
	for _, base := range []string{"/", "/dav/a%20b/"} {
		d := &Document{StopOnError: doc.StopOnError, DryRun: doc.DryRun}
		for _, it := range doc.Items {
			c := it
			c.Header = make(map[string]string, len(it.Header))
			for k, v := range it.Header {
				c.Header[k] = v
			}
			d.Items = append(d.Items, c)
		}
		err := d.finish(base, fuzzMaxItems)
		var de *docError
		switch {
		case err == nil:
			checkFinished(t, in, base, d)
		case errors.As(err, &de), errors.Is(err, errTooMany):
		default:
			t.Fatalf("finish: %v is neither a document error nor too many items", err)
		}
	}
}

func checkFinished(t *testing.T, in, base string, d *Document) {
	t.Helper()
	if len(d.Items) == 0 || len(d.Items) > fuzzMaxItems {
		t.Fatalf("%d items accepted", len(d.Items))
	}
	seen := map[string]bool{}
	for i, it := range d.Items {
		if it.ID == "" || seen[it.ID] {
			t.Fatalf("item %d: id %q empty or repeated", i+1, it.ID)
		}
		for _, dep := range it.Depends {
			if !seen[dep] {
				t.Fatalf("item %d depends on %q, not an earlier item", i+1, dep)
			}
		}
		seen[it.ID] = true
		root, ok := methods[it.Method]
		if !ok {
			t.Fatalf("item %d: method %q accepted", i+1, it.Method)
		}
		paths := []string{it.Path}
		if it.Destination != "" {
			paths = append(paths, it.Destination)
		}
		for _, p := range paths {
			if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#") {
				t.Fatalf("item %d: path %q (base %q, document %q)", i+1, p, base, in)
			}
		}
		if (it.Method == "COPY" || it.Method == "MOVE") != (it.Destination != "") {
			t.Fatalf("item %d: %s with destination %q", i+1, it.Method, it.Destination)
		}
		for k, v := range it.Header {
			if v == "" || strings.ContainsAny(v, "\r\n\x00") {
				t.Fatalf("item %d: header %s: %q", i+1, k, v)
			}
		}
		if it.Body != nil {
			if root == "" {
				t.Fatalf("item %d: %s with a body", i+1, it.Method)
			}
			checkBodyDoc(t, it.Body, root)
		}
	}
}

// checkBodyDoc checks that b is one well-formed XML document whose root
// is DAV:root, read by the same reader the protocol layer uses.
func checkBodyDoc(t *testing.T, b []byte, root string) {
	t.Helper()
	d := xmlbody.NewDecoder(bytes.NewReader(b), xmlbody.Limits{MaxDepth: maxXMLDepth, MaxElements: 1 << 22})
	r, err := d.Root()
	if err != nil {
		t.Fatalf("body %q: %v", b, err)
	}
	if r.Name.Space != "DAV:" || r.Name.Local != root {
		t.Fatalf("body %q: root {%s}%s, want DAV:%s", b, r.Name.Space, r.Name.Local, root)
	}
	if _, err := d.Inner(r); err != nil {
		t.Fatalf("body %q: %v", b, err)
	}
	if err := d.End(); err != nil {
		t.Fatalf("body %q: %v", b, err)
	}
}
