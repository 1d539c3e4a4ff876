package multistatus

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// helpers shared by the tests of this package

func encodeString(t testing.TB, ms *Multistatus) string {
	t.Helper()
	var b bytes.Buffer
	if err := Encode(&b, ms); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return b.String()
}

func decodeString(t testing.TB, doc string) *Multistatus {
	t.Helper()
	ms, err := Decode(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("Decode: %v\n%s", err, doc)
	}
	return ms
}

func okResponse(href string) Response {
	return Response{Hrefs: []string{href}, Status: NewStatus(200)}
}

func TestWriterRefusesInvalid(t *testing.T) {
	ps200 := Propstat{Status: NewStatus(200), Props: []Property{{Name: davName("getetag"), Inner: []byte(`"x"`)}}}
	tests := []struct {
		name string
		r    Response
	}{
		{"no href, status", Response{Status: NewStatus(200)}},
		{"no href, propstat", Response{Propstats: []Propstat{ps200}}},
		{"empty href list", Response{Hrefs: []string{}, Status: NewStatus(200)}},
		{"both status and propstat", Response{Hrefs: []string{"/a"}, Status: NewStatus(200), Propstats: []Propstat{ps200}}},
		{"neither status nor propstat", Response{Hrefs: []string{"/a"}}},
		{"neither, with error", Response{Hrefs: []string{"/a"}, Error: []Condition{DAVCondition("lock-token-submitted")}}},
		{"two hrefs with propstat", Response{Hrefs: []string{"/a", "/b"}, Propstats: []Propstat{ps200}}},
		{"status 100", Response{Hrefs: []string{"/a"}, Status: NewStatus(100)}},
		{"status 102", Response{Hrefs: []string{"/a"}, Status: NewStatus(102)}},
		{"status 199", Response{Hrefs: []string{"/a"}, Status: Status{Code: 199}}},
		{"status 1000", Response{Hrefs: []string{"/a"}, Status: Status{Code: 1000}}},
		{"status -1", Response{Hrefs: []string{"/a"}, Status: Status{Code: -1}}},
		{"propstat 100", Response{Hrefs: []string{"/a"}, Propstats: []Propstat{{Status: NewStatus(100)}}}},
		{"propstat 101 after a 200", Response{Hrefs: []string{"/a"}, Propstats: []Propstat{ps200, {Status: NewStatus(101)}}}},
		{"propstat without status", Response{Hrefs: []string{"/a"}, Propstats: []Propstat{{Props: ps200.Props}}}},
		{"propstat 1000", Response{Hrefs: []string{"/a"}, Propstats: []Propstat{{Status: Status{Code: 1000}}}}},
	}
	encoders := []struct {
		name string
		new  func(io.Writer) Encoder
	}{
		{"xml", func(w io.Writer) Encoder { return NewWriter(w) }},
		{"json", func(w io.Writer) Encoder { return NewJSONWriter(w) }},
	}
	for _, enc := range encoders {
		for _, tt := range tests {
			t.Run(enc.name+"/"+tt.name, func(t *testing.T) {
				var dst bytes.Buffer
				w := enc.new(&dst)
				err := w.Write(&tt.r)
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Write = %v, want ErrInvalid", err)
				}
				if w.Started() {
					t.Error("Started() after a refused first Write")
				}
				if f, ok := w.(interface{ Flush() error }); ok {
					if err := f.Flush(); err != nil {
						t.Fatal(err)
					}
				}
				if dst.Len() != 0 {
					t.Fatalf("a refused first Write put %q on the destination", dst.String())
				}
				// The writer is still usable, and the refused response
				// leaves no trace in the document.
				good := okResponse("/good")
				if err := w.Write(&good); err != nil {
					t.Fatalf("Write after a refusal: %v", err)
				}
				if err := w.Write(&tt.r); !errors.Is(err, ErrInvalid) {
					t.Fatalf("second Write of the invalid response = %v, want ErrInvalid", err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if enc.name == "json" {
					var got map[string]any
					if err := json.Unmarshal(dst.Bytes(), &got); err != nil {
						t.Fatalf("invalid JSON %q: %v", dst.String(), err)
					}
					if n := len(got["responses"].([]any)); n != 1 {
						t.Fatalf("%d responses in %s, want 1", n, dst.String())
					}
					return
				}
				ms := decodeString(t, dst.String())
				if want := []Response{good}; !reflect.DeepEqual(ms.Responses, want) {
					t.Fatalf("document holds %+v, want only %+v", ms.Responses, want)
				}
			})
		}
	}
}

func TestWriterAccepts(t *testing.T) {
	tests := []struct {
		name string
		r    Response
	}{
		{"status 200", okResponse("/a")},
		{"status 999", Response{Hrefs: []string{"/a"}, Status: Status{Code: 999}}},
		{"status 200 without reason or proto", Response{Hrefs: []string{"/a"}, Status: Status{Code: 200}}},
		{"several hrefs with status", Response{Hrefs: []string{"/a", "/b", "/c"}, Status: NewStatus(423)}},
		{"propstat 200 and 404", Response{Hrefs: []string{"/a"}, Propstats: []Propstat{{Status: NewStatus(200)}, {Status: NewStatus(404)}}}},
		{"propstat 599", Response{Hrefs: []string{"/a"}, Propstats: []Propstat{{Status: Status{Code: 599}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst bytes.Buffer
			w := NewWriter(&dst)
			if err := w.Write(&tt.r); err != nil {
				t.Fatalf("Write: %v", err)
			}
			if !w.Started() {
				t.Error("Started() false after a Write")
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			ms := decodeString(t, dst.String())
			if len(ms.Responses) != 1 || !reflect.DeepEqual(ms.Responses[0].Hrefs, tt.r.Hrefs) ||
				ms.Responses[0].Status.Code != tt.r.Status.Code || len(ms.Responses[0].Propstats) != len(tt.r.Propstats) {
				t.Fatalf("read back %+v, want %+v", ms.Responses, tt.r)
			}
		})
	}
}

func TestWriterLifecycle(t *testing.T) {
	var dst bytes.Buffer
	w := NewWriter(&dst)
	if w.Started() {
		t.Fatal("Started before anything")
	}
	if err := w.Flush(); err != nil || dst.Len() != 0 {
		t.Fatalf("Flush before the first Write wrote %q (%v)", dst.String(), err)
	}
	r := okResponse("/a")
	if err := w.Write(&r); err != nil {
		t.Fatal(err)
	}
	if dst.Len() != 0 {
		t.Fatalf("Write went straight to the destination: %q", dst.String())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dst.String(), `<?xml version="1.0" encoding="utf-8"?>`+"\n"+`<D:multistatus xmlns:D="DAV:"><D:response>`) {
		t.Fatalf("after Flush: %q", dst.String())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := w.Write(&r); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close = %v, want ErrClosed", err)
	}
	if !strings.HasSuffix(dst.String(), "</D:response></D:multistatus>\n") {
		t.Fatalf("document does not end properly: %q", dst.String())
	}
}

type flushRecorder struct {
	bytes.Buffer
	flushes int
}

func (f *flushRecorder) Flush() { f.flushes++ }

// TestWriterFlushesDestination: Flush pushes an http.Flusher destination;
// Close writes the rest without flushing it (a handler's answer then goes
// out in one write when the handler returns).
func TestWriterFlushesDestination(t *testing.T) {
	for _, name := range []string{"xml", "json"} {
		var dst flushRecorder
		var w interface {
			Encoder
			Flush() error
		} = NewWriter(&dst)
		if name == "json" {
			w = NewJSONWriter(&dst)
		}
		r := okResponse("/a")
		if err := w.Write(&r); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if dst.flushes != 0 {
			t.Errorf("%s: Close flushed the destination %d times", name, dst.flushes)
		}
		if !strings.Contains(dst.String(), "/a") || !strings.HasSuffix(strings.TrimSpace(dst.String()), map[string]string{"xml": "</D:multistatus>", "json": "}"}[name]) {
			t.Errorf("%s: after Close the destination holds %q", name, dst.String())
		}
		dst = flushRecorder{}
		if name == "json" {
			w = NewJSONWriter(&dst)
		} else {
			w = NewWriter(&dst)
		}
		if err := w.Write(&r); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil || dst.flushes != 1 || !strings.Contains(dst.String(), "/a") {
			t.Errorf("%s: Flush = %v, %d flushes, destination %q", name, err, dst.flushes, dst.String())
		}
	}
}

var errBroken = errors.New("broken pipe")

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errBroken
	}
	f.n--
	return len(p), nil
}

func TestWriterDestinationError(t *testing.T) {
	w := NewWriter(&failWriter{})
	r := okResponse("/" + strings.Repeat("x", outBuf+1)) // larger than the buffer
	err := w.Write(&r)
	if !errors.Is(err, errBroken) {
		t.Fatalf("Write = %v, want the destination's error", err)
	}
	if err := w.Write(&r); !errors.Is(err, errBroken) {
		t.Fatalf("later Write = %v, want the same error", err)
	}
	if err := w.Close(); !errors.Is(err, errBroken) {
		t.Fatalf("Close = %v, want the same error", err)
	}
}

func TestEncodeEmpty(t *testing.T) {
	got := encodeString(t, &Multistatus{})
	want := `<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<D:multistatus xmlns:D="DAV:"></D:multistatus>` + "\n"
	if got != want {
		t.Fatalf("empty document:\n got %q\nwant %q", got, want)
	}
	ms := decodeString(t, got)
	if len(ms.Responses) != 0 || ms.ResponseDescription != "" {
		t.Fatalf("empty document decodes to %+v", ms)
	}
}

func TestEncodeReportsIndex(t *testing.T) {
	ms := &Multistatus{Responses: []Response{okResponse("/a"), {Hrefs: []string{"/b"}}}}
	err := Encode(io.Discard, ms)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "response 1") {
		t.Fatalf("Encode = %v, want ErrInvalid naming response 1", err)
	}
}

// TestWriterSanitizesText: text the caller passes that XML cannot hold
// (control characters, invalid UTF-8) must not make the document
// malformed.
func TestWriterSanitizesText(t *testing.T) {
	bad := "a\x00b\x01c\x1fd\xffe\uFFFEf\r\ng"
	ms := &Multistatus{
		Responses: []Response{{
			Hrefs:               []string{"/a\x00b"},
			Status:              Status{Proto: "HTTP/1.1", Code: 500, Reason: "bad\x02reason"},
			ResponseDescription: bad,
			Error:               []Condition{{Name: xname("urn:x\x01", "c")}},
			Location:            "/x\x00",
		}},
		ResponseDescription: bad,
	}
	doc := encodeString(t, ms)
	got := decodeString(t, doc)
	const want = "a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf\r\ng"
	r := got.Responses[0]
	if r.ResponseDescription != want || got.ResponseDescription != want {
		t.Errorf("descriptions read back as %q and %q, want %q", r.ResponseDescription, got.ResponseDescription, want)
	}
	if r.Status.Reason != "bad\uFFFDreason" {
		t.Errorf("reason read back as %q", r.Status.Reason)
	}
	if r.Hrefs[0] != "/a%00b" || r.Location != "/x%00" {
		t.Errorf("hrefs read back as %q, %q", r.Hrefs[0], r.Location)
	}
	if r.Error[0].Name.Space != "urn:x\uFFFD" {
		t.Errorf("condition namespace read back as %q", r.Error[0].Name.Space)
	}
}

// TestWriterInvalidName: a property name XML cannot hold is replaced so the
// document stays well-formed.
func TestWriterInvalidName(t *testing.T) {
	for _, local := range []string{"", "1abc", "a b", "a:b", "<x>", "×", "a\xff", "-x"} {
		ms := &Multistatus{Responses: []Response{{Hrefs: []string{"/"}, Propstats: []Propstat{{
			Status: NewStatus(200),
			Props:  []Property{{Name: xname("urn:x", local), Inner: []byte("v")}},
		}}}}}
		got := decodeString(t, encodeString(t, ms))
		if n := got.Responses[0].Propstats[0].Props[0].Name.Local; n != "invalid-name" {
			t.Errorf("local name %q written as %q, want invalid-name", local, n)
		}
	}
	for _, local := range []string{"a", "_x", "é", "日本", "a-b.c_9", "Ω"} {
		if !validName(local) {
			t.Errorf("validName(%q) = false", local)
		}
	}
}

func davName(local string) xml.Name { return xml.Name{Space: NS, Local: local} }

func xname(space, local string) xml.Name { return xml.Name{Space: space, Local: local} }

// TestWriterReset: a closed Writer, Reset on another destination, writes
// the same documents a new one does, WriteEncoded included.
func TestWriterReset(t *testing.T) {
	docs := []*Multistatus{
		{Responses: benchResponses(3), ResponseDescription: "first"},
		{},
		{Responses: benchResponses(40)},
	}
	var w Writer
	for i, ms := range docs {
		var b bytes.Buffer
		w.Reset(&b)
		for j := range ms.Responses {
			if j%2 == 1 {
				if err := w.WriteEncoded(appendResponse(nil, &ms.Responses[j])); err != nil {
					t.Fatal(err)
				}
			} else if err := w.Write(&ms.Responses[j]); err != nil {
				t.Fatal(err)
			}
		}
		w.ResponseDescription = ms.ResponseDescription
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteEncoded([]byte("<D:response/>")); !errors.Is(err, ErrClosed) {
			t.Errorf("WriteEncoded after Close: %v, want ErrClosed", err)
		}
		if want := encodeString(t, ms); b.String() != want {
			t.Errorf("document %d after Reset:\n got %.300s\nwant %.300s", i, b.String(), want)
		}
	}
}
