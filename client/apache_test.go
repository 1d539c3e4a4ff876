package client_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/davit-dav/davit/client"
	"github.com/davit-dav/davit/client/clienttest"
)

// TestApache runs clienttest.Sequence against Apache httpd with mod_dav_fs,
// started for the test in its own temporary directory from
// testdata/apache/httpd.conf.tmpl. The binary is $DAVIT_APACHE, else
// apache2 or httpd on the PATH or in /usr/sbin; its modules are in
// $DAVIT_APACHE_MODULES, else /usr/lib/apache2/modules. Without Apache the
// test fails: install it (Debian: apt-get install apache2).
func TestApache(t *testing.T) {
	bin := apacheBinary()
	if bin == "" {
		t.Fatal("Apache httpd not found (looked for $DAVIT_APACHE, apache2 and httpd): " +
			"install it, on Debian with `apt-get install -y apache2`, or set DAVIT_APACHE")
	}
	mods := os.Getenv("DAVIT_APACHE_MODULES")
	if mods == "" {
		mods = "/usr/lib/apache2/modules"
	}
	for _, m := range []string{"mod_dav.so", "mod_dav_fs.so", "mod_dav_lock.so", "mod_mpm_event.so"} {
		if _, err := os.Stat(filepath.Join(mods, m)); err != nil {
			t.Fatalf("Apache module %s missing in %s (set DAVIT_APACHE_MODULES): %v", m, mods, err)
		}
	}
	base := startApache(t, bin, mods)
	c, err := client.New(base)
	if err != nil {
		t.Fatal(err)
	}
	clienttest.Sequence(t, c)
}

func apacheBinary() string {
	if b := os.Getenv("DAVIT_APACHE"); b != "" {
		return b
	}
	for _, name := range []string{"apache2", "httpd"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		if p := "/usr/sbin/" + name; fileExists(p) {
			return p
		}
	}
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// startApache writes the configuration, starts Apache in the foreground
// and returns its base URL once it accepts connections. Apache is stopped
// when the test ends, failed or not.
func startApache(t *testing.T, bin, mods string) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"data", "run"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conf := struct {
		Dir, Modules, User, Group, MimeTypes string
		Port                                 int
	}{Dir: dir, Modules: mods, Port: freePort(t)}
	if fileExists("/etc/mime.types") {
		conf.MimeTypes = "/etc/mime.types"
	}
	if os.Geteuid() == 0 {
		// Apache will not serve as root: run it as an unprivileged user
		// who owns the data and lock folders and can reach them.
		u := unprivilegedUser(t)
		conf.User = u.Username
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		conf.Group = "#" + u.Gid
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, d := range []string{"data", "run"} {
			if err := os.Chown(filepath.Join(dir, d), uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	tmpl, err := template.ParseFiles("testdata/apache/httpd.conf.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, conf); err != nil {
		t.Fatal(err)
	}
	confPath := filepath.Join(dir, "httpd.conf")
	if err := os.WriteFile(confPath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	outPath := filepath.Join(dir, "output.log")
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close() // the child has its own copy
	cmd := exec.Command(bin, "-X", "-f", confPath)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	logs := func() string {
		output, _ := os.ReadFile(outPath)
		errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		return fmt.Sprintf("output:\n%s\nerror.log:\n%s", output, errLog)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("Apache %s", logs())
		}
	})

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(conf.Port))
	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			break
		}
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("Apache exited before listening (%v); %s", err, logs())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("Apache did not listen on %s within 15s; %s", addr, logs())
		}
	}
	return "http://" + addr + "/"
}

func unprivilegedUser(t *testing.T) *user.User {
	for _, name := range []string{"www-data", "daemon", "nobody"} {
		if u, err := user.Lookup(name); err == nil {
			return u
		}
	}
	t.Fatal("running as root, and no unprivileged user (www-data, daemon, nobody) to run Apache as")
	return nil
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
