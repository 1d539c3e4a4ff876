package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/davit-dav/davit/client"
	"github.com/davit-dav/davit/internal/batch"
	"github.com/davit-dav/davit/internal/dav"
	"github.com/davit-dav/davit/internal/lock"
	"github.com/davit-dav/davit/internal/props"
	"github.com/davit-dav/davit/internal/storage"
)

// batchServer is a Davit handler with batches, mounted at /dav.
func batchServer(t *testing.T) *client.Client {
	t.Helper()
	h := dav.New(dav.Config{FS: storage.NewMem(), Locks: lock.NewMemory(lock.Options{}), Props: props.NewMemory(),
		Prefix: "/dav", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(batch.Wrap(h, batch.Options{Prefix: "/dav", MaxItems: 10}))
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL + "/dav/")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Mkcol(ctx, "d/"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a b.txt", "c.txt", "#d.txt"} {
		if _, err := c.Put(ctx, "d/"+n, strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func outcomes(t *testing.T, seq func(func(*client.BatchResult, error) bool)) map[string]string {
	t.Helper()
	out := map[string]string{}
	for r, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		s := fmt.Sprint(r.Response.Status.Code)
		for _, ps := range r.Response.Propstats {
			s += fmt.Sprintf("/%d", ps.Status.Code)
		}
		if r.Failed() {
			s += "!"
		}
		out[r.ID] += s + " " + r.Path + ";"
	}
	return out
}

func TestBatch(t *testing.T) {
	c := batchServer(t)
	ctx := context.Background()
	no := false
	got := outcomes(t, c.Batch(ctx, "d/", &client.Batch{Items: []client.BatchItem{
		{ID: "cp", Method: "COPY", Path: "d/a b.txt", Destination: "d/e #1.txt"},
		{ID: "again", Method: "COPY", Path: "d/a b.txt", Destination: "d/e #1.txt", Overwrite: &no},
		{ID: "ls", Method: "PROPFIND", Path: "d/e #1.txt", Depth: "0",
			Body: []byte(`<D:propfind xmlns:D="DAV:"><D:prop><D:getcontentlength/><x xmlns="urn:x"/></D:prop></D:propfind>`)},
		{ID: "mk", Method: "MKCOL", Path: "d/n/", Depends: []string{"again"}},
	}}))
	want := map[string]string{
		"cp":    "201 d/a b.txt;",
		"again": "412! d/a b.txt;",
		"ls":    "0/200/404 d/e #1.txt;",
		"mk":    "424! d/n/;",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}

	// A dry run through the options header; minimal answers.
	got = outcomes(t, c.Batch(ctx, "", &client.Batch{Items: []client.BatchItem{
		{ID: "rm", Method: "DELETE", Path: "d/c.txt"},
		{ID: "gone", Method: "DELETE", Path: "d/zz"},
	}}, client.WithBatchOptions("dry-run"), client.WithMinimal()))
	if !reflect.DeepEqual(got, map[string]string{"gone": "404! d/zz;"}) {
		t.Fatalf("dry run, minimal: %v", got)
	}
	if _, err := c.Stat(ctx, "d/c.txt"); err != nil {
		t.Fatalf("the dry run deleted: %v", err)
	}
}

func TestBatchDelete(t *testing.T) {
	c := batchServer(t)
	got := outcomes(t, c.BatchDelete(context.Background(), "d/", []string{"d/a b.txt", "d/#d.txt", "d/nope"}))
	if want := map[string]string{"1": "204 d/a b.txt;", "2": "204 d/#d.txt;", "3": "404! d/nope;"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v", got)
	}
}

func TestSendBatchRefused(t *testing.T) {
	c := batchServer(t)
	ctx := context.Background()
	for doc, code := range map[string]int{
		`<batch xmlns="urn:davit:batch"><item method="FROB" href="x"/></batch>`:                                 400,
		`<batch xmlns="urn:davit:batch">` + strings.Repeat(`<item method="MKCOL" href="x/"/>`, 11) + `</batch>`: 413,
	} {
		for _, err := range c.SendBatch(ctx, "d/", strings.NewReader(doc), "application/xml") {
			var se *client.StatusError
			if !errors.As(err, &se) || se.StatusCode != code {
				t.Fatalf("%d: %v", code, err)
			}
		}
	}
	// A server without batches.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer srv.Close()
	c2, _ := client.New(srv.URL)
	for _, err := range c2.SendBatch(ctx, "", strings.NewReader("{}"), "application/json") {
		if err == nil || !strings.Contains(err.Error(), "not a Multi-Status") {
			t.Fatalf("%v", err)
		}
	}
}
