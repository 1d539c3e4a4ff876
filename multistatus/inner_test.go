package multistatus

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// readInnerString runs ReadInner on the first element of doc.
func readInnerString(t testing.TB, doc string, maxDepth int) ([]byte, string, error) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(doc))
	for {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("no start element in %q: %v", doc, err)
		}
		if st, ok := tok.(xml.StartElement); ok {
			return ReadInner(dec, st, maxDepth)
		}
	}
}

func TestReadInnerCanonical(t *testing.T) {
	tests := []struct {
		name string
		// every input (the property element with its content) must give
		// the same Inner and lang
		in    []string
		inner string
		lang  string
	}{
		{
			name:  "empty",
			in:    []string{`<p/>`, `<p></p>`, `<p><!-- c --></p>`, `<p><?pi x?></p>`},
			inner: ``,
		},
		{
			name:  "text",
			in:    []string{`<p>hello</p>`, `<p>hel<!--x-->lo</p>`, `<p><![CDATA[hel]]>lo</p>`, `<p>h&#101;l&#x6C;o</p>`},
			inner: `hello`,
		},
		{
			name:  "escaped text",
			in:    []string{`<p>a &lt;b&gt; &amp; "c" 'd'</p>`, `<p><![CDATA[a <b> & "c" 'd']]></p>`, `<p>a &lt;b> &amp; &quot;c&quot; &apos;d&apos;</p>`},
			inner: `a &lt;b&gt; &amp; "c" 'd'`,
		},
		{
			name:  "white space kept, CR escaped",
			in:    []string{"<p>\n\t a \n</p>", "<p>\r\n\t a \r\n</p>"},
			inner: "\n\t a \n",
		},
		{
			name:  "literal CR",
			in:    []string{"<p>a&#13;b</p>", "<p>a&#xD;b</p>"},
			inner: "a&#xD;b",
		},
		{
			name: "prefixes and default namespaces",
			in: []string{
				`<p xmlns:x="urn:x"><x:a><x:b>t</x:b></x:a></p>`,
				`<p><a xmlns="urn:x"><b>t</b></a></p>`,
				`<p xmlns="urn:x"><a><b>t</b></a></p>`,
				`<y:p xmlns:y="urn:y" xmlns:z="urn:x"><z:a><b xmlns="urn:x">t</b></z:a></y:p>`,
				`<p xmlns:x="urn:x"><x:a xmlns:x="urn:x"><x:b xmlns="urn:other">t</x:b></x:a></p>`,
			},
			inner: `<a xmlns="urn:x"><b>t</b></a>`,
		},
		{
			name: "DAV: elements",
			in: []string{
				`<p xmlns:d="DAV:"><d:href>/x</d:href></p>`,
				`<p><href xmlns="DAV:">/x</href></p>`,
				`<D:p xmlns:D="DAV:"><D:href>/x</D:href></D:p>`,
				`<p xmlns="DAV:"><href>/x</href></p>`,
			},
			inner: `<D:href>/x</D:href>`,
		},
		{
			name: "custom inside DAV: inside custom",
			in: []string{
				`<p xmlns:D="DAV:" xmlns:x="urn:x"><x:a><D:href><x:b/></D:href></x:a></p>`,
				`<p xmlns="urn:x"><a><href xmlns="DAV:"><b xmlns="urn:x"/></href></a></p>`,
			},
			inner: `<a xmlns="urn:x"><D:href><b></b></D:href></a>`,
		},
		{
			name:  "xml:lang on the property",
			in:    []string{`<p xml:lang="fr">bonjour</p>`, `<x:p xmlns:x="urn:x" xml:lang="fr">bonjour</x:p>`},
			inner: `bonjour`,
			lang:  "fr",
		},
		{
			name:  "xml:lang inside the value",
			in:    []string{`<p xml:lang="en"><a xmlns="urn:x" xml:lang="en-GB">colour</a></p>`},
			inner: `<a xmlns="urn:x" xml:lang="en-GB">colour</a>`,
			lang:  "en",
		},
		{
			name: "mixed content",
			in: []string{
				`<p xmlns:x="urn:x">Hello <x:b>bold</x:b> &amp; <!--c-->bye<?pi x?></p>`,
				`<p>Hello <b xmlns="urn:x">bold</b> &amp; bye</p>`,
			},
			inner: `Hello <b xmlns="urn:x">bold</b> &amp; bye`,
		},
		{
			name: "attributes, plain and in a namespace",
			in: []string{
				`<p xmlns:q="urn:q"><a xmlns="urn:x" q:k="v" plain="w&amp;&quot;"/></p>`,
				`<p xmlns:x="urn:x" xmlns:other="urn:q"><x:a other:k="v" plain='w&amp;"'></x:a></p>`,
			},
			inner: `<a xmlns="urn:x" xmlns:a0="urn:q" a0:k="v" plain="w&amp;&quot;"></a>`,
		},
		{
			name:  "attribute white space",
			in:    []string{`<p><a xmlns="urn:x" v="a&#9;b&#10;c&#13;d"/></p>`},
			inner: `<a xmlns="urn:x" v="a&#x9;b&#xA;c&#xD;d"></a>`,
		},
		{
			name:  "two namespaced attributes",
			in:    []string{`<p xmlns:q="urn:q" xmlns:r="urn:r"><a xmlns="urn:x" q:k="1" r:k="2"/></p>`},
			inner: `<a xmlns="urn:x" xmlns:a0="urn:q" a0:k="1" xmlns:a1="urn:r" a1:k="2"></a>`,
		},
		{
			name: "no-namespace child of a namespaced property",
			in: []string{
				`<x:p xmlns:x="urn:x"><c>t</c></x:p>`,
				`<p xmlns="urn:x"><c xmlns="">t</c></p>`,
				`<p><c>t</c></p>`,
				`<D:p xmlns:D="DAV:"><c>t</c></D:p>`,
			},
			inner: `<c xmlns="">t</c>`,
		},
		{
			name: "no-namespace child under a default namespace",
			in: []string{
				`<p><a xmlns="urn:x"><c xmlns="">t</c></a></p>`,
				`<p xmlns:x="urn:x"><x:a><c>t</c></x:a></p>`,
			},
			inner: `<a xmlns="urn:x"><c xmlns="">t</c></a>`,
		},
		{
			name: "no-namespace child under a DAV: element",
			in: []string{
				`<p xmlns="urn:x" xmlns:D="DAV:"><D:owner><c xmlns="">t</c></D:owner></p>`,
				`<D:p xmlns:D="DAV:"><D:owner><c>t</c></D:owner></D:p>`,
			},
			inner: `<D:owner><c xmlns="">t</c></D:owner>`,
		},
		{
			name: "no-namespace child under a no-namespace element",
			in: []string{
				`<p xmlns="urn:x"><a xmlns=""><b/></a></p>`,
				`<p><a><b/></a></p>`,
			},
			inner: `<a xmlns=""><b></b></a>`,
		},
		{
			name: "siblings in different namespaces",
			in: []string{
				`<p xmlns:x="urn:x" xmlns:y="urn:y"><x:a/><y:b/><c/><x:d/></p>`,
				`<p xmlns="urn:x"><a/><b xmlns="urn:y"/><c xmlns=""/><d/></p>`,
			},
			inner: `<a xmlns="urn:x"></a><b xmlns="urn:y"></b><c xmlns=""></c><d xmlns="urn:x"></d>`,
		},
		{
			name:  "non-ASCII names and text",
			in:    []string{`<p xmlns:n="urn:日本"><n:名前>😀 é</n:名前></p>`},
			inner: `<名前 xmlns="urn:日本">😀 é</名前>`,
		},
		{
			name:  "namespace URI needing escapes",
			in:    []string{`<p><a xmlns="urn:x?a=1&amp;b=&quot;2&quot;"/></p>`},
			inner: `<a xmlns="urn:x?a=1&amp;b=&quot;2&quot;"></a>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, in := range tt.in {
				inner, lang, err := readInnerString(t, in, 0)
				if err != nil {
					t.Fatalf("ReadInner(%s): %v", in, err)
				}
				if string(inner) != tt.inner || lang != tt.lang {
					t.Errorf("ReadInner(%s)\n got %q lang %q\nwant %q lang %q", in, inner, lang, tt.inner, tt.lang)
				}
				if tt.inner == "" && inner != nil {
					t.Errorf("ReadInner(%s) = %#v, want nil for an empty value", in, inner)
				}
			}
			checkContextFree(t, []byte(tt.inner))
		})
	}
}

// checkContextFree checks that a canonical Inner means the same wherever it
// is placed: read again inside wrappers with various default namespaces
// (and D bound to DAV:), and inside property elements of every kind written
// by the Writer, it comes back unchanged.
func checkContextFree(t *testing.T, inner []byte) {
	t.Helper()
	for _, wrap := range []string{
		`<w xmlns:D="DAV:">%s</w>`,
		`<w xmlns:D="DAV:" xmlns="urn:other">%s</w>`,
		`<w xmlns:D="DAV:" xmlns="DAV:">%s</w>`,
		`<w xmlns:D="DAV:" xmlns="urn:x">%s</w>`,
	} {
		doc := strings.Replace(wrap, "%s", string(inner), 1)
		got, _, err := readInnerString(t, doc, 0)
		if err != nil {
			t.Fatalf("re-reading %s: %v", doc, err)
		}
		if string(got) != string(inner) {
			t.Errorf("in %s the value reads as\n %q, not\n %q", wrap, got, inner)
		}
	}
	for _, name := range []xml.Name{davName("p"), xname("", "p"), xname("urn:x", "p"), xname("urn:other", "p")} {
		for _, lang := range []string{"", "de"} {
			in := Property{Name: name, Lang: lang, Inner: inner}
			if len(inner) == 0 {
				in.Inner = nil
			}
			ms := &Multistatus{Responses: []Response{{Hrefs: []string{"/"}, Propstats: []Propstat{{Status: NewStatus(200), Props: []Property{in}}}}}}
			doc := encodeString(t, ms)
			got := decodeString(t, doc).Responses[0].Propstats[0].Props
			if len(got) != 1 || got[0].Name != in.Name || got[0].Lang != in.Lang || string(got[0].Inner) != string(in.Inner) {
				t.Errorf("property %v (lang %q) %q written and read back as %s\n%s", name, lang, inner, propsString(got), doc)
			}
			// The same value as a condition in DAV:error.
			ms = &Multistatus{Responses: []Response{{Hrefs: []string{"/"}, Status: NewStatus(423), Error: []Condition{{Name: name, Inner: in.Inner}}}}}
			doc = encodeString(t, ms)
			conds := decodeString(t, doc).Responses[0].Error
			if len(conds) != 1 || conds[0].Name != name || string(conds[0].Inner) != string(in.Inner) {
				t.Errorf("condition %v %q written and read back as %+q\n%s", name, inner, conds, doc)
			}
		}
	}
}

func TestReadInnerDepth(t *testing.T) {
	tests := []struct {
		doc      string
		maxDepth int
		wantErr  bool
	}{
		{`<p>text</p>`, 1, false},
		{`<p><a/></p>`, 1, false},
		{`<p><a><b/></a></p>`, 1, true},
		{`<p><a><b/></a></p>`, 2, false},
		{`<p><a><b><c/></b></a></p>`, 2, true},
		{`<p><a/><a/><a/></p>`, 1, false}, // siblings do not add depth
		{"<p>" + strings.Repeat("<a>", 64) + strings.Repeat("</a>", 64) + "</p>", 0, false},
		{"<p>" + strings.Repeat("<a>", 65) + strings.Repeat("</a>", 65) + "</p>", 0, true}, // default 64
	}
	for _, tt := range tests {
		_, _, err := readInnerString(t, tt.doc, tt.maxDepth)
		if tt.wantErr != (err != nil) {
			t.Errorf("ReadInner(%.40s…, %d) = %v, want error %v", tt.doc, tt.maxDepth, err, tt.wantErr)
		}
		if tt.wantErr && !errors.Is(err, ErrLimit) {
			t.Errorf("ReadInner(%.40s…, %d) = %v, want ErrLimit", tt.doc, tt.maxDepth, err)
		}
	}
}

func TestReadInnerMalformed(t *testing.T) {
	for _, doc := range []string{`<p><a></p>`, `<p>text`, `<p><a>&bogus;</a></p>`} {
		if _, _, err := readInnerString(t, doc, 0); err == nil {
			t.Errorf("ReadInner(%s): no error", doc)
		}
	}
}

func TestPropertyText(t *testing.T) {
	tests := []struct {
		inner    string
		text     string
		textOnly bool
		json     string
	}{
		{"", "", true, ""},
		{"12", "12", true, "12"},
		{"a &lt;b&gt; &amp; c", "a <b> & c", true, "a <b> & c"},
		{"a&#xD;b", "a\rb", true, "a\rb"},
		{"  \n ", "  \n ", true, ""},
		{"<D:collection/>", "", false, "<D:collection/>"},
		{`x <b xmlns="urn:x">y</b>`, "", false, `x <b xmlns="urn:x">y</b>`},
	}
	for _, tt := range tests {
		p := Property{Inner: []byte(tt.inner)}
		text, ok := p.Text()
		if text != tt.text || ok != tt.textOnly {
			t.Errorf("Text(%q) = %q, %v; want %q, %v", tt.inner, text, ok, tt.text, tt.textOnly)
		}
		if p.HasElements() == tt.textOnly {
			t.Errorf("HasElements(%q) = %v", tt.inner, p.HasElements())
		}
		if j := p.JSONValue(); j != tt.json {
			t.Errorf("JSONValue(%q) = %q, want %q", tt.inner, j, tt.json)
		}
	}
}

func propsString(ps []Property) string {
	var sb strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&sb, "[%v lang %q inner %q]", p.Name, p.Lang, p.Inner)
	}
	return sb.String()
}
