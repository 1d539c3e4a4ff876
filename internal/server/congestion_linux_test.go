package server

import (
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// congestionOf returns the TCP congestion control of c.
func congestionOf(t *testing.T, c net.Conn) string {
	t.Helper()
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var name string
	var gerr error
	if err := rc.Control(func(fd uintptr) {
		name, gerr = unix.GetsockoptString(int(fd), unix.IPPROTO_TCP, unix.TCP_CONGESTION)
	}); err != nil {
		t.Fatal(err)
	}
	if gerr != nil {
		t.Fatal(gerr)
	}
	return name
}

// acceptOne dials ln on loopback and returns the connection ln accepted.
func acceptOne(t *testing.T, ln net.Listener) net.Conn {
	t.Helper()
	done := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			t.Error(err)
		}
		done <- c
	}()
	d, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	c := <-done
	if c == nil {
		t.FailNow()
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestLoopbackCongestion checks that a loopback connection gets the
// configured congestion control, that "system" leaves the system's, and
// that an algorithm the kernel refuses leaves the connection served, with
// one warning. The algorithm set differs from the system's, so the test
// fails if nothing is set.
func TestLoopbackCongestion(t *testing.T) {
	sys, err := os.ReadFile("/proc/sys/net/ipv4/tcp_congestion_control")
	if err != nil {
		t.Fatal(err)
	}
	system := strings.TrimSpace(string(sys))
	want := "reno" // built in, and allowed to every process by default
	if system == "reno" {
		want = "cubic"
	}
	for _, tc := range []struct {
		name, set, want string
		warnings        int
	}{
		{"set", want, want, 0},
		{"system", "system", system, 0},
		{"unknown", "nosuchcc", system, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			var logs ctBuffer
			ln := withCongestion(raw, tc.set, slog.New(slog.NewTextHandler(&logs, nil)))
			for range 2 {
				if got := congestionOf(t, acceptOne(t, ln)); got != tc.want {
					t.Errorf("loopback_congestion %q: the connection has %q, want %q", tc.set, got, tc.want)
				}
			}
			if n := strings.Count(logs.String(), "loopback_congestion not applied"); n != tc.warnings {
				t.Errorf("%d warnings, want %d:\n%s", n, tc.warnings, logs.String())
			}
		})
	}
}

// TestFromLoopback: only loopback peers get the setting.
func TestFromLoopback(t *testing.T) {
	for _, tc := range []struct {
		addr net.Addr
		want bool
	}{
		{&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 1}, true},
		{&net.TCPAddr{IP: net.ParseIP("127.3.2.1"), Port: 1}, true},
		{&net.TCPAddr{IP: net.ParseIP("::1"), Port: 1}, true},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:127.0.0.1"), Port: 1}, true},
		{&net.TCPAddr{IP: net.ParseIP("10.0.0.1"), Port: 1}, false},
		{&net.TCPAddr{IP: net.ParseIP("192.168.1.20"), Port: 1}, false},
		{&net.TCPAddr{IP: net.ParseIP("::2"), Port: 1}, false},
		{&net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 1}, false},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:10.0.0.1"), Port: 1}, false},
		{&net.UnixAddr{Name: "/run/davit.sock", Net: "unix"}, false},
	} {
		if got := fromLoopback(tc.addr); got != tc.want {
			t.Errorf("fromLoopback(%v) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}

// TestAppLoopbackCongestion: the App's main listener gives loopback
// connections the configured algorithm (reno by default), and "system"
// leaves the system's.
func TestAppLoopbackCongestion(t *testing.T) {
	sys, err := os.ReadFile("/proc/sys/net/ipv4/tcp_congestion_control")
	if err != nil {
		t.Fatal(err)
	}
	system := strings.TrimSpace(string(sys))
	other := "reno"
	if system == "reno" {
		other = "cubic"
	}
	for _, tc := range []struct{ yaml, want string }{
		{"", "reno"},
		{"loopback_congestion: " + other + "\n", other},
		{"loopback_congestion: system\n", system},
	} {
		e := ctNew(t, "listen: '127.0.0.1:0'\nlocations: [{path: /, folder: '{{DIR}}/data'}]\n"+tc.yaml)
		if err := e.app.Listen(); err != nil {
			t.Fatal(err)
		}
		if got := congestionOf(t, acceptOne(t, e.app.ln)); got != tc.want {
			t.Errorf("%q: a loopback connection has %q, want %q", tc.yaml, got, tc.want)
		}
		e.app.Close()
	}
}
