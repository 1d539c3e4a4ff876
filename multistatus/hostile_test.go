package multistatus

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

// endless is an io.Reader that generates head, then unit repeated count
// times (forever when count < 0), then tail, without holding the whole
// document. Every sampleEvery bytes it samples the heap, so the peak can be
// checked even while the reader is busy inside one call.
type endless struct {
	head, unit, tail []byte
	count            int64

	part     int // 0 head, 1 units, 2 tail, 3 done
	off      int // offset in the current piece
	done     int64
	produced int64

	sampleEvery int64
	nextSample  int64
	peakHeap    uint64
}

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		var piece []byte
		switch e.part {
		case 0:
			piece = e.head
		case 1:
			if e.count >= 0 && e.done >= e.count {
				e.part, e.off = 2, 0
				continue
			}
			piece = e.unit
		case 2:
			piece = e.tail
		default:
			if n == 0 {
				return 0, io.EOF
			}
			return n, nil
		}
		c := copy(p[n:], piece[e.off:])
		n += c
		e.off += c
		if e.off == len(piece) {
			e.off = 0
			if e.part == 1 {
				e.done++
			} else {
				e.part++
			}
		}
	}
	e.produced += int64(n)
	if e.sampleEvery > 0 && e.produced >= e.nextSample {
		e.nextSample = e.produced + e.sampleEvery
		e.sample()
	}
	return n, nil
}

func (e *endless) sample() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if m.HeapInuse > e.peakHeap {
		e.peakHeap = m.HeapInuse
	}
}

const msRoot = `<D:multistatus xmlns:D="DAV:">`

// inResponse and inProp are the heads that put what follows inside a
// response, or inside a property value.
const (
	inResponse = msRoot + `<D:response><D:href>/a</D:href>`
	inProp     = inResponse + `<D:propstat><D:prop><D:x>`
)

func TestHostileInput(t *testing.T) {
	const mib = 1 << 20
	// Within one response, memory is bounded by a multiple of
	// MaxResponseBytes (slices double, and the collector lets garbage
	// reach the size of what is live).
	respLim := Limits{MaxResponseBytes: 4 * mib}
	tests := []struct {
		name string
		e    *endless
		lim  Limits
		// every case must end in ErrLimit, having read at most maxRead
		// bytes with the heap growing by at most maxHeap
		maxRead int64
		maxHeap uint64
	}{
		{
			name: "200 MB text node in an href",
			e:    &endless{head: []byte(inResponse + `<D:href>`), unit: []byte(strings.Repeat("a", 4096)), count: 200 * mib / 4096},
		},
		{
			name: "200 MB text node in a property",
			e:    &endless{head: []byte(inProp), unit: []byte(strings.Repeat("b", 4096)), count: 200 * mib / 4096},
		},
		{
			name: "200 MB text node in an unknown element",
			e:    &endless{head: []byte(msRoot + `<u xmlns="urn:u">`), unit: []byte(strings.Repeat("c", 4096)), count: 200 * mib / 4096},
		},
		{
			name: "200 MB of white space between elements",
			e:    &endless{head: []byte(msRoot), unit: []byte(strings.Repeat(" \n\t", 4096)), count: 200 * mib / (3 * 4096)},
		},
		{
			name: "200 MB comment",
			e:    &endless{head: []byte(msRoot + `<!--`), unit: []byte(strings.Repeat("d", 4096)), count: 200 * mib / 4096, tail: []byte(`-->`)},
		},
		{
			name: "200 MB CDATA in a property",
			e:    &endless{head: []byte(inProp + `<![CDATA[`), unit: []byte(strings.Repeat("e", 4096)), count: 200 * mib / 4096},
		},
		{
			name: "200 MB attribute value",
			e:    &endless{head: []byte(inProp + `<y a="`), unit: []byte(strings.Repeat("f", 4096)), count: 200 * mib / 4096},
		},
		{
			name: "10,000-deep nesting in a property",
			e:    &endless{head: []byte(inProp), unit: []byte(`<x>`), count: 10000},
		},
		{
			name: "10,000-deep nesting in the root",
			e:    &endless{head: []byte(msRoot), unit: []byte(`<u>`), count: 10000},
		},
		{
			name: "10,000-deep nesting of responses",
			e:    &endless{head: []byte(msRoot), unit: []byte(`<D:response>`), count: 10000},
		},
		{
			name: "10,000-deep nesting in an error",
			e:    &endless{head: []byte(inResponse + `<D:error>`), unit: []byte(`<D:x>`), count: 10000},
		},
		// encoding/xml builds all of a start tag's attributes before the
		// token limit (1 MiB) stops it: some 25 bytes of heap per byte.
		{
			name:    "start tag with a million attributes",
			e:       &endless{head: []byte(msRoot + `<D:response`), unit: []byte(` a="1"`), count: 1e6},
			maxHeap: 48 * mib,
		},
		{
			name:    "start tag with a million namespace declarations",
			e:       &endless{head: []byte(msRoot + `<D:response`), unit: []byte(` xmlns:p="u"`), count: 1e6},
			maxHeap: 48 * mib,
		},
		{
			name:    "property element with a million attributes",
			e:       &endless{head: []byte(inProp + `<y`), unit: []byte(` b="2"`), count: 1e6},
			maxHeap: 48 * mib,
		},
		{
			name:    "endless properties in one response, default limits",
			e:       &endless{head: []byte(inResponse + `<D:propstat><D:prop>`), unit: []byte(`<D:x/>`), count: -1},
			maxRead: 16*mib + 64<<10,
			maxHeap: 6 * 16 * mib,
		},
		{
			name:    "endless properties in one response",
			e:       &endless{head: []byte(inResponse + `<D:propstat><D:prop>`), unit: []byte(`<D:x/>`), count: -1},
			lim:     respLim,
			maxRead: 4*mib + 64<<10,
			maxHeap: 6 * 4 * mib,
		},
		{
			name:    "endless children in one property",
			e:       &endless{head: []byte(inProp), unit: []byte(`<y/>`), count: -1},
			lim:     respLim,
			maxRead: 4*mib + 64<<10,
			maxHeap: 6 * 4 * mib,
		},
		{
			name:    "endless conditions in one error",
			e:       &endless{head: []byte(inResponse + `<D:error>`), unit: []byte(`<D:x/>`), count: -1},
			lim:     respLim,
			maxRead: 4*mib + 64<<10,
			maxHeap: 6 * 4 * mib,
		},
		{
			name:    "endless hrefs in one response",
			e:       &endless{head: []byte(inResponse), unit: []byte(`<D:href>/b</D:href>`), count: -1},
			lim:     respLim,
			maxRead: 4*mib + 64<<10,
			maxHeap: 6 * 4 * mib,
		},
		{
			name:    "endless unknown elements in one response",
			e:       &endless{head: []byte(inResponse), unit: []byte(`<u xmlns="urn:u">x</u>`), count: -1},
			lim:     respLim,
			maxRead: 4*mib + 64<<10,
			maxHeap: 12 * mib,
		},
		{
			name:    "endless propstats in one response",
			e:       &endless{head: []byte(inResponse), unit: []byte(`<D:propstat><D:prop/><D:status>HTTP/1.1 200 OK</D:status></D:propstat>`), count: -1},
			lim:     respLim,
			maxRead: 4*mib + 64<<10,
			maxHeap: 6 * 4 * mib,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.maxRead == 0 {
				tt.maxRead = 2 * mib
			}
			if tt.maxHeap == 0 {
				tt.maxHeap = 12 * mib
			}
			tt.e.sampleEvery = 256 << 10
			base := settledHeap()
			r := NewReaderLimits(tt.e, tt.lim)
			var err error
			n := 0
			for ; ; n++ {
				if _, err = r.Next(); err != nil {
					break
				}
			}
			tt.e.sample()
			if !errors.Is(err, ErrLimit) {
				t.Fatalf("after %d responses: %v, want ErrLimit", n, err)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("%v is not a *SyntaxError", err)
			}
			if tt.e.produced > tt.maxRead {
				t.Errorf("read %d bytes before stopping, want at most %d", tt.e.produced, tt.maxRead)
			}
			growth := int64(tt.e.peakHeap) - int64(base)
			if growth > int64(tt.maxHeap) {
				t.Errorf("heap grew by %.1f MiB, want at most %.1f MiB", float64(growth)/mib, float64(tt.maxHeap)/mib)
			}
			t.Logf("%v; read %.1f MiB, heap +%.1f MiB", err, float64(tt.e.produced)/mib, float64(growth)/mib)
		})
	}
}

// settledHeap collects garbage and returns the heap in use.
func settledHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestHostileStreams: inputs that are long but within every limit stream
// through with bounded heap. The heap may peak streamHeapBound above where
// it started (the collector's slack over a small live heap), far less than
// what is read; and what the Reader still holds at the end, once garbage is
// collected, is under retainBound.
func TestHostileStreams(t *testing.T) {
	const (
		mib             = 1 << 20
		streamHeapBound = 16 * mib
		retainBound     = 1 * mib
	)
	resp := `<D:response><D:href>/dir/file.txt</D:href><D:propstat><D:prop><D:getcontentlength>12</D:getcontentlength>` +
		`<D:getetag>"e"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`
	n := 100000
	if testing.Short() {
		n = 10000
	}
	check := func(t *testing.T, e *endless, r *Reader, base uint64) {
		t.Helper()
		e.sample()
		if growth := int64(e.peakHeap) - int64(base); growth > streamHeapBound {
			t.Errorf("heap peaked %.1f MiB above its start, reading %.0f MiB", float64(growth)/mib, float64(e.produced)/mib)
		}
		if kept := int64(settledHeap()) - int64(base); kept > retainBound {
			t.Errorf("the Reader holds %.1f MiB after reading %.0f MiB", float64(kept)/mib, float64(e.produced)/mib)
		}
		runtime.KeepAlive(r)
	}
	t.Run("never-ending stream of responses", func(t *testing.T) {
		e := &endless{head: []byte(msRoot), unit: []byte(resp), count: -1, sampleEvery: 1 << 20}
		base := settledHeap()
		r := NewReader(e)
		for i := 0; i < n; i++ {
			got, err := r.Next()
			if err != nil {
				t.Fatalf("response %d: %v", i, err)
			}
			if got.Hrefs[0] != "/dir/file.txt" || len(got.Propstats[0].Props) != 2 {
				t.Fatalf("response %d: %+v", i, got)
			}
		}
		check(t, e, r, base)
	})
	t.Run("many unknown elements between responses", func(t *testing.T) {
		e := &endless{head: []byte(msRoot + resp), unit: []byte(`<u xmlns="urn:u" a="1"><v>text</v></u>`), count: int64(n) * 5,
			tail: []byte(resp + `</D:multistatus>`), sampleEvery: 1 << 20}
		base := settledHeap()
		r := NewReader(e)
		for i := 0; i < 2; i++ {
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("after 2 responses: %v", err)
		}
		check(t, e, r, base)
	})
	t.Run("large responses under the limits", func(t *testing.T) {
		// Many properties per response, each within the limits.
		prop := fmt.Sprintf(`<x xmlns="urn:x">%s</x>`, strings.Repeat("v", 100))
		one := `<D:response><D:href>/a</D:href><D:propstat><D:prop>` + strings.Repeat(prop, 1000) + `</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`
		e := &endless{head: []byte(msRoot), unit: []byte(one), count: 200, tail: []byte(`</D:multistatus>`), sampleEvery: 1 << 20}
		base := settledHeap()
		r := NewReader(e)
		count := 0
		for resp, err := range r.Responses() {
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Propstats[0].Props) != 1000 {
				t.Fatalf("%d props", len(resp.Propstats[0].Props))
			}
			count++
		}
		if count != 200 {
			t.Fatalf("%d responses", count)
		}
		check(t, e, r, base)
	})
}
