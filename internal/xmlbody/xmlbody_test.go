package xmlbody

import (
	"errors"
	"strings"
	"testing"
)

// walk reads a whole body: the root, then every child skipped, then End.
func walk(body string, lim Limits) error {
	d := NewDecoder(strings.NewReader(body), lim)
	if _, err := d.Root(); err != nil {
		return err
	}
	for {
		_, ok, err := d.Child()
		if err != nil {
			return err
		}
		if !ok {
			return d.End()
		}
		if err := d.Skip(); err != nil {
			return err
		}
	}
}

func TestDecoder(t *testing.T) {
	deep := strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40)
	many := "<r>" + strings.Repeat("<a/>", 30) + "</r>"
	tests := []struct {
		name string
		body string
		lim  Limits
		ok   bool
	}{
		{"plain", `<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`, Limits{}, true},
		{"byte-order mark and white space", "\uFEFF \n<r/>\n", Limits{}, true},
		{"comment after the root", `<r/><!-- c -->`, Limits{}, true},
		{"utf-8 declared", `<?xml version="1.0" encoding="UTF-8"?><r/>`, Limits{}, true},
		{"latin-1 declared", `<?xml version="1.0" encoding="ISO-8859-1"?><r/>`, Limits{}, false},
		{"text before the root", `x<r/>`, Limits{}, false},
		{"element after the root", `<r/><s/>`, Limits{}, false},
		{"text after the root", `<r/>x`, Limits{}, false},
		{"undeclared prefix", `<x:r/>`, Limits{}, false},
		{"prefix bound to nothing", `<r xmlns:x=""/>`, Limits{}, false},
		{"xmlns prefix declared", `<r xmlns:xmlns="urn:x"/>`, Limits{}, false},
		{"xml prefix rebound", `<r xmlns:xml="urn:x"/>`, Limits{}, false},
		{"element in xml", `<xml:r/>`, Limits{}, false},
		{"attribute twice", `<r xmlns:a="urn:x" xmlns:b="urn:x" a:v="1" b:v="2"/>`, Limits{}, false},
		{"default namespace reserved", `<r xmlns="http://www.w3.org/XML/1998/namespace"/>`, Limits{}, false},
		{"deep within limit", deep, Limits{MaxDepth: 40}, true},
		{"too deep", deep, Limits{MaxDepth: 39}, false},
		{"elements within limit", many, Limits{MaxElements: 31}, true},
		{"too many elements", many, Limits{MaxElements: 30}, false},
		{"text between children ignored", `<r><a/>text<b/></r>`, Limits{}, true},
		{"text between children refused", `<r><a/>text<b/></r>`, Limits{StrictText: true}, false},
		{"truncated", `<r><a>`, Limits{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := walk(tt.body, tt.lim)
			if (err == nil) != tt.ok {
				t.Fatalf("walk(%q) = %v, want ok %v", tt.body, err, tt.ok)
			}
		})
	}
}

func TestEmpty(t *testing.T) {
	for _, body := range []string{"", "  \n", "<!-- only a comment -->"} {
		if _, err := NewDecoder(strings.NewReader(body), Limits{}).Root(); !errors.Is(err, ErrEmpty) {
			t.Errorf("Root of %q = %v, want ErrEmpty", body, err)
		}
	}
}

func TestTextAndInner(t *testing.T) {
	d := NewDecoder(strings.NewReader(`<r xmlns:E="urn:e"><t>a &amp; b</t><E:v xml:lang="fr">x<E:y/></E:v><t><c/></t></r>`), Limits{})
	if _, err := d.Root(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Child(); err != nil {
		t.Fatal(err)
	}
	if s, err := d.Text(); err != nil || s != "a & b" {
		t.Fatalf("Text = %q, %v", s, err)
	}
	el, _, err := d.Child()
	if err != nil {
		t.Fatal(err)
	}
	p, err := d.Inner(el)
	if err != nil || p.Lang != "fr" || string(p.Inner) != `x<y xmlns="urn:e"></y>` || p.Name.Space != "urn:e" {
		t.Fatalf("Inner = %+v (%s), %v", p, p.Inner, err)
	}
	if _, _, err := d.Child(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Text(); err == nil {
		t.Fatal("Text of an element with a child element succeeded")
	}
}

// FuzzDecoder: any body is read to its end or refused, never a panic, and
// the bounds hold.
func FuzzDecoder(f *testing.F) {
	for _, s := range []string{`<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`, `<r xmlns:x="urn:x"><x:a xml:lang="en">t<b/></x:a></r>`, "\uFEFF<r/>", `<r><a/>x</r>`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		d := NewDecoder(strings.NewReader(body), Limits{MaxDepth: 8, MaxElements: 64})
		if _, err := d.Root(); err != nil {
			return
		}
		for {
			el, ok, err := d.Child()
			if err != nil || !ok {
				return
			}
			if d.depth > 8 || d.elements > 64 {
				t.Fatalf("bounds passed: depth %d, elements %d", d.depth, d.elements)
			}
			if _, err := d.Inner(el); err != nil {
				return
			}
		}
	})
}
