package storage

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteback checks that an upload's writeback is started on each
// writebackChunk of new bytes, over ranges that follow one another
// without gap or overlap, and that every byte reaches the file.
func TestWriteback(t *testing.T) {
	const k = writebackChunk
	type rng struct{ off, n int64 }
	for _, tc := range []struct {
		name   string
		writes []int
		want   []rng
	}{
		{"small", []int{1000}, nil},
		{"just short", []int{k - 1}, nil},
		{"one chunk", []int{k}, []rng{{0, k}}},
		{"pieces", []int{k / 2, k / 2, k / 2}, []rng{{0, k}}},
		{"past a chunk", []int{k/2 + 10, k / 2}, []rng{{0, k + 10}}},
		{"large writes", []int{3 * k, k, 10}, []rng{{0, 3 * k}, {3 * k, k}}},
		{"many", []int{k / 4, k / 4, k / 4, k / 4, k / 4, k / 4, k / 4, k / 4, 7}, []rng{{0, k}, {k, k}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := os.Create(filepath.Join(t.TempDir(), "up"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var got []rng
			old := syncFileRangeHook
			defer func() { syncFileRangeHook = old }()
			syncFileRangeHook = func(fd int, off, n int64) {
				if fd != int(f.Fd()) {
					t.Errorf("writeback of fd %d, want %d", fd, f.Fd())
				}
				got = append(got, rng{off, n})
			}
			w := &writeback{fd: int(f.Fd())}
			var all bytes.Buffer
			for i, n := range tc.writes {
				p := bytes.Repeat([]byte{byte('a' + i)}, n)
				if m, err := w.Write(p); m != n || err != nil {
					t.Fatalf("Write(%d bytes) = %d, %v", n, m, err)
				}
				all.Write(p)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("writeback ranges %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("writeback ranges %v, want %v", got, tc.want)
					break
				}
			}
			b, err := os.ReadFile(f.Name())
			if err != nil || !bytes.Equal(b, all.Bytes()) {
				t.Errorf("the file holds %d bytes (%v), want the %d written", len(b), err, all.Len())
			}
		})
	}
}

// TestPutWriteback: a synced upload of several chunks goes through the
// writeback and arrives whole; one with syncing off does not use it.
func TestPutWriteback(t *testing.T) {
	body := strings.Repeat("0123456789abcdef", 5*writebackChunk/16+3)
	for _, noSync := range []bool{false, true} {
		root := t.TempDir()
		l, err := NewLocal(root, LocalOptions{NoSync: noSync})
		if err != nil {
			t.Fatal(err)
		}
		calls := 0
		old := syncFileRangeHook
		syncFileRangeHook = func(fd int, off, n int64) { calls++; old(fd, off, n) }
		_, _, err = l.Put(context.Background(), "/big.bin", strings.NewReader(body), PutOptions{ExpectedSize: int64(len(body))})
		syncFileRangeHook = old
		l.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{false: 5, true: 0}[noSync]; calls != want {
			t.Errorf("no_sync %v: %d writebacks started, want %d", noSync, calls, want)
		}
		if b, err := os.ReadFile(filepath.Join(root, "big.bin")); err != nil || string(b) != body {
			t.Errorf("no_sync %v: the file holds %d bytes (%v), want %d", noSync, len(b), err, len(body))
		}
	}
}
