package batch_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/davit-dav/davit/internal/batch"
	"github.com/davit-dav/davit/multistatus"
)

// batchTargets are where a batch can be sent: the endpoint and a
// collection by POST (as XML or JSON), and the B-methods.
var batchTargets = []struct{ method, path, ctype string }{
	{"POST", "/.batch", "application/xml"},
	{"POST", "/.batch", "application/json"},
	{"POST", "/d/", "text/xml"},
	{"BDELETE", "/d/", "application/xml"},
	{"BCOPY", "/", "application/xml"},
	{"BMOVE", "/", "application/xml"},
	{"BPROPFIND", "/d/", "application/xml"},
	{"BPROPPATCH", "/d/", "application/xml"},
}

// FuzzBatchRequest sends a body to every kind of batch target through the
// whole stack, over a small tree with a lock, and checks what any answer
// must keep: no panic, no 5xx, a body on every refusal, and a 207 that
// decodes with a status for each of its responses.
func FuzzBatchRequest(f *testing.F) {
	for _, name := range []string{"../../docs/examples/batch.xml", "../../docs/examples/batch.json"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
		f.Add(b, uint8(1))
	}
	seeds := []string{
		`<batch xmlns="urn:davit:batch" stop-on-error="true"><item method="DELETE" href="/d/f"/><item method="MOVE" href="/d/g" destination="/d/h" overwrite="T"/></batch>`,
		`<batch xmlns="urn:davit:batch" dry-run="true"><item method="LOCK" href="/d/f"><lockinfo xmlns="DAV:"><lockscope><shared/></lockscope><locktype><write/></locktype></lockinfo></item></batch>`,
		`{"items":[{"method":"UNLOCK","href":"/d/f","lock-token":"opaquelocktoken:none"},{"method":"PROPFIND","href":"/","depth":"infinity"}]}`,
		`<D:delete xmlns:D="DAV:"><D:target><D:href>f</D:href><D:href>/d/g</D:href><D:href>../../x</D:href></D:target></D:delete>`,
		`<D:copy xmlns:D="DAV:"><D:target><D:href>/d/f</D:href><D:dest>/d/f2</D:dest><D:href>/d</D:href><D:dest>/d/d</D:dest></D:target></D:copy>`,
		`<D:propfind xmlns:D="DAV:"><D:target><D:href>f</D:href><D:href>missing</D:href></D:target><D:allprop/></D:propfind>`,
		`<D:propertyupdate xmlns:D="DAV:"><D:target><D:href>f</D:href></D:target><D:set><D:prop><x xmlns="urn:x">1</x></D:prop></D:set></D:propertyupdate>`,
	}
	for _, s := range seeds {
		for k := range len(batchTargets) {
			f.Add([]byte(s), uint8(k))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, which uint8) {
		e := newEnv(t, batch.Options{Endpoint: "/.batch", MaxItems: 20, MaxBodyBytes: 64 << 10})
		e.mkcol("/d/")
		e.put("/d/f", "f")
		e.put("/d/g", "g")
		e.lock("/d/g", "0")
		tg := batchTargets[int(which)%len(batchTargets)]
		r := req(tg.method, tg.path, "", "Content-Type", tg.ctype)
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		w := e.serve(r)
		switch {
		case w.Code >= 500:
			t.Fatalf("%s %s: status %d for %q: %s", tg.method, tg.path, w.Code, body, w.Body)
		case w.Code >= 400 && w.Body.Len() == 0:
			t.Fatalf("%s %s: status %d with no body, for %q", tg.method, tg.path, w.Code, body)
		case w.Code == http.StatusMultiStatus:
			ms, err := multistatus.Decode(bytes.NewReader(w.Body.Bytes()))
			if err != nil {
				t.Fatalf("%s %s: the 207 does not decode: %v\n%s", tg.method, tg.path, err, w.Body)
			}
			for _, resp := range ms.Responses {
				if statusOf(resp) == 0 {
					t.Fatalf("%s %s: a response without a status: %+v\n%s", tg.method, tg.path, resp, w.Body)
				}
			}
		}
	})
}
