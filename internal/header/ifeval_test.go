package header_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/davit-dav/davit/internal/header"
)

// world is a fake server state: paths (relative to the prefix) to states.
// Absent paths are unmapped: no ETag, no locks.
type world map[string]header.State

func (w world) state(p string) (header.State, error) { return w[p], nil }

func TestIfEval(t *testing.T) {
	const (
		lt    = "opaquelocktoken:245ec6a9-e8e2-4c7d-acd4-740b9e301ae0"
		other = "urn:uuid:00000000-0000-0000-0000-000000000000"
	)
	w := world{
		"/file":              {ETag: `"e1"`, LockTokens: []string{lt}},
		"/unlocked":          {ETag: `"e2"`},
		"/weak":              {ETag: `W/"w1"`},
		"/specs":             {ETag: `"c1"`, LockTokens: []string{tok1}},
		"/specs/rfc2518.txt": {ETag: `"s1"`, LockTokens: []string{tok1}},
		"/resource1":         {ETag: `W/"A weak ETag"`, LockTokens: []string{tok1}},
		"/resource2":         {ETag: `"strong ETag"`},
		"/coll":              {LockTokens: []string{tok2}}, // a collection without an ETag
		"/coll/new":          {LockTokens: []string{tok2}}, // unmapped, in a Depth infinity lock
		"/shared":            {ETag: `"sh"`, LockTokens: []string{tok1, tok2}},
	}
	tests := []struct {
		name      string
		in        string
		reqPath   string
		ok        bool
		strict    []string
		submitted []string
	}{
		// litmus, locks suite.
		{"cond_put", `(<` + lt + `> ["e1"])`, "/file", true, []string{lt}, []string{lt}},
		{"fail_cond_put: stale etag", `(<` + lt + `> ["e0"])`, "/file", false, nil, []string{lt}},
		{"cond_put_with_not", `(<` + lt + `>) (Not <DAV:no-lock>)`, "/file", true, []string{lt}, []string{lt}},
		{"cond_put_corrupt_token", `(<` + lt + `x>) (Not <DAV:no-lock>)`, "/file", true, nil, []string{lt + "x"}},
		{"complex_cond_put", `(<` + lt + `> ["e1"]) (Not <DAV:no-lock> ["e1"])`, "/file", true, []string{lt}, []string{lt}},
		{"fail_complex_cond_put", `(<` + lt + `> ["bad"]) (Not <DAV:no-lock> ["bad"])`, "/file", false, nil, []string{lt}},
		{"token of an unlocked resource", `(<` + lt + `>)`, "/unlocked", false, nil, []string{lt}},
		{"DAV:no-lock never matches", `(<DAV:no-lock>)`, "/unlocked", false, nil, nil},
		{"DAV:no-lock in any case", `(<dav:No-Lock>)`, "/unlocked", false, nil, nil},
		{"Not DAV:no-lock always holds", `(Not <DAV:no-lock>)`, "/nothing", true, nil, nil},
		{"tagged, request resource", `<http://localhost/dav/file> (<` + lt + `>)`, "/file", true, []string{lt}, []string{lt}},
		{"tagged with another host: only the path counts", `<https://public.example.org/dav/file> (<` + lt + `>)`, "/unlocked", true, []string{lt}, []string{lt}},
		{"tagged path-absolute", `</dav/file> (<` + lt + `>)`, "/x", true, []string{lt}, []string{lt}},
		{"tagged outside the prefix is unmapped", `<http://localhost/other/file> (<` + lt + `>)`, "/file", false, nil, []string{lt}},
		{"tagged outside the prefix, negated", `<http://localhost/other/file> (Not <` + lt + `>)`, "/file", true, nil, nil},
		{"tag with escapes and trailing slash", `<http://h/dav/c%6Fll/> (<` + tok2 + `>)`, "/x", true, []string{tok2}, []string{tok2}},
		// neon's ne_lock_using_parent: a PUT creating a member of a locked collection.
		{"parent collection tagged", `<http://h/dav/coll/> (<` + tok2 + `>)`, "/coll/new", true, []string{tok2}, []string{tok2}},
		{"untagged token on an unmapped URL in a Depth infinity lock", `(<` + tok2 + `>)`, "/coll/new", true, []string{tok2}, []string{tok2}},
		{"collection without ETag", `(["c1"])`, "/coll", false, nil, nil},
		{"multiple lists, second holds", `(<` + other + `>) (<` + lt + `>)`, "/file", true, []string{lt}, []string{other, lt}},
		{"multiple lists, none holds", `(<` + other + `>) (["e9"])`, "/file", false, nil, []string{other}},
		{"shared lock: either token", `(<` + tok2 + `>)`, "/shared", true, []string{tok2}, []string{tok2}},
		{"two tags, one holds", `</dav/unlocked> (<` + lt + `>) </dav/file> (<` + lt + `>)`, "/file", true, []string{lt}, []string{lt}},
		{"two tags, none holds", `</dav/unlocked> (<` + lt + `>) </dav/nothing> (<` + lt + `>)`, "/file", false, nil, []string{lt}},
		// RFC 4918 §10.4.6.
		{"§10.4.6 first list", `(<` + tok1 + `> ["s1"]) (["I am another ETag"])`, "/specs/rfc2518.txt", true, []string{tok1}, []string{tok1}},
		{"§10.4.6 second list", `(<` + tok1 + `> ["I am an ETag"]) (["e2"])`, "/unlocked", true, nil, []string{tok1}},
		{"§10.4.6 neither", `(<` + tok1 + `> ["I am an ETag"]) (["I am another ETag"])`, "/specs", false, nil, []string{tok1}},
		// RFC 4918 §10.4.7.
		{"§10.4.7 locked by the second only", `(Not <` + tok1 + `> <` + tok2 + `>)`, "/coll", true, []string{tok2}, []string{tok2}},
		{"§10.4.7 locked by both", `(Not <` + tok1 + `> <` + tok2 + `>)`, "/shared", false, nil, []string{tok2}},
		// RFC 4918 §10.4.8: the token is submitted whatever its list gives.
		{"§10.4.8 stale token", `(<` + tok1 + `>) (Not <DAV:no-lock>)`, "/unlocked", true, nil, []string{tok1}},
		// RFC 4918 §10.4.9.
		{"§10.4.9 COPY, first list", `</dav/resource1> (<` + tok1 + `> [W/"A weak ETag"]) (["strong ETag"])`, "/resource1", true, []string{tok1}, []string{tok1}},
		{"§10.4.9 COPY, strong tag vs weak ETag", `</dav/resource1> (["A weak ETag"])`, "/resource1", false, nil, nil},
		{"§10.4.9 COPY, second list", `</dav/resource2> (<` + tok1 + `> [W/"A weak ETag"]) (["strong ETag"])`, "/resource1", true, nil, []string{tok1}},
		// RFC 4918 §10.4.10.
		{"§10.4.10 collection lock", `<http://www.example.com/dav/specs/> (<` + tok1 + `>)`, "/specs/rfc2518.txt", true, []string{tok1}, []string{tok1}},
		{"§10.4.10 wrong token", `<http://www.example.com/dav/specs/> (<` + tok2 + `>)`, "/specs/rfc2518.txt", false, nil, []string{tok2}},
		// RFC 4918 §10.4.11.
		{"§10.4.11 ETag on unmapped URL", `</dav/specs/rfc2518.doc> (["4217"])`, "/specs", false, nil, nil},
		{"§10.4.11 Not ETag on unmapped URL", `</dav/specs/rfc2518.doc> (Not ["4217"])`, "/specs", true, nil, nil},
		{"§10.4.11 token on unmapped URL", `</dav/specs/rfc2518.doc> (<` + lt + `>)`, "/specs", false, nil, []string{lt}},
		// Entity-tag comparison.
		{"strong tag, strong ETag", `(["e1"])`, "/file", true, nil, nil},
		{"weak tag, strong ETag", `([W/"e1"])`, "/file", true, nil, nil},
		{"weak tag, weak ETag", `([W/"w1"])`, "/weak", true, nil, nil},
		{"strong tag, weak ETag", `(["w1"])`, "/weak", false, nil, nil},
		{"unquoted tag, strong ETag", `([e1])`, "/file", true, nil, nil},
		{"different opaque tag", `([W/"e2"])`, "/file", false, nil, nil},
		{"Not ETag", `(Not ["e1"])`, "/file", false, nil, nil},
		{"Not ETag, other", `(Not ["e0"])`, "/file", true, nil, nil},
		{"Not token", `(Not <` + lt + `>)`, "/file", false, nil, nil},
		{"Not token, other", `(Not <` + other + `>)`, "/file", true, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := header.ParseIf(tt.in)
			if err != nil {
				t.Fatalf("ParseIf(%q): %v", tt.in, err)
			}
			res, err := h.Eval(tt.reqPath, "/dav", w.state)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK != tt.ok || !reflect.DeepEqual(res.Tokens, tt.strict) {
				t.Errorf("Eval(%q on %s) = %v %q, want %v %q", tt.in, tt.reqPath, res.OK, res.Tokens, tt.ok, tt.strict)
			}
			if got := h.SubmittedTokens(); !reflect.DeepEqual(got, tt.submitted) {
				t.Errorf("SubmittedTokens(%q) = %q, want %q", tt.in, got, tt.submitted)
			}
		})
	}
}

func TestIfEvalZero(t *testing.T) {
	res, err := header.If{}.Eval("/x", "/", func(string) (header.State, error) {
		t.Fatal("state called for an absent header")
		return header.State{}, nil
	})
	if err != nil || !res.OK || res.Tokens != nil {
		t.Errorf("zero If: %v %v", res, err)
	}
}

func TestIfEvalStateCalls(t *testing.T) {
	h, err := header.ParseIf(`</dav/a> (["1"]) (["2"]) </dav/b/> (["3"]) </dav/a/> (["4"]) <http://elsewhere/x> (["5"])`)
	if err != nil {
		t.Fatal(err)
	}
	var calls []string
	_, err = h.Eval("/", "/dav", func(p string) (header.State, error) {
		calls = append(calls, p)
		return header.State{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/a", "/b"}; !reflect.DeepEqual(calls, want) {
		t.Errorf("state calls %q, want %q", calls, want)
	}
}

func TestIfEvalError(t *testing.T) {
	boom := errors.New("boom")
	h, _ := header.ParseIf("(<urn:x:1>)")
	_, err := h.Eval("/x", "/", func(string) (header.State, error) { return header.State{}, boom })
	if !errors.Is(err, boom) {
		t.Errorf("Eval error = %v, want boom", err)
	}
}

func TestListTarget(t *testing.T) {
	h, err := header.ParseIf(`<http://h/dav/a%20b/> (["1"]) </davx/c> (["2"]) </dav> (["3"])`)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		p  string
		ok bool
	}{{"/a b", true}, {"", false}, {"/", true}}
	for i, l := range h.Lists {
		p, ok := l.Target("/req", "/dav/")
		if p != want[i].p || ok != want[i].ok {
			t.Errorf("list %d Target = %q, %v; want %q, %v", i, p, ok, want[i].p, want[i].ok)
		}
	}
	u, _ := header.ParseIf(`(["1"])`)
	if p, ok := u.Lists[0].Target("/req", "/dav"); p != "/req" || !ok {
		t.Errorf("untagged Target = %q, %v", p, ok)
	}
}
