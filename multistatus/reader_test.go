package multistatus

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestReaderAccepts(t *testing.T) {
	okHref := func(h string) []Response { return []Response{okResponse(h)} }
	tests := []struct {
		name string
		doc  string
		want Multistatus
	}{
		{
			name: "D prefix",
			doc:  `<D:multistatus xmlns:D="DAV:"><D:response><D:href>/a</D:href><D:status>HTTP/1.1 200 OK</D:status></D:response></D:multistatus>`,
			want: Multistatus{Responses: okHref("/a")},
		},
		{
			name: "any prefix",
			doc:  `<a:multistatus xmlns:a="DAV:"><a:response><a:href>/a</a:href><a:status>HTTP/1.1 200 OK</a:status></a:response></a:multistatus>`,
			want: Multistatus{Responses: okHref("/a")},
		},
		{
			name: "default namespace",
			doc:  `<multistatus xmlns="DAV:"><response><href>/a</href><status>HTTP/1.1 200 OK</status></response></multistatus>`,
			want: Multistatus{Responses: okHref("/a")},
		},
		{
			name: "prefixes changing midway",
			doc: `<x:multistatus xmlns:x="DAV:" xmlns:D="urn:not-dav"><response xmlns="DAV:"><y:href xmlns:y="DAV:">/a</y:href>` +
				`<x:status>HTTP/1.1 200 OK</x:status></response><D:response><x:response><x:href>/b</x:href><x:status>HTTP/1.1 200 OK</x:status></x:response></D:response></x:multistatus>`,
			want: Multistatus{Responses: okHref("/a")}, // the urn:not-dav response and all inside it are skipped
		},
		{
			name: "xml declaration, BOM, comments, PIs, doctype",
			doc: "\uFEFF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE multistatus>\n<!-- hi --><?pi?>\n" +
				`<D:multistatus xmlns:D="DAV:"><!-- c --><D:response><?pi?><D:href><!--x-->/a</D:href><D:status>HTTP/1.1 200 OK<!--y--></D:status></D:response></D:multistatus>` +
				"\n<!-- trailing comment -->\n<?pi after?>\n\n",
			want: Multistatus{Responses: okHref("/a")},
		},
		{
			name: "encoding us-ascii",
			doc:  `<?xml version="1.0" encoding="US-ASCII"?><D:multistatus xmlns:D="DAV:"><D:response><D:href>/a</D:href><D:status>HTTP/1.1 200 OK</D:status></D:response></D:multistatus>`,
			want: Multistatus{Responses: okHref("/a")},
		},
		{
			name: "white space everywhere",
			doc: "  \n<D:multistatus \n xmlns:D = 'DAV:' >\n\t<D:response >\n\t\t<D:href>\n\t\t\t/a b/\n\t\t</D:href >\n" +
				"\t\t<D:propstat>\n\t\t\t<D:prop>\n\t\t\t\t<D:getetag> \"e\" </D:getetag>\n\t\t\t</D:prop>\n" +
				"\t\t\t<D:status>\n\t\t\t\tHTTP/1.1  200  OK\n\t\t\t</D:status>\n\t\t</D:propstat>\n\t</D:response>\n</D:multistatus >\n\n",
			want: Multistatus{Responses: []Response{{
				Hrefs: []string{"/a%20b/"},
				Propstats: []Propstat{{
					Props:  []Property{{Name: davName("getetag"), Inner: []byte(` "e" `)}},
					Status: NewStatus(200),
				}},
			}}},
		},
		{
			name: "several hrefs with one status",
			doc: `<D:multistatus xmlns:D="DAV:"><D:response><D:href>/a</D:href><D:href>/b/</D:href><D:href>http://h/c</D:href>` +
				`<D:status>HTTP/1.1 423 Locked</D:status></D:response></D:multistatus>`,
			want: Multistatus{Responses: []Response{{Hrefs: []string{"/a", "/b/", "http://h/c"}, Status: NewStatus(423)}}},
		},
		{
			name: "hrefs escaped as the Writer would",
			doc: `<D:multistatus xmlns:D="DAV:"><D:response><D:href>/with space/100%/caf&#xE9;</D:href><D:href>/ok%20/x</D:href>` +
				`<D:status>HTTP/1.1 200 OK</D:status><D:location><D:href> /new place </D:href></D:location></D:response></D:multistatus>`,
			want: Multistatus{Responses: []Response{{Hrefs: []string{"/with%20space/100%25/caf%C3%A9", "/ok%20/x"}, Status: NewStatus(200), Location: "/new%20place"}}},
		},
		{
			name: "propstat form, several namespaces",
			doc: `<D:multistatus xmlns:D="DAV:" xmlns:Z="urn:z"><D:response><D:href>/f.txt</D:href>` +
				`<D:propstat><D:prop><D:getcontentlength>12</D:getcontentlength><D:resourcetype/><Z:color xml:lang="en">red</Z:color><plain>p</plain></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>` +
				`<D:propstat><D:prop><Z:missing/><D:quota-used-bytes/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>` +
				`</D:response></D:multistatus>`,
			want: Multistatus{Responses: []Response{{
				Hrefs: []string{"/f.txt"},
				Propstats: []Propstat{
					{Status: NewStatus(200), Props: []Property{
						{Name: davName("getcontentlength"), Inner: []byte("12")},
						{Name: davName("resourcetype")},
						{Name: xname("urn:z", "color"), Lang: "en", Inner: []byte("red")},
						{Name: xname("", "plain"), Inner: []byte("p")},
					}},
					{Status: NewStatus(404), Props: []Property{{Name: xname("urn:z", "missing")}, {Name: davName("quota-used-bytes")}}},
				},
			}}},
		},
		{
			name: "two prop elements in one propstat",
			doc: `<D:multistatus xmlns:D="DAV:"><D:response><D:href>/</D:href><D:propstat><D:prop><D:a/></D:prop><D:prop><D:b/></D:prop>` +
				`<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`,
			want: Multistatus{Responses: []Response{{Hrefs: []string{"/"}, Propstats: []Propstat{{
				Status: NewStatus(200), Props: []Property{{Name: davName("a")}, {Name: davName("b")}},
			}}}}},
		},
		{
			name: "error, location, responsedescription in response and propstat",
			doc: `<D:multistatus xmlns:D="DAV:" xmlns:x="urn:x"><D:response><D:href>/a</D:href>` +
				`<D:propstat><D:prop><x:p/></D:prop><D:status>HTTP/1.1 403 Forbidden</D:status>` +
				`<D:error><D:cannot-modify-protected-property/><x:own>detail</x:own></D:error>` +
				`<D:responsedescription>not &amp; allowed</D:responsedescription></D:propstat>` +
				`<D:error><D:lock-token-submitted><D:href>/locked</D:href></D:lock-token-submitted></D:error>` +
				`<D:responsedescription> Locked, see
 below </D:responsedescription>` +
				`<D:location><D:href>/elsewhere/</D:href></D:location></D:response></D:multistatus>`,
			want: Multistatus{Responses: []Response{{
				Hrefs: []string{"/a"},
				Propstats: []Propstat{{
					Props:               []Property{{Name: xname("urn:x", "p")}},
					Status:              NewStatus(403),
					Error:               []Condition{DAVCondition("cannot-modify-protected-property"), {Name: xname("urn:x", "own"), Inner: []byte("detail")}},
					ResponseDescription: "not & allowed",
				}},
				Error:               []Condition{{Name: davName("lock-token-submitted"), Inner: []byte("<D:href>/locked</D:href>")}},
				ResponseDescription: " Locked, see\n below ",
				Location:            "/elsewhere/",
			}}},
		},
		{
			name: "empty error element",
			doc:  `<D:multistatus xmlns:D="DAV:"><D:response><D:href>/a</D:href><D:status>HTTP/1.1 500 x</D:status><D:error/></D:response></D:multistatus>`,
			want: Multistatus{Responses: []Response{{Hrefs: []string{"/a"}, Status: Status{"HTTP/1.1", 500, "x"}, Error: []Condition{}}}},
		},
		{
			name: "document responsedescription before and after the responses",
			doc: `<D:multistatus xmlns:D="DAV:"><D:responsedescription>first</D:responsedescription><D:response><D:href>/a</D:href><D:status>HTTP/1.1 200 OK</D:status></D:response>` +
				`<D:responsedescription>Some <D:b>bold</D:b> text</D:responsedescription></D:multistatus>`,
			want: Multistatus{Responses: okHref("/a"), ResponseDescription: "Some  text"},
		},
		{
			name: "unknown elements at every level",
			doc: `<D:multistatus xmlns:D="DAV:" xmlns:u="urn:unknown">` +
				`<u:extra><D:response><D:href>/hidden</D:href><D:status>HTTP/1.1 200 OK</D:status></D:response></u:extra>` +
				`<D:unknown-dav/>stray text` +
				`<D:response><u:x a="1"><D:href>/hidden2</D:href></u:x><D:href>/a</D:href><u:href>/not-dav</u:href><D:foo><D:status>HTTP/1.1 500 No</D:status></D:foo>` +
				`stray<D:propstat><u:y/><D:prop><D:getetag>e</D:getetag></D:prop><u:status>HTTP/1.1 500 No</u:status><D:status>HTTP/1.1 200 OK</D:status><D:bar>x</D:bar></D:propstat>` +
				`<D:location><u:z/><D:href>/loc</D:href><u:href>/no</u:href></D:location>` +
				`<D:status-extension/></D:response><u:trailer/></D:multistatus>`,
			want: Multistatus{Responses: []Response{{
				Hrefs:     []string{"/a"},
				Propstats: []Propstat{{Status: NewStatus(200), Props: []Property{{Name: davName("getetag"), Inner: []byte("e")}}}},
				Location:  "/loc",
			}}},
		},
		{
			name: "child elements inside href and status are skipped",
			doc:  `<D:multistatus xmlns:D="DAV:"><D:response><D:href>/a<x xmlns="urn:x">junk</x>b</D:href><D:status>HTTP/1.1 <b>x</b>200 OK</D:status></D:response></D:multistatus>`,
			want: Multistatus{Responses: okHref("/ab")},
		},
		{
			name: "any status code",
			doc: `<D:multistatus xmlns:D="DAV:"><D:response><D:href>/a</D:href><D:status>HTTP/1.0 599 Odd</D:status></D:response>` +
				`<D:response><D:href>/b</D:href><D:status>102</D:status></D:response></D:multistatus>`,
			want: Multistatus{Responses: []Response{
				{Hrefs: []string{"/a"}, Status: Status{"HTTP/1.0", 599, "Odd"}},
				{Hrefs: []string{"/b"}, Status: Status{"", 102, ""}},
			}},
		},
		{
			name: "response with neither status nor propstat",
			doc:  `<D:multistatus xmlns:D="DAV:"><D:response><D:href>/a</D:href></D:response></D:multistatus>`,
			want: Multistatus{Responses: []Response{{Hrefs: []string{"/a"}}}},
		},
		{
			name: "empty multistatus, self-closing",
			doc:  `<D:multistatus xmlns:D="DAV:"/>`,
			want: Multistatus{},
		},
		{
			name: "empty multistatus",
			doc:  "<?xml version=\"1.0\"?>\n<multistatus xmlns=\"DAV:\">\n</multistatus>\n",
			want: Multistatus{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(strings.NewReader(tt.doc))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Fatalf("Decode\n got %s\nwant %s", dump(got), dump(&tt.want))
			}
			// The streaming API sees the same.
			r := NewReader(strings.NewReader(tt.doc))
			var resps []Response
			for resp, err := range r.Responses() {
				if err != nil {
					t.Fatal(err)
				}
				resps = append(resps, *resp)
			}
			if !reflect.DeepEqual(resps, tt.want.Responses) || r.ResponseDescription() != tt.want.ResponseDescription {
				t.Fatalf("Responses() gives %s", dump(&Multistatus{Responses: resps, ResponseDescription: r.ResponseDescription()}))
			}
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("Next after the end = %v, want io.EOF", err)
			}
		})
	}
}

// dump shows a Multistatus with byte slices as text.
func dump(ms *Multistatus) string {
	var sb strings.Builder
	for _, r := range ms.Responses {
		sb.WriteString("\n  response hrefs=")
		sb.WriteString(strings.Join(r.Hrefs, ","))
		sb.WriteString(" status=" + quote(r.Status.String()))
		for _, ps := range r.Propstats {
			sb.WriteString("\n    propstat status=" + quote(ps.Status.String()) + " props=" + propsString(ps.Props) +
				" error=" + condsString(ps.Error) + " desc=" + quote(ps.ResponseDescription))
		}
		sb.WriteString("\n    error=" + condsString(r.Error) + " desc=" + quote(r.ResponseDescription) + " location=" + quote(r.Location))
	}
	sb.WriteString("\n  desc=" + quote(ms.ResponseDescription))
	return sb.String()
}

func quote(s string) string { return "\"" + strings.ReplaceAll(s, "\"", "\\\"") + "\"" }

func condsString(cs []Condition) string {
	if cs == nil {
		return "nil"
	}
	var sb strings.Builder
	sb.WriteString("[")
	for _, c := range cs {
		sb.WriteString("{" + c.Name.Space + "}" + c.Name.Local + "=" + quote(string(c.Inner)) + " ")
	}
	return sb.String() + "]"
}

func TestReaderRejects(t *testing.T) {
	const root = `<D:multistatus xmlns:D="DAV:">`
	const resp = `<D:response><D:href>/a</D:href><D:status>HTTP/1.1 200 OK</D:status></D:response>`
	full := root + resp + `</D:multistatus>`
	tests := []struct {
		name      string
		doc       string
		lim       Limits
		line, col int // 0: not checked
		is        error
		msg       string
	}{
		{name: "empty input", doc: "", msg: "no multistatus element"},
		{name: "only white space", doc: " \n ", msg: "no multistatus element"},
		{name: "not XML", doc: "{\"responses\":[]}", msg: "text before"},
		{name: "text before the root", doc: "hello" + full, line: 1, col: 6, msg: "text before"},
		{name: "non-multistatus root", doc: "<?xml version=\"1.0\"?>\n<D:prop xmlns:D=\"DAV:\"/>", line: 2, col: 25, msg: "root element is {DAV:}prop"},
		{name: "multistatus in no namespace", doc: `<multistatus><response/></multistatus>`, line: 1, col: 14, msg: "not {DAV:}multistatus"},
		{name: "multistatus in another namespace", doc: `<multistatus xmlns="DAV"/>`, msg: "not {DAV:}multistatus"},
		{name: "html", doc: "<!DOCTYPE html>\n<html><body>Error</body></html>", line: 2, col: 7, msg: "{}html"},
		{name: "truncated in the root", doc: root, is: nil, msg: "unexpected EOF"},
		{name: "truncated in a response", doc: root + resp[:40], msg: "unexpected EOF"},
		{name: "truncated in a tag", doc: root + resp + "<D:resp", msg: "unexpected EOF"},
		{name: "truncated before the root", doc: "<?xml version=\"1.0\"?>", msg: "no multistatus element"},
		{name: "text after the root", doc: full + "\nhello", line: 2, col: 6, msg: "text after"},
		{name: "element after the root", doc: full + "<D:multistatus xmlns:D=\"DAV:\"/>", msg: "content after"},
		{name: "response without href", doc: root + "\n  <D:response>\n  </D:response>\n</D:multistatus>", line: 3, col: 16, msg: "response without href"},
		{name: "malformed status", doc: root + "\n<D:response>\n<D:href>/a</D:href>\n<D:status>HTTP/1.1 2x0 OK</D:status>\n</D:response></D:multistatus>", line: 4, col: 37, msg: "malformed status"},
		{name: "empty status", doc: root + `<D:response><D:href>/a</D:href><D:status/></D:response></D:multistatus>`, msg: "malformed status"},
		{name: "malformed propstat status", doc: root + `<D:response><D:href>/a</D:href><D:propstat><D:status>OK</D:status></D:propstat></D:response></D:multistatus>`, msg: "malformed status"},
		{name: "mismatched end tag", doc: root + "\n<D:response>\n<D:href>/a</D:hre>\n", line: 3, col: 19, msg: "closed by"},
		{name: "unknown entity", doc: root + "\n<D:response>\n<D:href>/a&bogus;</D:href>\n", line: 3, col: 18, msg: "entity"},
		{name: "bad attribute", doc: root + "\n<D:response x='1' y=>\n", line: 2, col: 22, msg: "attribute"},
		{name: "invalid UTF-8", doc: root + "\n<D:response><D:href>/\xff</D:href>", line: 2, msg: "UTF-8"},
		{name: "NUL character", doc: root + "<D:response><D:href>/a&#0;</D:href>", msg: "illegal character"},
		{name: "unsupported encoding", doc: `<?xml version="1.0" encoding="ISO-8859-1"?>` + full, msg: "unsupported encoding"},
		{name: "property named with a colon", doc: root + `<D:response><D:href>/a</D:href><D:propstat><D:prop><:odd/></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`, msg: "invalid element name"},
		{name: "condition named with a colon", doc: root + `<D:response><D:href>/a</D:href><D:status>HTTP/1.1 423 Locked</D:status><D:error><odd:/></D:error></D:response></D:multistatus>`, msg: "invalid element name"},
		{
			name: "too deep", lim: Limits{MaxDepth: 6},
			doc:  root + "\n<D:response><D:href>/a</D:href><D:propstat><D:prop>\n<a><b><c/></b></a>",
			line: 3, col: 11, is: ErrLimit, msg: "deeper than 6",
		},
		{
			name: "too deep at the limit", lim: Limits{MaxDepth: 5},
			doc: root + "<D:response><D:href>/a</D:href><D:propstat><D:prop><a><b/></a></D:prop></D:propstat></D:response></D:multistatus>",
			is:  ErrLimit,
		},
		{
			name: "too deep in an unknown element", lim: Limits{MaxDepth: 4},
			doc: root + "<u><u><u><u></u></u></u></u></D:multistatus>",
			is:  ErrLimit,
		},
		{
			name: "token too large", lim: Limits{MaxTokenBytes: 100},
			doc: root + "<D:response><D:href>/" + strings.Repeat("a", 1000) + "</D:href></D:response></D:multistatus>",
			is:  ErrLimit,
		},
		{
			name: "token too large: text in an unknown element", lim: Limits{MaxTokenBytes: 1000},
			doc: root + "<u>" + strings.Repeat("a", 20000) + "</u></D:multistatus>",
			is:  ErrLimit,
		},
		{
			name: "token too large: comment", lim: Limits{MaxTokenBytes: 1000},
			doc: root + "<!--" + strings.Repeat("a", 20000) + "--></D:multistatus>",
			is:  ErrLimit,
		},
		{
			name: "token too large: before the root", lim: Limits{MaxTokenBytes: 1000},
			doc: strings.Repeat(" ", 20000) + full,
			is:  ErrLimit,
		},
		{
			name: "token too large: after the root", lim: Limits{MaxTokenBytes: 1000},
			doc: full + "<!--" + strings.Repeat(" ", 20000) + "-->",
			is:  ErrLimit,
		},
		{
			name: "token too large: attributes", lim: Limits{MaxTokenBytes: 1000},
			doc: root + "<D:response" + strings.Repeat(` a="1"`, 5000) + "/></D:multistatus>",
			is:  ErrLimit,
		},
		{
			name: "token too large: in a property value", lim: Limits{MaxTokenBytes: 1000},
			doc: root + "<D:response><D:href>/a</D:href><D:propstat><D:prop><D:x>" + strings.Repeat("a", 20000) + "</D:x></D:prop></D:propstat></D:response></D:multistatus>",
			is:  ErrLimit,
		},
		{
			name: "bad character entity at the end of a line",
			doc:  "&\n0",
			line: 1, col: 2, msg: "entity",
		},
		{
			name: "href text too long across comments", lim: Limits{MaxTokenBytes: 100},
			doc: root + "<D:response><D:href>" + strings.Repeat("aaaaaaaaaa<!---->", 20) + "</D:href></D:response></D:multistatus>",
			is:  ErrLimit,
		},
		{
			name: "response too large", lim: Limits{MaxResponseBytes: 300},
			doc: root + "<D:response><D:href>/a</D:href><D:propstat><D:prop>" + strings.Repeat("<D:x/>", 100) + "</D:prop></D:propstat></D:response></D:multistatus>",
			is:  ErrLimit,
		},
		{
			name: "response too large inside one property", lim: Limits{MaxResponseBytes: 300},
			doc: root + "<D:response><D:href>/a</D:href><D:propstat><D:prop><D:x>" + strings.Repeat("<y/>", 100) + "</D:x></D:prop></D:propstat></D:response></D:multistatus>",
			is:  ErrLimit,
		},
		{
			name: "response too large in error", lim: Limits{MaxResponseBytes: 300},
			doc: root + "<D:response><D:href>/a</D:href><D:status>HTTP/1.1 423 Locked</D:status><D:error>" + strings.Repeat("<D:x/>", 100) + "</D:error></D:response></D:multistatus>",
			is:  ErrLimit,
		},
		{
			name: "response too large in hrefs", lim: Limits{MaxResponseBytes: 300},
			doc: root + "<D:response>" + strings.Repeat("<D:href>/a</D:href>", 100) + "<D:status>HTTP/1.1 200 OK</D:status></D:response></D:multistatus>",
			is:  ErrLimit,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReaderLimits(strings.NewReader(tt.doc), tt.lim)
			var err error
			for {
				if _, err = r.Next(); err != nil {
					break
				}
			}
			if err == io.EOF {
				t.Fatal("document accepted")
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T) is not a *SyntaxError", err, err)
			}
			if tt.line != 0 && se.Line != tt.line {
				t.Errorf("line %d, want %d (%v)", se.Line, tt.line, err)
			}
			if tt.col != 0 && se.Column != tt.col {
				t.Errorf("column %d, want %d (%v)", se.Column, tt.col, err)
			}
			if se.Line < 1 || se.Column < 1 || se.Offset < 0 || se.Offset > int64(len(tt.doc)) {
				t.Errorf("position out of range: %+v", se)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			if tt.msg != "" && !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
			if _, again := r.Next(); again != err {
				t.Errorf("Next after the error = %v, want the same error", again)
			}
		})
	}
}

// TestReaderErrorKeepsEarlierResponses: responses before a fault are
// delivered, then the error; the truncated listing never ends in io.EOF.
func TestReaderErrorKeepsEarlierResponses(t *testing.T) {
	doc := `<D:multistatus xmlns:D="DAV:">` + strings.Repeat(`<D:response><D:href>/a</D:href><D:status>HTTP/1.1 200 OK</D:status></D:response>`, 3) + `<D:response><D:hr`
	r := NewReader(strings.NewReader(doc))
	n := 0
	var last error
	for resp, err := range r.Responses() {
		if err != nil {
			last = err
			break
		}
		if resp.Hrefs[0] != "/a" {
			t.Fatalf("response %d: %+v", n, resp)
		}
		n++
	}
	if n != 3 || last == nil {
		t.Fatalf("%d responses then %v; want 3 then an error", n, last)
	}
	if _, err := Decode(strings.NewReader(doc)); err == nil {
		t.Fatal("Decode accepted a truncated document")
	}
}

// TestReaderPositions checks exact error positions on a pretty-printed
// document with multi-byte characters (columns count bytes).
func TestReaderPositions(t *testing.T) {
	lines := []string{
		`<?xml version="1.0" encoding="utf-8"?>`,
		`<D:multistatus xmlns:D="DAV:">`,
		`  <D:response>`,
		`    <D:href>/日本</D:href>`,
		`    <D:status>HTTP/1.1 200 OK</D:status>`,
		`  </D:response>`,
		`  <D:response>`,
		`    <D:href>/b</D:href>`,
		`    <D:propstat><D:prop><D:x>&nope;</D:x></D:prop></D:propstat>`,
	}
	doc := strings.Join(lines, "\n")
	r := NewReader(strings.NewReader(doc))
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	_, err := r.Next()
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not a *SyntaxError", err)
	}
	wantCol := strings.Index(lines[8], "&nope;") + len("&nope;") + 1
	wantOff := int64(strings.Index(doc, "&nope;") + len("&nope;"))
	if se.Line != 9 || se.Column != wantCol || se.Offset != wantOff {
		t.Fatalf("error at line %d column %d offset %d, want line 9 column %d offset %d (%v)", se.Line, se.Column, se.Offset, wantCol, wantOff, err)
	}
	if !strings.Contains(se.Error(), "line 9, column 36") {
		t.Fatalf("message %q does not give the position", se.Error())
	}
}

// TestReaderValuesIndependent: values may share memory, but appending to
// one never changes another.
func TestReaderValuesIndependent(t *testing.T) {
	doc := `<D:multistatus xmlns:D="DAV:"><D:response><D:href>/a</D:href><D:propstat><D:prop><D:a>ab</D:a><D:b>cd</D:b></D:prop>` +
		`<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>` +
		`<D:response><D:href>/b</D:href><D:propstat><D:prop><D:c>ef</D:c></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`
	ms := decodeString(t, doc)
	a := ms.Responses[0].Propstats[0].Props[0].Inner
	if cap(a) != len(a) {
		t.Fatalf("value has spare capacity %d > %d", cap(a), len(a))
	}
	a = append(a, "XYZXYZ"...)
	a[0] = 'Q'
	if b, c := string(ms.Responses[0].Propstats[0].Props[1].Inner), string(ms.Responses[1].Propstats[0].Props[0].Inner); b != "cd" || c != "ef" {
		t.Fatalf("appending to one value changed the others: %q, %q", b, c)
	}
	if got := string(ms.Responses[0].Propstats[0].Props[0].Inner); got != "ab" {
		t.Fatalf("appending changed the value itself: %q", got)
	}
}
