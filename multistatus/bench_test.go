package multistatus

import (
	"fmt"
	"io"
	"runtime"
	"strconv"
	"testing"
)

// The workload: a PROPFIND Depth 1 answer listing a large folder. Each
// response has an href, one 200 propstat with six live properties and one
// 404 propstat with one property.

const benchNS = "http://example.com/ns"

// benchResponses returns a pool of distinct responses the write benchmark
// cycles through (building them is not what is measured).
func benchResponses(pool int) []Response {
	rs := make([]Response, pool)
	for i := range rs {
		name := fmt.Sprintf("report-%06d.pdf", i)
		rs[i] = Response{
			Hrefs: []string{PathHref("/dav/projects/2026/"+name, false)},
			Propstats: []Propstat{
				{Status: NewStatus(200), Props: []Property{
					{Name: davName("resourcetype")},
					{Name: davName("getcontentlength"), Inner: []byte(strconv.Itoa(100000 + i*37))},
					{Name: davName("getlastmodified"), Inner: []byte("Tue, 03 Mar 2026 10:00:00 GMT")},
					{Name: davName("getetag"), Inner: []byte(fmt.Sprintf(`"%x-%x"`, 100000+i*37, 1772532000+i))},
					{Name: davName("getcontenttype"), Inner: []byte("application/pdf")},
					{Name: davName("displayname"), Inner: []byte(name)},
				}},
				{Status: NewStatus(404), Props: []Property{{Name: xname(benchNS, "tags")}}},
			},
		}
	}
	return rs
}

// listing is an io.Reader that generates the Writer's form of a listing of
// n responses on the fly, into one reused buffer: the document is never
// held in memory and generating it allocates nothing.
type listing struct {
	n, i int
	buf  []byte
	off  int
	end  bool
}

func newListing(n int) *listing {
	l := &listing{n: n, buf: make([]byte, 0, 1024)}
	l.buf = append(l.buf, header...)
	return l
}

func (l *listing) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if l.off == len(l.buf) {
			if l.end {
				if n == 0 {
					return 0, io.EOF
				}
				return n, nil
			}
			l.fill()
		}
		c := copy(p[n:], l.buf[l.off:])
		n += c
		l.off += c
	}
	return n, nil
}

func (l *listing) fill() {
	b := l.buf[:0]
	l.off = 0
	if l.i == l.n {
		l.buf = append(b, "</D:multistatus>\n"...)
		l.end = true
		return
	}
	i := l.i
	l.i++
	b = append(b, "<D:response><D:href>/dav/projects/2026/report-"...)
	b = appendPadded(b, i)
	b = append(b, ".pdf</D:href><D:propstat><D:prop><D:resourcetype/><D:getcontentlength>"...)
	b = strconv.AppendInt(b, int64(100000+i*37), 10)
	b = append(b, "</D:getcontentlength><D:getlastmodified>Tue, 03 Mar 2026 10:00:00 GMT</D:getlastmodified><D:getetag>\""...)
	b = strconv.AppendInt(b, int64(100000+i*37), 16)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(1772532000+i), 16)
	b = append(b, "\"</D:getetag><D:getcontenttype>application/pdf</D:getcontenttype><D:displayname>report-"...)
	b = appendPadded(b, i)
	b = append(b, ".pdf</D:displayname></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>"...)
	b = append(b, `<D:propstat><D:prop><tags xmlns="`+benchNS+`"/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response>`...)
	l.buf = b
}

func appendPadded(b []byte, i int) []byte {
	s := len(b)
	b = strconv.AppendInt(b, int64(i), 10)
	for len(b)-s < 6 {
		b = append(b[:s+1], b[s:]...)
		b[s] = '0'
	}
	return b
}

// memRun measures the memory of a run: peak HeapInuse (sampled), the
// allocations, and, when settle is set, the heap still live at the end of
// the run while the Reader or Writer is still referenced.
type memRun struct {
	peak         uint64
	start, total runtime.MemStats
	settle       bool
	retained     int64
}

func (m *memRun) begin() {
	runtime.GC()
	runtime.ReadMemStats(&m.start)
	m.peak = m.start.HeapInuse
}

func (m *memRun) sample() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	if s.HeapInuse > m.peak {
		m.peak = s.HeapInuse
	}
}

func (m *memRun) finish() { runtime.ReadMemStats(&m.total) }

// end is called at the end of a run with the Reader or Writer.
func (m *memRun) end(keep any) {
	if !m.settle {
		return
	}
	runtime.ReadMemStats(&m.total)
	runtime.GC()
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.retained = int64(s.HeapAlloc) - int64(m.start.HeapAlloc)
	runtime.KeepAlive(keep)
}

func (m *memRun) bytesPer(n int) float64 {
	return float64(m.total.TotalAlloc-m.start.TotalAlloc) / float64(n)
}

func (m *memRun) allocsPer(n int) float64 {
	return float64(m.total.Mallocs-m.start.Mallocs) / float64(n)
}

func (m *memRun) peakMiB() float64 { return float64(m.peak) / (1 << 20) }

const sampleEvery = 1000

// writeListing writes n responses from pool through a Writer to io.Discard.
func writeListing(tb testing.TB, pool []Response, n int, m *memRun) {
	w := NewWriter(io.Discard)
	for i := 0; i < n; i++ {
		if err := w.Write(&pool[i%len(pool)]); err != nil {
			tb.Fatal(err)
		}
		if i%sampleEvery == 0 {
			m.sample()
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	m.end(w)
}

// readListing reads a generated listing of n responses.
func readListing(tb testing.TB, n int, m *memRun) {
	r := NewReader(newListing(n))
	for i := 0; ; i++ {
		resp, err := r.Next()
		if err == io.EOF {
			if i != n {
				tb.Fatalf("%d responses, want %d", i, n)
			}
			m.end(r)
			return
		}
		if err != nil {
			tb.Fatal(err)
		}
		if len(resp.Propstats) != 2 || len(resp.Propstats[0].Props) != 6 {
			tb.Fatalf("response %d: %+v", i, resp)
		}
		if i%sampleEvery == 0 {
			m.sample()
		}
	}
}

var benchSizes = []int{10000, 100000}

func report(b *testing.B, m *memRun, n int) {
	total := b.N * n
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(total), "ns/response")
	b.ReportMetric(m.bytesPer(total), "B/response")
	b.ReportMetric(m.allocsPer(total), "allocs/response")
	b.ReportMetric(m.peakMiB(), "peak-heap-MiB")
}

func BenchmarkWrite(b *testing.B) {
	pool := benchResponses(1000)
	for _, n := range benchSizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			var m memRun
			m.begin()
			b.ResetTimer()
			for range b.N {
				writeListing(b, pool, n, &m)
			}
			b.StopTimer()
			m.finish()
			report(b, &m, n)
		})
	}
}

func BenchmarkRead(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			var m memRun
			m.begin()
			b.ResetTimer()
			for range b.N {
				readListing(b, n, &m)
			}
			b.StopTimer()
			m.finish()
			report(b, &m, n)
		})
	}
}

// TestListingIsWriterOutput: the generated listing is byte for byte what
// the Writer writes for the same responses, so reading it is reading a
// real document.
func TestListingIsWriterOutput(t *testing.T) {
	const n = 1200
	got, err := io.ReadAll(newListing(n))
	if err != nil {
		t.Fatal(err)
	}
	pool := benchResponses(n)
	want := encodeString(t, &Multistatus{Responses: pool})
	if string(got) != want {
		t.Fatalf("generated listing differs from the Writer's output\n got %.300s\nwant %.300s", got, want)
	}
}

// TestStreamingMemory: writing and reading 100,000 responses stays under a
// fixed peak heap, peaks no higher than 10,000 do (within the collector's
// noise), leaves no more live behind, and allocates the same per response.
func TestStreamingMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads and writes 110,000 responses")
	}
	const (
		bound        = 8 << 20   // peak HeapInuse
		peakMargin   = 5 << 19   // how much higher 100k may peak than 10k (2.5 MiB: GC timing)
		retainMargin = 256 << 10 // how much more 100k may leave live than 10k
	)
	pool := benchResponses(1000)
	for _, dir := range []string{"write", "read"} {
		t.Run(dir, func(t *testing.T) {
			var runs [2]memRun
			for i, n := range benchSizes {
				m := &runs[i]
				m.settle = true
				m.begin()
				if dir == "write" {
					writeListing(t, pool, n, m)
				} else {
					readListing(t, n, m)
				}
				t.Logf("%d responses: peak heap %.2f MiB, live at the end %+.0f KiB, %.0f B and %.2f allocs per response",
					n, m.peakMiB(), float64(m.retained)/1024, m.bytesPer(n), m.allocsPer(n))
			}
			small, large := &runs[0], &runs[1]
			if large.peak > bound {
				t.Errorf("peak heap %.2f MiB for %d responses, want under %.0f MiB", large.peakMiB(), benchSizes[1], float64(bound)/(1<<20))
			}
			if large.peak > small.peak+peakMargin {
				t.Errorf("peak heap grows with the listing: %.2f MiB for %d, %.2f MiB for %d", small.peakMiB(), benchSizes[0], large.peakMiB(), benchSizes[1])
			}
			if large.retained > small.retained+retainMargin {
				t.Errorf("live heap grows with the listing: %+d bytes after %d, %+d after %d", small.retained, benchSizes[0], large.retained, benchSizes[1])
			}
			if a, b := small.allocsPer(benchSizes[0]), large.allocsPer(benchSizes[1]); b > a*1.02+0.1 {
				t.Errorf("allocations per response grow: %.2f for %d, %.2f for %d", a, benchSizes[0], b, benchSizes[1])
			}
		})
	}
}

// BenchmarkAppendPathHref guards href encoding, paid once per listed
// resource: a plain name (the common case, copied as it is), and names
// with spaces, an ampersand and non-ASCII letters, which are escaped byte
// by byte. Each case checks its output once, so a wrong encoding fails
// the benchmark rather than measuring it.
func BenchmarkAppendPathHref(b *testing.B) {
	for _, tc := range []struct {
		name, prefix, path string
		collection         bool
		want               string
	}{
		{"plain", "/dav", "/projects/2026/report-000042.pdf", false, "/dav/projects/2026/report-000042.pdf"},
		{"collection", "", "/projects/2026", true, "/projects/2026/"},
		{"escaped", "/dav", "/Q1 & Q2/Résumé final.pdf", false, "/dav/Q1%20&amp;%20Q2/R%C3%A9sum%C3%A9%20final.pdf"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			if got := string(AppendPathHref(nil, tc.prefix, tc.path, tc.collection)); got != tc.want {
				b.Fatalf("AppendPathHref(%q, %q) = %q, want %q", tc.prefix, tc.path, got, tc.want)
			}
			buf := make([]byte, 0, 256)
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendPathHref(buf[:0], tc.prefix, tc.path, tc.collection)
			}
		})
	}
}

// BenchmarkAppendText guards the escaping of character data (display
// names, content types, dead property values): text with nothing to
// escape, and text with markup, a carriage return, a control character
// and invalid UTF-8.
func BenchmarkAppendText(b *testing.B) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "Quarterly report, final version (2026).pdf", "Quarterly report, final version (2026).pdf"},
		{"escaped", "a<b> & c\r\x01\xff", "a&lt;b&gt; &amp; c&#xD;\uFFFD\uFFFD"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			if got := string(AppendText(nil, tc.in)); got != tc.want {
				b.Fatalf("AppendText(%q) = %q, want %q", tc.in, got, tc.want)
			}
			buf := make([]byte, 0, 256)
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendText(buf[:0], tc.in)
			}
		})
	}
}
