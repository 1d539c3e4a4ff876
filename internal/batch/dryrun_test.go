package batch_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/davit-dav/davit/internal/batch"
)

// dryDoc exercises every method; its items see the effects of the earlier
// ones (sub/ is made, then copied into).
func dryDoc(tok, opts string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<batch xmlns="urn:davit:batch" xmlns:D="DAV:" ` + opts + `>
  <item id="mk" method="MKCOL" href="sub/"/>
  <item id="cp" method="COPY" href="a.txt" destination="sub/a.txt"/>
  <item id="cp-again" method="COPY" href="a.txt" destination="sub/a.txt" overwrite="F"/>
  <item id="cp-over" method="COPY" href="c.txt" destination="sub/a.txt"/>
  <item id="del" method="DELETE" href="b.txt"/>
  <item id="del-again" method="DELETE" href="b.txt"/>
  <item id="missing" method="DELETE" href="nothere.txt"/>
  <item id="dep" method="MKCOL" href="z/" depends="missing"/>
  <item id="orphan" method="MKCOL" href="nope/deeper/"/>
  <item id="exists" method="MKCOL" href="sub/"/>
  <item id="locked" method="DELETE" href="locked.txt"/>
  <item id="locked-move" method="MOVE" href="c.txt" destination="locked.txt"/>
  <item id="if-ok" method="PROPPATCH" href="locked.txt" if="(&lt;` + tok + `&gt;)">
    <D:propertyupdate><D:set><D:prop><k xmlns="urn:x">v</k></D:prop></D:set></D:propertyupdate>
  </item>
  <item id="if-tagged" method="PROPPATCH" href="locked.txt" if="&lt;/dir/locked.txt&gt; (&lt;` + tok + `&gt;)">
    <D:propertyupdate><D:set><D:prop><k xmlns="urn:x">w</k></D:prop></D:set></D:propertyupdate>
  </item>
  <item id="if-bad" method="PROPPATCH" href="a.txt" if="(&lt;urn:uuid:00000000-0000-0000-0000-000000000000&gt;)">
    <D:propertyupdate><D:set><D:prop><k xmlns="urn:x">v</k></D:prop></D:set></D:propertyupdate>
  </item>
  <item id="if-match" method="DELETE" href="c.txt" if-match="&quot;nope&quot;"/>
  <item id="protected" method="PROPPATCH" href="a.txt">
    <D:propertyupdate><D:set><D:prop><D:getetag>x</D:getetag></D:prop></D:set></D:propertyupdate>
  </item>
  <item id="mv" method="MOVE" href="c.txt" destination="moved.txt"/>
  <item id="mv-gone" method="MOVE" href="c.txt" destination="x.txt"/>
  <item id="mv-into-self" method="MOVE" href="sub/" destination="sub/inner/"/>
  <item id="cp-below-copy" method="COPY" href="sub/a.txt" destination="a2.txt"/>
  <item id="pf" method="PROPFIND" href="a.txt" depth="0"><D:propfind><D:prop><D:getcontentlength/></D:prop></D:propfind></item>
  <item id="unlock-bad" method="UNLOCK" href="a.txt" lock-token="urn:uuid:00000000-0000-0000-0000-000000000000"/>
  <item id="lock-conflict" method="LOCK" href="locked.txt">
    <D:lockinfo><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>
  </item>
  <item id="refresh" method="LOCK" href="locked.txt" if="(&lt;` + tok + `&gt;)"/>
  <item id="unlock" method="UNLOCK" href="locked.txt" lock-token="` + tok + `"/>
  <item id="lock" method="LOCK" href="a.txt"><D:lockinfo><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo></item>
  <item id="lock-new" method="LOCK" href="new.txt"><D:lockinfo><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo></item>
  <item id="lock-orphan" method="LOCK" href="nope/new.txt"><D:lockinfo><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo></item>
</batch>`
}

// TestDryRun: the dry run changes nothing (the whole tree with its
// properties and locks is the same before and after, and the wrapped
// handler saw nothing but PROPFIND), and what it predicts is what the
// real run then does.
func TestDryRun(t *testing.T) {
	e := newEnv(t, batch.Options{})
	tok := fixture(e)
	before := e.tree()
	e.resetSeen()
	w := e.do("POST", "/dir/", dryDoc(tok, `dry-run="true"`), "Content-Type", xmlType)
	dry := byID(decode(t, w))
	for _, m := range e.seenMethods() {
		if !strings.HasPrefix(m, "PROPFIND ") {
			t.Fatalf("the dry run sent %s", m)
		}
	}
	if after := e.tree(); after != before {
		t.Fatalf("the dry run changed the tree\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if !strings.Contains(w.Body.String(), "dry run: nothing was changed") {
		t.Errorf("no dry-run description: %s", w.Body.String())
	}
	want := map[string][]int{
		"mk": {201}, "cp": {201}, "cp-again": {412}, "cp-over": {204}, "del": {204}, "del-again": {404},
		"missing": {404}, "dep": {424}, "orphan": {409}, "exists": {405}, "locked": {423}, "locked-move": {423},
		"if-ok": {200}, "if-tagged": {200}, "if-bad": {412}, "if-match": {412}, "protected": {403},
		"mv": {201}, "mv-gone": {404}, "mv-into-self": {403}, "cp-below-copy": {201}, "pf": {200},
		"unlock-bad": {409}, "lock-conflict": {423}, "refresh": {200}, "unlock": {204},
		"lock": {200}, "lock-new": {201}, "lock-orphan": {409},
	}
	if !reflect.DeepEqual(dry, want) {
		t.Fatalf("dry run\n got %v\nwant %v\n%s", dry, want, w.Body.String())
	}

	// The real run gets what the dry run said.
	w = e.do("POST", "/dir/", dryDoc(tok, ""), "Content-Type", xmlType)
	if real := byID(decode(t, w)); !reflect.DeepEqual(real, dry) {
		t.Fatalf("real run differs from the dry run\nreal %v\n dry %v\n%s", real, dry, w.Body.String())
	}
}

// TestDryRunLimits documents what the dry run cannot see: write rights
// (its probes are reads) and locks on members of a collection.
func TestDryRunLimits(t *testing.T) {
	e := newEnv(t, batch.Options{})
	e.mkcol("/d/")
	e.mkcol("/d/c/")
	e.put("/d/c/m.txt", "m")
	e.lock("/d/c/m.txt", "0")
	e.putDirect("/readonly/r.txt", "r")
	doc := `<batch xmlns="urn:davit:batch"><item id="ro" method="DELETE" href="/readonly/r.txt"/><item id="member" method="DELETE" href="c/"/></batch>`
	dry := byID(decode(t, e.do("POST", "/d/", doc, "Content-Type", xmlType, batch.HeaderOptions, "dry-run")))
	real := byID(decode(t, e.do("POST", "/d/", doc, "Content-Type", xmlType)))
	if want := map[string][]int{"ro": {204}, "member": {204}}; !reflect.DeepEqual(dry, want) {
		t.Fatalf("dry %v", dry)
	}
	if want := map[string][]int{"ro": {403}, "member": {423}}; !reflect.DeepEqual(real, want) {
		t.Fatalf("real %v", real)
	}
	// A read the user may not do is seen.
	r := req("POST", "/d/", `<batch xmlns="urn:davit:batch" dry-run="true"><item method="DELETE" href="c/"/></batch>`, "Content-Type", xmlType)
	r.SetBasicAuth("nobody", "x")
	if w := e.serve(r); w.Code != http.StatusUnauthorized {
		t.Fatalf("dry run without credentials: %d", w.Code)
	}
}
