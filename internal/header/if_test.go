package header_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/davit-dav/davit/internal/header"
)

const (
	tok1 = "urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2"
	tok2 = "urn:uuid:58f202ac-22cf-11d1-b12d-002035b29092"
)

func tokC(t string) header.Condition     { return header.Condition{Token: t} }
func notTokC(t string) header.Condition  { return header.Condition{Not: true, Token: t} }
func etagC(e string) header.Condition    { return header.Condition{ETag: e} }
func notEtagC(e string) header.Condition { return header.Condition{Not: true, ETag: e} }

func untagged(conds ...header.Condition) header.List { return header.List{Conditions: conds} }

func tagged(tag, path string, conds ...header.Condition) header.List {
	return header.List{Tag: tag, Path: path, Conditions: conds}
}

func TestParseIf(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want header.If
	}{
		{
			"RFC 4918 §10.4.6 no-tag production",
			`(<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> ["I am an ETag"]) (["I am another ETag"])`,
			header.If{Lists: []header.List{
				untagged(tokC(tok1), etagC(`"I am an ETag"`)),
				untagged(etagC(`"I am another ETag"`)),
			}},
		},
		{
			"RFC 4918 §10.4.7 Not with no-tag production",
			"(Not <urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2>\r\n  <urn:uuid:58f202ac-22cf-11d1-b12d-002035b29092>)",
			header.If{Lists: []header.List{untagged(notTokC(tok1), tokC(tok2))}},
		},
		{
			"RFC 4918 §10.4.8 always true",
			"(<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2>)\r\n (Not <DAV:no-lock>)",
			header.If{Lists: []header.List{untagged(tokC(tok1)), untagged(notTokC(header.NoLock))}},
		},
		{
			"RFC 4918 §10.4.9 tagged list in COPY",
			"</resource1>\r\n (<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2>\r\n [W/\"A weak ETag\"]) ([\"strong ETag\"])",
			header.If{Tagged: true, Lists: []header.List{
				tagged("/resource1", "/resource1", tokC(tok1), etagC(`W/"A weak ETag"`)),
				tagged("/resource1", "/resource1", etagC(`"strong ETag"`)),
			}},
		},
		{
			"RFC 4918 §10.4.10 collection lock",
			"<http://www.example.com/specs/>\r\n (<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2>)",
			header.If{Tagged: true, Lists: []header.List{
				tagged("http://www.example.com/specs/", "/specs", tokC(tok1)),
			}},
		},
		{
			"RFC 4918 §10.4.11 unmapped URL",
			`</specs/rfc2518.doc> (["4217"])`,
			header.If{Tagged: true, Lists: []header.List{
				tagged("/specs/rfc2518.doc", "/specs/rfc2518.doc", etagC(`"4217"`)),
			}},
		},
		{
			"RFC 4918 §9.9.6 MOVE of a collection: two lists for one tag",
			"<http://www.example.com/othercontainer/>\r\n (<urn:uuid:fe184f2e-6eec-41d0-c765-01adc56e6bb4>)\r\n (<urn:uuid:e454f3f3-acdc-452a-56c7-00a5c91e4b77>)",
			header.If{Tagged: true, Lists: []header.List{
				tagged("http://www.example.com/othercontainer/", "/othercontainer", tokC("urn:uuid:fe184f2e-6eec-41d0-c765-01adc56e6bb4")),
				tagged("http://www.example.com/othercontainer/", "/othercontainer", tokC("urn:uuid:e454f3f3-acdc-452a-56c7-00a5c91e4b77")),
			}},
		},
		{
			"two tags",
			"<http://h/a> (<urn:x:1>) <http://h/b%20c/> (<urn:x:2>) ([\"e\"])",
			header.If{Tagged: true, Lists: []header.List{
				tagged("http://h/a", "/a", tokC("urn:x:1")),
				tagged("http://h/b%20c/", "/b c", tokC("urn:x:2")),
				tagged("http://h/b%20c/", "/b c", etagC(`"e"`)),
			}},
		},
		{
			"litmus cond_put",
			`(<opaquelocktoken:245ec6a9-e8e2-4c7d-acd4-740b9e301ae0> ["e24bfe34"])`,
			header.If{Lists: []header.List{untagged(tokC("opaquelocktoken:245ec6a9-e8e2-4c7d-acd4-740b9e301ae0"), etagC(`"e24bfe34"`))}},
		},
		{
			"litmus complex_cond_put with unquoted ETags echoed back",
			"<http://192.168.200.198:8000/litmus/lockcoll/> (<opaquelocktoken:245ec6a9> [e24bfe34b6750624571283fcf1ed8542]) (Not <DAV:no-lock> [e24bfe34b6750624571283fcf1ed8542])",
			header.If{Tagged: true, Lists: []header.List{
				tagged("http://192.168.200.198:8000/litmus/lockcoll/", "/litmus/lockcoll", tokC("opaquelocktoken:245ec6a9"), etagC("e24bfe34b6750624571283fcf1ed8542")),
				tagged("http://192.168.200.198:8000/litmus/lockcoll/", "/litmus/lockcoll", notTokC(header.NoLock), etagC("e24bfe34b6750624571283fcf1ed8542")),
			}},
		},
		{
			"no white space at all, lower-case not",
			`(not<urn:x:1>["a"])(NOT["b"])`,
			header.If{Lists: []header.List{
				untagged(notTokC("urn:x:1"), etagC(`"a"`)),
				untagged(notEtagC(`"b"`)),
			}},
		},
		{
			"tabs, white space inside brackets, ']' and spaces inside a quoted tag",
			"\t( [ W/\"a] b\" ] )\t",
			header.If{Lists: []header.List{untagged(etagC(`W/"a] b"`))}},
		},
		{
			"empty quoted entity tag",
			`([""])`,
			header.If{Lists: []header.List{untagged(etagC(`""`))}},
		},
		{
			"tag with unescaped space and dot-segments",
			"</dav/a b/./c/../d/> (<urn:x:1>)",
			header.If{Tagged: true, Lists: []header.List{tagged("/dav/a b/./c/../d/", "/dav/a b/d", tokC("urn:x:1"))}},
		},
		{
			"the same tag repeated",
			"</a> (<urn:x:1>) </a> (<urn:x:2>)",
			header.If{Tagged: true, Lists: []header.List{
				tagged("/a", "/a", tokC("urn:x:1")),
				tagged("/a", "/a", tokC("urn:x:2")),
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := header.ParseIf(tt.in)
			if err != nil {
				t.Fatalf("ParseIf(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseIf(%q) =\n%#v\nwant\n%#v", tt.in, got, tt.want)
			}
			again, err := header.ParseIf(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip via %q: %#v, %v", got.String(), again, err)
			}
		})
	}
}

func TestParseIfErrors(t *testing.T) {
	tests := []string{
		"",
		"   ",
		"x",
		"()",
		"( )",
		"(",
		"(<urn:x:1>",
		"(<urn:x:1>))",
		")",
		"[\"e\"]",
		"(\"e\")",
		"(urn:x:1)",
		"(<urn:x:1)",
		"(<urn:x:1> x)",
		"(Not)",
		"(Not )",
		"(Not",
		"(Not Not <urn:x:1>)",
		"(Nope <urn:x:1>)",
		"(No <urn:x:1>)",
		"(<>)",
		"(<urn:x 1>)",
		"(<noscheme>)",
		"(<:x>)",
		"(<1a:x>)",
		"(<urn:<x>)",
		"([])",
		"([ ])",
		"([\"e\")",
		"([\"e\"",
		"([\"e)",
		"([w/\"e\"])",
		"([\"e\" \"f\"])",
		"([e f])",
		"([\"a\x01\"])",
		"((<urn:x:1>))",
		"(<urn:x:1>) x",
		"(<urn:x:1>),(<urn:x:2>)",
		// Tags.
		"<http://h/x>",
		"<http://h/x> ",
		"<http://h/x> <http://h/y> (<urn:x:1>)",
		"<http://h/x> (<urn:x:1>) <http://h/y>",
		"<http://h/x (<urn:x:1>)",
		"<> (<urn:x:1>)",
		"<x> (<urn:x:1>)",
		"<urn:x> (<urn:x:1>)",
		"< /x> (<urn:x:1>)",
		"<http://h/a%2Fb> (<urn:x:1>)",
		"<http://h/a%00b> (<urn:x:1>)",
		"<http://h/a%zz> (<urn:x:1>)",
		"<http://h/a?q> (<urn:x:1>)",
		"<http://h/a#f> (<urn:x:1>)",
		"</a/../..> (<urn:x:1>)",
		"<http://h/a\tb> (<urn:x:1>)",
		"<http://<h/a> (<urn:x:1>)",
		// Mixing tagged and untagged lists (RFC 4918 §10.4.2).
		"(<urn:x:1>) <http://h/x> (<urn:x:2>)",
		"<http://h/x> (<urn:x:1>) x (<urn:x:2>)",
	}
	for _, in := range tests {
		h, err := header.ParseIf(in)
		if !errors.Is(err, header.ErrBadIf) {
			t.Errorf("ParseIf(%q) = %v, %v; want ErrBadIf", in, h, err)
		}
	}
}

func TestParseIfLimits(t *testing.T) {
	list := "(<urn:x:1>)"
	ok := strings.Repeat(list, header.MaxIfLists)
	if _, err := header.ParseIf(ok); err != nil {
		t.Errorf("%d lists: %v", header.MaxIfLists, err)
	}
	if _, err := header.ParseIf(ok + list); !errors.Is(err, header.ErrTooComplex) {
		t.Errorf("%d lists: %v, want ErrTooComplex", header.MaxIfLists+1, err)
	}
	tagged := strings.Repeat("</a> (<urn:x:1>) ", header.MaxIfLists+1)
	if _, err := header.ParseIf(tagged); !errors.Is(err, header.ErrTooComplex) {
		t.Errorf("%d tagged lists: %v, want ErrTooComplex", header.MaxIfLists+1, err)
	}
	conds := strings.Repeat(`["e"]`, header.MaxIfConditions)
	if _, err := header.ParseIf("(" + conds + ")"); err != nil {
		t.Errorf("%d conditions: %v", header.MaxIfConditions, err)
	}
	if _, err := header.ParseIf("(" + conds + `["e"])`); !errors.Is(err, header.ErrTooComplex) {
		t.Errorf("%d conditions: %v, want ErrTooComplex", header.MaxIfConditions+1, err)
	}
	long := "(<urn:x:" + strings.Repeat("a", header.MaxIfLength) + ">)"
	if _, err := header.ParseIf(long); !errors.Is(err, header.ErrTooComplex) {
		t.Errorf("%d bytes: %v, want ErrTooComplex", len(long), err)
	}
	edge := "(<urn:x:" + strings.Repeat("a", header.MaxIfLength-10) + ">)"
	if _, err := header.ParseIf(edge); err != nil {
		t.Errorf("%d bytes: %v", len(edge), err)
	}
}

func TestIfString(t *testing.T) {
	h, err := header.ParseIf("  <http://h/a>(not <urn:x:1>[W/\"e\"])  (<urn:x:2>)<http://h/b> ( [f] )")
	if err != nil {
		t.Fatal(err)
	}
	want := `<http://h/a> (Not <urn:x:1> [W/"e"]) (<urn:x:2>) <http://h/b> ([f])`
	if got := h.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := (header.If{}).String(); got != "" {
		t.Errorf("zero If String() = %q", got)
	}
}

func TestSubmittedTokens(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"(<urn:x:1>)", []string{"urn:x:1"}},
		{"(<urn:x:1>) (Not <DAV:no-lock>)", []string{"urn:x:1"}},
		{`(<urn:x:1> ["stale"]) (Not <DAV:no-lock>)`, []string{"urn:x:1"}},
		{"(Not <urn:x:1> <urn:x:2>)", []string{"urn:x:2"}},
		{"(<DAV:no-lock>) (<dav:NO-LOCK>)", nil},
		{"</a> (<urn:x:1>) </b> (<urn:x:2> <urn:x:1>) (<urn:x:3>)", []string{"urn:x:1", "urn:x:2", "urn:x:3"}},
		{`(["e"])`, nil},
	}
	for _, tt := range tests {
		h, err := header.ParseIf(tt.in)
		if err != nil {
			t.Fatalf("ParseIf(%q): %v", tt.in, err)
		}
		if got := h.SubmittedTokens(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SubmittedTokens(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := (header.If{}).SubmittedTokens(); got != nil {
		t.Errorf("zero If: %q", got)
	}
}

func FuzzIf(f *testing.F) {
	for _, s := range []string{
		`(<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> ["I am an ETag"]) (["I am another ETag"])`,
		"(Not <urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> <urn:uuid:58f202ac-22cf-11d1-b12d-002035b29092>)",
		"(<urn:x:1>) (Not <DAV:no-lock>)",
		"</resource1> (<urn:x:1> [W/\"A weak ETag\"]) ([\"strong ETag\"])",
		"<http://www.example.com/specs/> (<urn:x:1>)",
		"<http://h/dav/a%20b/> (<urn:x:1> [e1]) (Not <DAV:no-lock> [e1])",
		"(<urn:x:1>) <http://h/x> (<urn:x:2>)",
		"(not<a:b>[\"]\"])",
	} {
		f.Add(s, "/dav", "/a")
	}
	f.Fuzz(func(t *testing.T, s, prefix, reqPath string) {
		h, err := header.ParseIf(s)
		if err != nil {
			bad, complex := errors.Is(err, header.ErrBadIf), errors.Is(err, header.ErrTooComplex)
			if bad == complex {
				t.Fatalf("error %v: ErrBadIf %v, ErrTooComplex %v", err, bad, complex)
			}
			return
		}
		if len(h.Lists) == 0 || len(h.Lists) > header.MaxIfLists {
			t.Fatalf("%d lists", len(h.Lists))
		}
		for _, l := range h.Lists {
			if (l.Tag != "") != h.Tagged || (l.Path != "") != h.Tagged {
				t.Fatalf("list %#v in a header with Tagged %v", l, h.Tagged)
			}
			if l.Path != "" {
				checkClean(t, "tag path", l.Path)
			}
			if len(l.Conditions) == 0 || len(l.Conditions) > header.MaxIfConditions {
				t.Fatalf("%d conditions", len(l.Conditions))
			}
			for _, c := range l.Conditions {
				if (c.Token == "") == (c.ETag == "") {
					t.Fatalf("condition %#v", c)
				}
			}
		}
		// Round trip through the canonical form.
		again, err := header.ParseIf(h.String())
		if err != nil || !reflect.DeepEqual(again, h) {
			t.Fatalf("round trip of %q via %q: %#v, %v", s, h.String(), again, err)
		}
		// Submitted tokens appear in the header, not negated.
		for _, tok := range h.SubmittedTokens() {
			if !strings.Contains(s, "<"+tok+">") {
				t.Fatalf("submitted %q not in %q", tok, s)
			}
		}
		// Eval never panics, calls the state function at most once per path,
		// and its strict tokens are a subset of the submitted ones.
		seen := map[string]bool{}
		res, err := h.Eval(reqPath, prefix, func(p string) (header.State, error) {
			if seen[p] {
				t.Fatalf("state(%q) called twice", p)
			}
			seen[p] = true
			var st header.State
			if len(p)%2 == 0 {
				st.ETag = `"e1"`
			}
			st.LockTokens = h.SubmittedTokens()
			if len(p)%3 == 0 {
				st.LockTokens = nil
			}
			return st, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sub := h.SubmittedTokens()
		for _, tok := range res.Tokens {
			if !contains(sub, tok) {
				t.Fatalf("Result token %q not submitted", tok)
			}
		}
		if !res.OK && len(res.Tokens) > 0 {
			t.Fatalf("tokens %q from a header that failed", res.Tokens)
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
