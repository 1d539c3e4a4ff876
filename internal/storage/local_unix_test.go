//go:build linux || darwin

package storage_test

import (
	"errors"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/davit-dav/davit/internal/storage"
)

// TestLocalSpecialFiles checks that a named pipe is neither listed nor
// opened (which would block) nor written to.
func TestLocalSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	must(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o666))
	l := newLocal(t, dir, storage.LocalOptions{})
	if got := listNames(t, l, "/"); !slices.Equal(got, nil) {
		t.Errorf("List(/) = %q, want the pipe skipped", got)
	}
	if _, err := l.Stat(t.Context(), "/fifo"); !errors.Is(err, storage.ErrPermission) {
		t.Errorf("Stat(/fifo) = %v, want ErrPermission", err)
	}
	if _, err := l.Open(t.Context(), "/fifo"); !errors.Is(err, storage.ErrPermission) {
		t.Errorf("Open(/fifo) = %v, want ErrPermission", err)
	}
	if err := put(l, "/fifo", nil); !errors.Is(err, storage.ErrPermission) {
		t.Errorf("Put(/fifo) = %v, want ErrPermission", err)
	}
}
