package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"testing"
)

// TestWrap checks the errors LocalFS returns: the text is the one a log
// line shows (`op "name": cause`, with the contract's sentinel in front
// when the cause does not match it already), and errors.Is finds both
// the sentinel and the cause.
func TestWrap(t *testing.T) {
	enoent := &fs.PathError{Op: "fstatat", Path: "a/b", Err: syscall.ENOENT}
	enotdir := &fs.PathError{Op: "openat", Path: "f/x", Err: syscall.ENOTDIR}
	eacces := &fs.PathError{Op: "openat", Path: "p", Err: syscall.EACCES}
	other := errors.New("disk on fire")
	for _, tc := range []struct {
		name    string
		op, n   string
		lookup  bool
		err     error
		text    string
		matches []error
	}{
		{"not found", "stat", "/a/b", false, enoent, `stat "/a/b": ` + ErrNotFound.Error() + ` (fstatat a/b: no such file or directory)`, []error{ErrNotFound, fs.ErrNotExist, syscall.ENOENT, enoent}},
		{"not a folder on a lookup", "stat", "/f/x", true, enotdir, `stat "/f/x": ` + ErrNotFound.Error() + ` (openat f/x: not a directory)`, []error{ErrNotFound, syscall.ENOTDIR, enotdir}},
		{"not a folder", "mkdir", "/f/x", false, enotdir, `mkdir "/f/x": ` + ErrNotDir.Error() + ` (openat f/x: not a directory)`, []error{ErrNotDir, syscall.ENOTDIR}},
		{"permission", "open", "/p", false, eacces, `open "/p": ` + ErrPermission.Error() + ` (openat p: permission denied)`, []error{ErrPermission, fs.ErrPermission, syscall.EACCES}},
		{"no sentinel", "put", "/q\n\"x\"", false, other, `put "/q\n\"x\"": disk on fire`, []error{other}},
		{"a sentinel itself", "remove", "/", false, ErrPermission, `remove "/": ` + ErrPermission.Error(), []error{ErrPermission}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := wrap(tc.op, tc.n, tc.lookup, tc.err)
			if err.Error() != tc.text {
				t.Errorf("text %q\nwant %q", err.Error(), tc.text)
			}
			for _, m := range tc.matches {
				if !errors.Is(err, m) {
					t.Errorf("errors.Is(%v) is false", m)
				}
			}
			var pe *fs.PathError
			if want := errors.As(tc.err, &pe); errors.As(err, &pe) != want {
				t.Errorf("errors.As(*fs.PathError) = %v, want %v", !want, want)
			}
			if errors.Is(err, os.ErrClosed) {
				t.Error("matches an unrelated error")
			}
		})
	}
	if wrap("stat", "/x", false, nil) != nil {
		t.Error("wrap of nil is not nil")
	}
	// Looking through the chain allocates nothing: every 404 does it.
	notFound := wrap("stat", "/a", false, enoent)
	if n := testing.AllocsPerRun(100, func() {
		if !errors.Is(notFound, ErrNotFound) || errors.Is(notFound, ErrExist) {
			t.Fatal("wrong match")
		}
	}); n != 0 {
		t.Errorf("errors.Is allocates %v times", n)
	}
	// The text is exactly what fmt made before, for any name.
	for _, n := range []string{"/plain", "/with space", "/é", "/\xff", "/tab\t"} {
		want := fmt.Sprintf("%s %q: %v", "get", n, other)
		if got := wrap("get", n, false, other).Error(); got != want {
			t.Errorf("%q: %q, want %q", n, got, want)
		}
	}
}
