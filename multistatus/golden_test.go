package multistatus

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

// canon returns frag in the canonical Inner form (ReadInner's), with D
// bound to DAV:.
func canon(t testing.TB, frag string) []byte {
	t.Helper()
	inner, _, err := readInnerString(t, `<w xmlns:D="DAV:">`+frag+`</w>`, 0)
	if err != nil {
		t.Fatalf("canon(%q): %v", frag, err)
	}
	return inner
}

// goldenCases are representative documents; each is written to
// testdata/golden/NAME.xml and NAME.json.
func goldenCases(t testing.TB) []struct {
	name string
	ms   Multistatus
} {
	return []struct {
		name string
		ms   Multistatus
	}{
		{"empty", Multistatus{}},
		{"propfind-depth1", Multistatus{Responses: []Response{
			{
				Hrefs: []string{PathHref("/docs/Café & co", true)},
				Propstats: []Propstat{
					{Status: NewStatus(200), Props: []Property{
						{Name: davName("resourcetype"), Inner: canon(t, `<D:collection/>`)},
						{Name: davName("displayname"), Inner: canon(t, `Café &amp; co`)},
						{Name: davName("getlastmodified"), Inner: canon(t, `Tue, 03 Mar 2026 10:00:00 GMT`)},
						{Name: davName("supportedlock"), Inner: canon(t, `<D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>`)},
					}},
					{Status: NewStatus(404), Props: []Property{{Name: davName("getcontentlength")}, {Name: xname("urn:example:corpus", "note")}}},
				},
			},
			{
				Hrefs: []string{PathHref("/docs/Café & co/日本 😀 100%.txt", false)},
				Propstats: []Propstat{
					{Status: NewStatus(200), Props: []Property{
						{Name: davName("resourcetype")},
						{Name: davName("getcontentlength"), Inner: canon(t, `12`)},
						{Name: davName("getcontenttype"), Inner: canon(t, `text/plain; charset=utf-8`)},
						{Name: davName("getetag"), Inner: canon(t, `"5f3-1a2b"`)},
						{Name: xname("urn:example:corpus", "note"), Inner: canon(t, `日本語 😀 &lt;not a tag&gt; &amp; "q"`)},
						{Name: xname("", "plain"), Inner: canon(t, `no namespace`)},
					}},
				},
			},
		}}},
		{"dead-properties", Multistatus{Responses: []Response{{
			Hrefs: []string{"/a.txt"},
			Propstats: []Propstat{{Status: NewStatus(200), Props: []Property{
				{Name: xname("urn:x", "mixed"), Lang: "fr", Inner: canon(t, `Bonjour <b xmlns="urn:x">le</b> <i xmlns="urn:y" style="x">monde</i> &amp; <plain>ici</plain>`)},
				{Name: xname("urn:x", "tree"), Inner: canon(t, `<a xmlns="urn:x" xmlns:q="urn:q" q:attr="1" xml:lang="en"><c xmlns="">no ns</c><D:href>/x</D:href></a>`)},
				{Name: davName("owner"), Inner: canon(t, `<D:href>mailto:someone@example.com</D:href>`)},
				{Name: xname("", "nons"), Lang: "de-CH", Inner: canon(t, "  multi\n  line\t")},
			}}},
		}}}},
		{"delete-locked", Multistatus{
			Responses: []Response{
				{
					Hrefs:               []string{"/c/b.txt", "/c/sub/locked.txt"},
					Status:              NewStatus(423),
					Error:               []Condition{{Name: davName("lock-token-submitted"), Inner: canon(t, `<D:href>/c/b.txt</D:href>`)}},
					ResponseDescription: "the resource is locked",
				},
				{Hrefs: []string{"/c/"}, Status: NewStatus(424)},
				{Hrefs: []string{"/c/odd"}, Status: Status{Proto: "HTTP/1.1", Code: 599, Reason: "Custom Reason"}, Error: []Condition{{Name: xname("urn:x", "quota"), Inner: canon(t, `<limit xmlns="urn:x">10</limit>`)}, DAVCondition("no-conflicting-lock")}},
			},
			ResponseDescription: "some members could not be deleted",
		}},
		{"location", Multistatus{Responses: []Response{
			{Hrefs: []string{"/old/"}, Status: NewStatus(301), Location: PathHref("/new place/", true)},
			{Hrefs: []string{"/gone"}, Status: NewStatus(302), Location: "http://other.example/gone?x=1&y=2"},
		}}},
		{"proppatch-failed", Multistatus{
			Responses: []Response{{
				Hrefs: []string{"/a.txt"},
				Propstats: []Propstat{
					{
						Status:              NewStatus(403),
						Props:               []Property{{Name: davName("getetag")}},
						Error:               []Condition{DAVCondition("cannot-modify-protected-property")},
						ResponseDescription: "getetag is protected",
					},
					{Status: NewStatus(424), Props: []Property{{Name: xname("urn:x", "color")}}},
				},
				ResponseDescription: "nothing was changed",
			}},
			ResponseDescription: "PROPPATCH failed <atomically> & cleanly",
		}},
	}
}

func TestGolden(t *testing.T) {
	dir := filepath.Join("testdata", "golden")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, gc := range goldenCases(t) {
		t.Run(gc.name, func(t *testing.T) {
			xmlOut := []byte(encodeString(t, &gc.ms))

			var jw bytes.Buffer
			w := NewJSONWriter(&jw)
			w.ResponseDescription = gc.ms.ResponseDescription
			for i := range gc.ms.Responses {
				if err := w.Write(&gc.ms.Responses[i]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			var jsonOut bytes.Buffer
			if err := json.Indent(&jsonOut, jw.Bytes(), "", "  "); err != nil {
				t.Fatalf("JSONWriter wrote invalid JSON: %v\n%s", err, jw.Bytes())
			}
			jsonOut.WriteByte('\n')

			// MarshalJSON must give the same JSON value as the JSONWriter.
			mj, err := json.Marshal(&gc.ms)
			if err != nil {
				t.Fatal(err)
			}
			var fromWriter, fromMarshal any
			if err := json.Unmarshal(jw.Bytes(), &fromWriter); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(mj, &fromMarshal); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fromWriter, fromMarshal) {
				t.Errorf("JSONWriter and MarshalJSON differ:\n writer: %s\nmarshal: %s", jw.Bytes(), mj)
			}

			for _, f := range []struct {
				ext string
				got []byte
			}{{".xml", xmlOut}, {".json", jsonOut.Bytes()}} {
				path := filepath.Join(dir, gc.name+f.ext)
				if *update {
					if err := os.WriteFile(path, f.got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if !bytes.Equal(f.got, want) {
					t.Errorf("%s differs from the golden file (go test -update rewrites it)\n got: %s\nwant: %s", path, f.got, want)
				}
			}

			// The golden XML reads back to the value that made it.
			back := decodeString(t, string(xmlOut))
			if !reflect.DeepEqual(normalize(back), normalize(&gc.ms)) {
				t.Errorf("golden document reads back differently:\n got %s\nwant %s", dump(back), dump(&gc.ms))
			}
		})
	}
}

// normalize returns a copy of ms as the Reader would give it back: hrefs
// escaped and a status without protocol given the HTTP/1.1 the Writer
// supplies.
func normalize(ms *Multistatus) *Multistatus {
	out := &Multistatus{ResponseDescription: ms.ResponseDescription}
	for _, r := range ms.Responses {
		r.Hrefs = append([]string(nil), r.Hrefs...)
		for i, h := range r.Hrefs {
			r.Hrefs[i] = EncodeHref(h)
		}
		r.Location = EncodeHref(r.Location)
		r.Status = normStatus(r.Status)
		r.Propstats = append([]Propstat(nil), r.Propstats...)
		for i := range r.Propstats {
			r.Propstats[i].Status = normStatus(r.Propstats[i].Status)
		}
		out.Responses = append(out.Responses, r)
	}
	return out
}

func normStatus(s Status) Status {
	if s.Code != 0 && s.Proto == "" {
		s.Proto = "HTTP/1.1"
	}
	return s
}
