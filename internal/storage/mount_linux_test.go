package storage_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/davit-dav/davit/internal/storage"
)

// TestLocalPutAcrossMount: a file system mounted inside the served folder
// makes the rename from the stage folder fail with EXDEV, and Put and
// CopyFile then copy the content beside the target. The upload must stay
// atomic, keep its modification time and report the metadata (and so the
// ETag) that a later Stat gives; no temporary file may stay behind.
//
// The test mounts a tmpfs in a mount namespace of its own: it runs itself
// again in a child process made with CLONE_NEWNS (and CLONE_NEWUSER when
// not root), so nothing is mounted on the machine. A machine where neither
// is allowed fails the test rather than skipping it.
func TestLocalPutAcrossMount(t *testing.T) {
	if os.Getenv("DAVIT_TEST_MOUNT_CHILD") != "1" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLocalPutAcrossMount$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "DAVIT_TEST_MOUNT_CHILD=1")
		attr := &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
		if os.Getuid() != 0 {
			attr.Cloneflags |= syscall.CLONE_NEWUSER
			attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}}
			attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}
		}
		cmd.SysProcAttr = attr
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child in a mount namespace: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "--- PASS: TestLocalPutAcrossMount") {
			t.Fatalf("child did not run the test:\n%s", out)
		}
		return
	}

	// In the child: keep mounts from propagating out, then mount.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		t.Fatalf("making / private: %v", err)
	}
	root := t.TempDir()
	mnt := filepath.Join(root, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size=16m"); err != nil {
		t.Fatalf("mounting a tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
	if err := os.MkdirAll(filepath.Join(root, ".state", "upload"), 0o700); err != nil {
		t.Fatal(err)
	}
	fs, err := storage.NewLocal(root, storage.LocalOptions{Hidden: []string{".state"}, StageDir: ".state/upload"})
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	ctx := context.Background()

	// The rename really does cross file systems here.
	if err := os.WriteFile(filepath.Join(root, ".state", "upload", "probe"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(root, ".state", "upload", "probe"), filepath.Join(mnt, "probe")); !errors.Is(err, syscall.EXDEV) {
		t.Fatalf("rename into the mount: %v, want EXDEV", err)
	}
	os.Remove(filepath.Join(root, ".state", "upload", "probe"))

	mtime := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	for i, body := range []string{"first content", "second, longer content"} {
		info, created, err := fs.Put(ctx, "/mnt/f.txt", strings.NewReader(body), storage.PutOptions{ExpectedSize: int64(len(body)), ModTime: mtime.Add(time.Duration(i) * time.Hour)})
		if err != nil {
			t.Fatalf("Put %d: %v", i, err)
		}
		if created != (i == 0) {
			t.Errorf("Put %d: created = %v", i, created)
		}
		st, err := fs.Stat(ctx, "/mnt/f.txt")
		if err != nil {
			t.Fatal(err)
		}
		if info.ETag != st.ETag || info.Size != st.Size || !info.ModTime.Equal(st.ModTime) {
			t.Errorf("Put %d returned %q %d %v; Stat gives %q %d %v", i, info.ETag, info.Size, info.ModTime, st.ETag, st.Size, st.ModTime)
		}
		if want := mtime.Add(time.Duration(i) * time.Hour); !st.ModTime.Equal(want) {
			t.Errorf("Put %d: modification time %v, want %v", i, st.ModTime, want)
		}
		if got := readAll(t, fs, "/mnt/f.txt"); got != body {
			t.Errorf("Put %d: content %q, want %q", i, got, body)
		}
	}

	// A body shorter than announced leaves the old content whole.
	if _, _, err := fs.Put(ctx, "/mnt/f.txt", strings.NewReader("cut"), storage.PutOptions{ExpectedSize: 10}); !errors.Is(err, storage.ErrSizeMismatch) {
		t.Errorf("short Put: %v, want ErrSizeMismatch", err)
	}
	if got := readAll(t, fs, "/mnt/f.txt"); got != "second, longer content" {
		t.Errorf("after a failed Put: %q", got)
	}

	// CopyFile from the root's file system into the mount.
	if _, _, err := fs.Put(ctx, "/src.txt", strings.NewReader("copied"), storage.PutOptions{ExpectedSize: 6}); err != nil {
		t.Fatal(err)
	}
	if err := fs.CopyFile(ctx, "/src.txt", "/mnt/copy.txt"); err != nil {
		t.Fatalf("CopyFile: %v", err)
	}
	if got := readAll(t, fs, "/mnt/copy.txt"); got != "copied" {
		t.Errorf("copy: %q", got)
	}

	for _, dir := range []string{mnt, filepath.Join(root, ".state", "upload")} {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.Name() != "f.txt" && e.Name() != "copy.txt" {
				t.Errorf("left behind in %s: %s", dir, e.Name())
			}
		}
	}
}

func readAll(t *testing.T, fs *storage.LocalFS, name string) string {
	t.Helper()
	f, err := fs.Open(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
