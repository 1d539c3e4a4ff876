package server

import (
	"log/slog"
	"net"
	"sync/atomic"
)

// congestionListener sets the TCP congestion control of each connection
// it accepts from a loopback address (config loopback_congestion): a
// reverse proxy on the same machine, or a local client. Over loopback
// there is no link to model: a delay-based algorithm such as BBR, which
// some systems make their default, measures scheduling noise and paces
// the sending on it, and moved a third of the bytes of a loss-based one
// in the benchmark's GET of 100 MiB (docs/performance.md). Connections
// from elsewhere keep the system's algorithm.
type congestionListener struct {
	net.Listener
	name   string
	log    *slog.Logger
	warned atomic.Bool
}

// withCongestion returns ln, setting the congestion control name on its
// loopback connections; "system" returns ln itself.
func withCongestion(ln net.Listener, name string, log *slog.Logger) net.Listener {
	if name == "system" || name == "" {
		return ln
	}
	return &congestionListener{Listener: ln, name: name, log: log}
}

// Accept sets the algorithm on a loopback connection. A kernel without it,
// or one that does not allow it to an unprivileged process
// (net.ipv4.tcp_allowed_congestion_control), leaves the system's, with a
// warning the first time; the connection is served either way.
func (l *congestionListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	if tc, ok := c.(*net.TCPConn); ok && fromLoopback(tc.RemoteAddr()) {
		if err := setCongestion(tc, l.name); err != nil && l.warned.CompareAndSwap(false, true) {
			l.log.Warn("loopback_congestion not applied; loopback connections keep the system's congestion control",
				"loopback_congestion", l.name, "err", err)
		}
	}
	return c, nil
}

// fromLoopback reports whether a is a TCP address on the loopback network
// (127.0.0.0/8, ::1, or 127.0.0.0/8 mapped into IPv6).
func fromLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}
