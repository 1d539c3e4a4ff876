package batch_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/davit-dav/davit/internal/batch"
	"github.com/davit-dav/davit/internal/dav"
	"github.com/davit-dav/davit/internal/lock"
	"github.com/davit-dav/davit/internal/props"
	"github.com/davit-dav/davit/internal/storage"
	"github.com/davit-dav/davit/multistatus"
)

const benchFiles = 10_000

// BenchmarkDelete10k deletes 10,000 files of one folder on a LocalFS
// (NoSync) served on 127.0.0.1: with one BDELETE, with one POSTed batch,
// and with 10,000 DELETEs over one keep-alive connection. Compare the
// ms/op of the three (docs/batch.md quotes the ratio).
func BenchmarkDelete10k(b *testing.B) {
	dir := b.TempDir()
	fs, err := storage.NewLocal(dir, storage.LocalOptions{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer fs.Close()
	h := dav.New(dav.Config{FS: fs, Locks: lock.NewMemory(lock.Options{}), Props: props.NewMemory(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(batch.Wrap(h, batch.Options{MaxItems: benchFiles, MaxBodyBytes: 16 << 20}))
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}

	names := make([]string, benchFiles)
	for i := range names {
		names[i] = fmt.Sprintf("file-%05d.txt", i)
	}
	populate := func() {
		d := filepath.Join(dir, "d")
		if err := os.Mkdir(d, 0o755); err != nil {
			b.Fatal(err)
		}
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(d, n), []byte("x"), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	cleanup := func() {
		ents, _ := os.ReadDir(filepath.Join(dir, "d"))
		if len(ents) != 0 {
			b.Fatalf("%d files left", len(ents))
		}
		os.RemoveAll(filepath.Join(dir, "d"))
	}
	send := func(method, body, ct string) {
		req, _ := http.NewRequest(method, srv.URL+"/d/", bytes.NewBufferString(body))
		req.Header.Set("Content-Type", ct)
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusMultiStatus {
			b.Fatalf("%s: %d", method, resp.StatusCode)
		}
		n := 0
		for r, err := range multistatus.NewReader(resp.Body).Responses() {
			if err != nil {
				b.Fatal(err)
			}
			if r.Status.Code != http.StatusNoContent {
				b.Fatalf("%v: %d", r.Hrefs, r.Status.Code)
			}
			n++
		}
		if n != benchFiles {
			b.Fatalf("%d responses", n)
		}
	}

	var bdelete, post bytes.Buffer
	bdelete.WriteString(`<?xml version="1.0" encoding="utf-8"?><D:delete xmlns:D="DAV:"><D:target>`)
	post.WriteString(`<?xml version="1.0" encoding="utf-8"?><batch xmlns="urn:davit:batch">`)
	for _, n := range names {
		bdelete.WriteString("<D:href>" + n + "</D:href>")
		post.WriteString(`<item id="` + n + `" method="DELETE" href="` + n + `"/>`)
	}
	bdelete.WriteString("</D:target></D:delete>")
	post.WriteString("</batch>")

	run := func(name string, del func()) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				populate()
				b.StartTimer()
				del()
				b.StopTimer()
				cleanup()
				b.StartTimer()
			}
		})
	}
	run("BDELETE", func() { send("BDELETE", bdelete.String(), "application/xml") })
	run("POST", func() { send("POST", post.String(), "application/xml") })
	run("separate", func() {
		for _, n := range names {
			req, _ := http.NewRequest("DELETE", srv.URL+"/d/"+n, nil)
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				b.Fatalf("DELETE %s: %d", n, resp.StatusCode)
			}
		}
	})
}
