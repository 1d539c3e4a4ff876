package client_test

import (
	"net/http/httptest"
	"testing"

	"github.com/davit-dav/davit/client"
	"github.com/davit-dav/davit/client/clienttest"
	"github.com/davit-dav/davit/internal/server"
)

// TestDavit runs the same conformance sequence as TestApache against
// Davit's own server, over a real listener on 127.0.0.1.
func TestDavit(t *testing.T) {
	for _, prefix := range []string{"", "/dav"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			s, err := server.Open(server.Options{Root: t.TempDir(), Prefix: prefix, NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			srv := httptest.NewServer(s.Handler)
			t.Cleanup(srv.Close)
			c, err := client.New(srv.URL + prefix + "/")
			if err != nil {
				t.Fatal(err)
			}
			clienttest.Sequence(t, c)
		})
	}
}
