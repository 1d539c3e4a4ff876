package storage

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFstatatMany: for batches of every size around the calls' limits
// (in the cgo build, 12 entries a call for a listing's first 128, then a
// whole batch a call), started at every point of a listing, each result
// must equal what fstatat says of that name without following a link: a
// file, a folder, a link (described as a link, not followed) and a name
// removed after the directory was read (its errno). `make test` runs it in
// both builds, with and without cgo.
func TestFstatatMany(t *testing.T) {
	dir := t.TempDir()
	var names []string
	for i := range 300 {
		name := fmt.Sprintf("f%03d", i)
		switch i % 50 {
		case 7:
			name = "d" + name
			if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
				t.Fatal(err)
			}
		case 19:
			name = "l" + name
			if err := os.Symlink("f000", filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		case 31:
			name = "missing-" + name // never created
		default:
			if err := os.WriteFile(filepath.Join(dir, name), make([]byte, i), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		names = append(names, name)
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)

	// The names as a directory buffer holds them: each ends in a NUL byte,
	// after some bytes of record header.
	var buf []byte
	var offs []int32
	for _, n := range names {
		buf = append(buf, "hdr"...)
		offs = append(offs, int32(len(buf)))
		buf = append(buf, n...)
		buf = append(buf, 0)
	}
	want := make([]statResult, len(names))
	for i, n := range names {
		var st unix.Stat_t
		if err := unix.Fstatat(fd, n, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			want[i] = statResult{err: int32(err.(unix.Errno))}
			continue
		}
		want[i] = statResult{ino: st.Ino, size: st.Size, sec: st.Mtim.Sec, nsec: st.Mtim.Nsec, mode: st.Mode}
	}
	kinds := map[uint32]int{}
	for _, w := range want {
		kinds[w.mode&unix.S_IFMT]++
	}
	if kinds[unix.S_IFREG] == 0 || kinds[unix.S_IFDIR] == 0 || kinds[unix.S_IFLNK] == 0 || kinds[0] == 0 {
		t.Fatalf("the set up lacks a kind of entry: %v", kinds)
	}

	for _, start := range []int{0, 1, 11, 12, 13, 100, 127, 128, 129, 1000} {
		for _, n := range []int{0, 1, 11, 12, 13, 24, 25, 127, 128, 129, 256, 300} {
			for _, from := range []int{0, len(names) - n} {
				if from < 0 {
					continue
				}
				out := make([]statResult, n)
				for i := range out {
					out[i] = statResult{ino: 1, size: -1, err: -1} // what a skipped entry would keep
				}
				described := start
				fstatatMany(fd, buf, offs[from:from+n], out, &described)
				for i := range out {
					if out[i] != want[from+i] {
						t.Fatalf("start %d, %d names from %d: %s: got %+v, want %+v",
							start, n, from, names[from+i], out[i], want[from+i])
					}
				}
			}
		}
	}
}
