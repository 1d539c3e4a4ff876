package client_test

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"

	"github.com/davit-dav/davit/client"
	"github.com/davit-dav/davit/multistatus"
)

// TestPropFindStreamsLargeAnswer lists 100,000 resources that the test
// server generates on the fly, and checks that the client's heap does not
// grow with the listing: PropFind yields each resource as it is read.
func TestPropFindStreamsLargeAnswer(t *testing.T) {
	const total = 100000
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", `application/xml; charset="utf-8"`)
		w.WriteHeader(http.StatusMultiStatus)
		mw := multistatus.NewWriter(w)
		for i := 0; i < total; i++ {
			n := strconv.Itoa(i)
			resp := &multistatus.Response{Hrefs: []string{"/big/file-" + n + ".txt"}, Propstats: []multistatus.Propstat{{
				Status: multistatus.NewStatus(200),
				Props: []multistatus.Property{
					{Name: client.DAVName("resourcetype")},
					{Name: client.DAVName("getcontentlength"), Inner: []byte(n)},
					{Name: client.DAVName("getetag"), Inner: []byte(`"` + n + `"`)},
					{Name: client.DAVName("getlastmodified"), Inner: []byte("Sat, 21 Nov 2026 20:14:16 GMT")},
				},
			}}}
			if err := mw.Write(resp); err != nil {
				return // the client went away
			}
		}
		mw.Close()
	}))
	defer srv.Close()
	c, err := client.New(srv.URL + "/big/")
	if err != nil {
		t.Fatal(err)
	}

	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var early uint64
	n := 0
	var sum int64
	for res, err := range c.PropFind(t.Context(), "", client.Depth1, client.StandardProps()) {
		if err != nil {
			t.Fatal(err)
		}
		if res.Path != "file-"+strconv.Itoa(n)+".txt" {
			t.Fatalf("resource %d: path %q", n, res.Path)
		}
		sum += res.Size
		n++
		if n == 5000 {
			early = heap()
		}
	}
	late := heap()
	if n != total || sum != int64(total)*(total-1)/2 {
		t.Fatalf("%d resources, sizes sum to %d", n, sum)
	}
	// 95,000 more resources held in memory would take tens of MiB.
	if late > early+4<<20 {
		t.Errorf("heap grew from %d to %d bytes while streaming", early, late)
	}
	t.Logf("heap after 5,000 resources: %d KiB; after %d: %d KiB", early>>10, total, late>>10)
}
