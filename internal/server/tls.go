package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// certReloader serves the certificate of a cert and key file pair and
// reads them again when either file's modification time or size changes
// (checked at each TLS handshake: two stat calls, cheap next to the
// handshake), or when reload is called (SIGHUP). A pair that fails to load
// (such as a key not yet replaced) is logged once and the previous
// certificate kept.
type certReloader struct {
	mu        sync.Mutex
	cert, key string
	stamp     [2]fileStamp
	failed    [2]fileStamp // stamps of the pair that last failed
	current   *tls.Certificate
	log       *slog.Logger
}

type fileStamp struct {
	mod  time.Time
	size int64
}

func stampOf(name string) (fileStamp, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{fi.ModTime(), fi.Size()}, nil
}

// newCertReloader loads the pair once; failing that is an error.
func newCertReloader(cert, key string, log *slog.Logger) (*certReloader, error) {
	c := &certReloader{log: log}
	if err := c.setFiles(cert, key); err != nil {
		return nil, err
	}
	return c, nil
}

// setFiles switches to another pair of files, loading it now.
func (c *certReloader) setFiles(cert, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, crt, err := loadPair(cert, key)
	if err != nil {
		return err
	}
	c.cert, c.key, c.stamp, c.current = cert, key, st, crt
	return nil
}

func loadPair(cert, key string) ([2]fileStamp, *tls.Certificate, error) {
	var st [2]fileStamp
	var err error
	if st[0], err = stampOf(cert); err != nil {
		return st, nil, err
	}
	if st[1], err = stampOf(key); err != nil {
		return st, nil, err
	}
	crt, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return st, nil, err
	}
	return st, &crt, nil
}

// reload reads the files again if they changed.
func (c *certReloader) reload() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	s0, err0 := stampOf(c.cert)
	s1, err1 := stampOf(c.key)
	if err := errors.Join(err0, err1); err != nil {
		return err
	}
	now := [2]fileStamp{s0, s1}
	if now == c.stamp || now == c.failed {
		return nil
	}
	st, crt, err := loadPair(c.cert, c.key)
	if err != nil {
		c.failed = now
		c.log.Warn("TLS certificate not reloaded; keeping the previous one", "cert", c.cert, "err", err)
		return err
	}
	c.stamp, c.current = st, crt
	c.log.Info("TLS certificate reloaded", "cert", c.cert)
	return nil
}

// GetCertificate is tls.Config.GetCertificate.
func (c *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.reload()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.current, nil
}

// tlsConfig returns the server TLS config (HTTP/2 is added by ServeTLS).
func (c *certReloader) tlsConfig(minVersion string) *tls.Config {
	v := uint16(tls.VersionTLS12)
	if minVersion == "1.3" {
		v = tls.VersionTLS13
	}
	return &tls.Config{MinVersion: v, GetCertificate: c.GetCertificate}
}

// redirectHandler sends every request to the same URL over HTTPS on the
// port of httpsAddr, with 308 so that WebDAV methods and bodies survive.
func redirectHandler(httpsAddr string) http.Handler {
	_, port, _ := net.SplitHostPort(httpsAddr)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if host == "" {
			http.Error(w, "Host header required", http.StatusBadRequest)
			return
		}
		if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
			host = "[" + host + "]"
		}
		if port != "" && port != "443" {
			host += ":" + port
		}
		w.Header().Set("Location", fmt.Sprintf("https://%s%s", host, r.URL.RequestURI()))
		w.WriteHeader(http.StatusPermanentRedirect)
	})
}
