package multistatus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// gen builds random valid Multistatus values.
type gen struct {
	t   testing.TB
	rng *rand.Rand
}

func (g gen) pick(s []string) string { return s[g.rng.Intn(len(s))] }

var (
	genSpaces  = []string{NS, "", "urn:x", "urn:y", "http://example.com/ns#", "urn:日本", `urn:a&b"<>'`, "urn:tab\there"}
	genLocals  = []string{"a", "getetag", "resourcetype", "é", "日本", "x-y.z_1", "_u", "Ω"}
	genTexts   = []string{"", "x", " ", "hello world", "a & b", "<tag>", "]]>", `"q" 'a'`, "日本語 😀", "line\nbreak", "cr\rlf\r\n", "\ttab", "&amp;", "  padded  "}
	genReasons = []string{"", "OK", "Not Found", "Multi Word Reason", "Ünïcödé 😀", "a&b<c>", "x  y"}
	genLangs   = []string{"", "", "en", "fr-CA", "x-klingon"}
)

// text returns random character data (any valid XML characters).
func (g gen) text() string {
	var sb strings.Builder
	for n := g.rng.Intn(3); n > 0; n-- {
		sb.WriteString(g.pick(genTexts))
	}
	return sb.String()
}

// fragment writes a random XML fragment with random prefixes, default
// namespaces, attributes, CDATA, comments and character references. The
// context binds D to DAV: and p to urn:x.
func (g gen) fragment(sb *strings.Builder, depth int) {
	for n := g.rng.Intn(4); n > 0; n-- {
		switch k := g.rng.Intn(10); {
		case k < 3:
			xmlEscape(sb, g.text())
		case k == 3:
			sb.WriteString("<![CDATA[" + strings.ReplaceAll(g.text(), "]]>", "]]") + "]]>")
		case k == 4:
			sb.WriteString("<!-- c --><?pi data?>&#x1F600;&#233;")
		default:
			if depth >= 4 {
				continue
			}
			local := g.pick(genLocals)
			var name, decl string
			switch g.rng.Intn(5) {
			case 0:
				name = "D:" + local
			case 1:
				name = "p:" + local
			case 2:
				name, decl = "q:"+local, ` xmlns:q="`+attrEscape(g.pick(genSpaces))+`"`
			case 3:
				name, decl = local, ` xmlns="`+attrEscape(g.pick(genSpaces))+`"`
			default:
				name = local // whatever default is in scope
			}
			sb.WriteString("<" + name + decl)
			if g.rng.Intn(3) == 0 {
				sb.WriteString(` plain="` + attrEscape(g.text()) + `"`)
			}
			if g.rng.Intn(4) == 0 {
				sb.WriteString(` xmlns:r="` + attrEscape(g.pick(genSpaces)) + `" r:k="` + attrEscape(g.text()) + `"`)
			}
			if g.rng.Intn(5) == 0 {
				sb.WriteString(` xml:lang="` + g.pick(genLangs) + `"`)
			}
			if g.rng.Intn(4) == 0 {
				sb.WriteString("/>")
				continue
			}
			sb.WriteString(">")
			g.fragment(sb, depth+1)
			sb.WriteString("</" + name + ">")
		}
	}
}

func xmlEscape(sb *strings.Builder, s string) {
	var b bytes.Buffer
	escapeText(&b, []byte(s))
	sb.Write(b.Bytes())
}

func attrEscape(s string) string {
	var b bytes.Buffer
	escapeAttr(&b, s)
	return b.String()
}

// inner returns a random value in canonical form, built by canonicalising
// a random fragment with ReadInner inside an element with a random default
// namespace.
func (g gen) inner() []byte {
	var sb strings.Builder
	g.fragment(&sb, 0)
	wrap := `<w xmlns:D="DAV:" xmlns:p="urn:x" xmlns="` + attrEscape(g.pick(genSpaces)) + `">`
	inner, _, err := readInnerString(g.t, wrap+sb.String()+"</w>", 0)
	if err != nil {
		g.t.Fatalf("canonicalising %q: %v", sb.String(), err)
	}
	return inner
}

func (g gen) status() Status {
	s := Status{Proto: "HTTP/1.1", Code: 200 + g.rng.Intn(800), Reason: g.pick(genReasons)}
	if g.rng.Intn(5) == 0 {
		s.Proto = "HTTP/1.0"
	}
	return s
}

func (g gen) href() string {
	p := ""
	for n := g.rng.Intn(3); n > 0; n-- {
		p += "/" + randName(g.rng)
	}
	h := PathHref(p, g.rng.Intn(2) == 0)
	if g.rng.Intn(5) == 0 {
		h = "http://example.com:8080" + h
	}
	return h
}

func (g gen) conditions() []Condition {
	switch g.rng.Intn(3) {
	case 0:
		return nil
	case 1:
		return []Condition{}
	}
	var cs []Condition
	for n := 1 + g.rng.Intn(3); n > 0; n-- {
		c := Condition{Name: xname(g.pick(genSpaces), g.pick(genLocals))}
		if g.rng.Intn(2) == 0 {
			c.Inner = g.inner()
		}
		cs = append(cs, c)
	}
	return cs
}

func (g gen) response() Response {
	var r Response
	if g.rng.Intn(3) == 0 {
		for n := 1 + g.rng.Intn(4); n > 0; n-- {
			r.Hrefs = append(r.Hrefs, g.href())
		}
		r.Status = g.status()
	} else {
		r.Hrefs = []string{g.href()}
		for n := 1 + g.rng.Intn(3); n > 0; n-- {
			ps := Propstat{Status: g.status(), Error: g.conditions()}
			for m := g.rng.Intn(6); m > 0; m-- {
				ps.Props = append(ps.Props, Property{
					Name:  xname(g.pick(genSpaces), g.pick(genLocals)),
					Lang:  g.pick(genLangs),
					Inner: g.inner(),
				})
			}
			if g.rng.Intn(4) == 0 {
				ps.ResponseDescription = g.text()
			}
			r.Propstats = append(r.Propstats, ps)
		}
	}
	r.Error = g.conditions()
	if g.rng.Intn(4) == 0 {
		r.ResponseDescription = g.text()
	}
	if g.rng.Intn(4) == 0 {
		r.Location = g.href()
	}
	return r
}

func (g gen) multistatus() *Multistatus {
	ms := &Multistatus{}
	for n := g.rng.Intn(6); n > 0; n-- {
		ms.Responses = append(ms.Responses, g.response())
	}
	if g.rng.Intn(3) == 0 {
		ms.ResponseDescription = g.text()
	}
	return ms
}

func TestRoundTripRandom(t *testing.T) {
	seeds := 2000
	if testing.Short() {
		seeds = 200
	}
	for seed := int64(1); seed <= int64(seeds); seed++ {
		g := gen{t: t, rng: rand.New(rand.NewSource(seed))}
		ms := g.multistatus()
		doc := encodeString(t, ms)
		back, err := Decode(strings.NewReader(doc))
		if err != nil {
			t.Fatalf("seed %d: Decode: %v\n%s", seed, err, doc)
		}
		if !reflect.DeepEqual(back, ms) {
			t.Fatalf("seed %d: round trip differs\n got %s\nwant %s\ndoc %s", seed, dump(back), dump(ms), doc)
		}
		// Writing what was read gives the same bytes.
		if again := encodeString(t, back); again != doc {
			t.Fatalf("seed %d: second write differs\n%s\n%s", seed, doc, again)
		}
		// The JSON form: the same value from the original, from what was
		// read back, and from the streaming JSONWriter.
		want := jsonValue(t, ms)
		if got := jsonValue(t, back); !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: JSON of the value read back differs\n got %v\nwant %v", seed, got, want)
		}
		if got := jsonWriterValue(t, ms); !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: JSONWriter differs from MarshalJSON\n got %v\nwant %v", seed, got, want)
		}
	}
}

func jsonValue(t testing.TB, ms *Multistatus) any {
	t.Helper()
	b, err := json.Marshal(ms)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("MarshalJSON wrote invalid JSON: %v\n%s", err, b)
	}
	return v
}

func jsonWriterValue(t testing.TB, ms *Multistatus) any {
	t.Helper()
	var buf bytes.Buffer
	w := NewJSONWriter(&buf)
	w.ResponseDescription = ms.ResponseDescription
	for i := range ms.Responses {
		if err := w.Write(&ms.Responses[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
		t.Fatalf("JSONWriter wrote invalid JSON: %v\n%s", err, buf.Bytes())
	}
	return v
}

// TestRoundTripCorpus: for every captured document, reader -> writer ->
// reader is a fixed point, and writing again gives the same bytes.
func TestRoundTripCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/*.xml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ms1 := decodeString(t, string(in))
			doc2 := encodeString(t, ms1)
			ms2 := decodeString(t, doc2)
			if !reflect.DeepEqual(ms2, normalize(ms1)) {
				t.Fatalf("read, write, read is not a fixed point\nfirst  %s\nsecond %s", dump(ms1), dump(ms2))
			}
			if doc3 := encodeString(t, ms2); doc3 != doc2 {
				t.Fatalf("second write differs:\n%s\n%s", doc2, doc3)
			}
			if !reflect.DeepEqual(jsonValue(t, ms1), jsonValue(t, ms2)) {
				t.Fatal("JSON form changed by the round trip")
			}
		})
	}
}

// Example of the generator's output, to eyeball when changing it.
func TestGeneratorCoverage(t *testing.T) {
	var props, conds, statusForm, locs, langs, noNS, mixed int
	for seed := int64(1); seed <= 200; seed++ {
		ms := gen{t: t, rng: rand.New(rand.NewSource(seed))}.multistatus()
		for _, r := range ms.Responses {
			if r.Status.Code != 0 {
				statusForm++
			}
			if r.Location != "" {
				locs++
			}
			conds += len(r.Error)
			for _, ps := range r.Propstats {
				for _, p := range ps.Props {
					props++
					if p.Lang != "" {
						langs++
					}
					if p.Name.Space == "" {
						noNS++
					}
					if _, ok := p.Text(); !ok && bytes.ContainsAny(p.Inner, "abcdefghijklmnopqrstuvwxyz") {
						mixed++
					}
				}
			}
		}
	}
	counts := fmt.Sprintf("props %d conds %d status-form %d locations %d langs %d no-namespace %d with-elements %d", props, conds, statusForm, locs, langs, noNS, mixed)
	for _, n := range []int{props, conds, statusForm, locs, langs, noNS, mixed} {
		if n < 10 {
			t.Fatalf("generator covers too little: %s", counts)
		}
	}
	t.Log(counts)
}
