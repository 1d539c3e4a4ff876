package storage

import (
	"testing"
	"time"
)

// TestETag pins the ETag form, "inode-size-mtime" in hexadecimal with the
// modification time in nanoseconds, and that each part changes it.
func TestETag(t *testing.T) {
	mt := time.Unix(1772532000, 123456789)
	base := meta{ino: 0x9860bd, size: 64, mtime: mt}
	for _, tc := range []struct {
		name string
		m    meta
		want string
	}{
		{"file", base, `"9860bd-40-18994c767c5f0d15"`},
		{"empty", meta{ino: 1, mtime: time.Unix(0, 0)}, `"1-0-0"`},
		{"largest", meta{ino: 1<<64 - 1, size: 1<<63 - 1, mtime: time.Unix(0, 1<<63-1)}, `"ffffffffffffffff-7fffffffffffffff-7fffffffffffffff"`},
		{"other inode", meta{ino: 0x9860be, size: 64, mtime: mt}, `"9860be-40-18994c767c5f0d15"`},
		{"other size", meta{ino: 0x9860bd, size: 65, mtime: mt}, `"9860bd-41-18994c767c5f0d15"`},
		{"one nanosecond later", meta{ino: 0x9860bd, size: 64, mtime: mt.Add(1)}, `"9860bd-40-18994c767c5f0d16"`},
	} {
		got := string(tc.m.appendETag(nil))
		if got != tc.want {
			t.Errorf("%s: ETag %s, want %s", tc.name, got, tc.want)
		}
		if len(got) > maxETag {
			t.Errorf("%s: ETag of %d bytes, more than maxETag (%d)", tc.name, len(got), maxETag)
		}
		if in := tc.m.info("/d/f.txt"); in.ETag != got {
			t.Errorf("%s: info gives ETag %s, appendETag %s", tc.name, in.ETag, got)
		}
	}
	if in := (meta{ino: 7, isDir: true, mtime: mt}).info("/d"); in.ETag != "" {
		t.Errorf("a folder has ETag %q, want none", in.ETag)
	}
}

// BenchmarkETag guards the ETag computation, paid for every file a
// Depth 0 PROPFIND, a GET or a listing describes: appendETag into a
// reused buffer (as a listing does, in its arena) and info, which also
// makes the string (one allocation, as Stat does).
func BenchmarkETag(b *testing.B) {
	m := meta{ino: 0x9860bd, size: 1 << 20, mtime: time.Unix(1772532000, 123456789)}
	b.Run("append", func(b *testing.B) {
		buf := make([]byte, 0, maxETag)
		b.ReportAllocs()
		for b.Loop() {
			buf = m.appendETag(buf[:0])
		}
	})
	b.Run("info", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if in := m.info("/projects/report.pdf"); in.ETag == "" {
				b.Fatal("no ETag")
			}
		}
	})
}
