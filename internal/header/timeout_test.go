package header_test

import (
	"errors"
	"testing"
	"time"

	"github.com/davit-dav/davit/internal/header"
)

func TestParseTimeout(t *testing.T) {
	tests := []struct {
		in       string
		d        time.Duration
		infinite bool
		err      bool
	}{
		{"", 0, false, false},
		{"Second-3600", time.Hour, false, false},
		{"second-10", 10 * time.Second, false, false},
		{"SECOND-0", 0, false, false},
		{"Infinite", 0, true, false},
		{"infinite", 0, true, false},
		// RFC 4918 §9.10.7 and litmus: the first entry wins.
		{"Infinite, Second-4100000000", 0, true, false},
		{"Second-4100000000, Infinite", 4100000000 * time.Second, false, false},
		{"Second-604800 , Infinite", 604800 * time.Second, false, false},
		// Clamping: never overflow.
		{"Second-4294967295", header.MaxTimeout, false, false},
		{"Second-4294967296", header.MaxTimeout, false, false},
		{"Second-99999999999999999999999999999999999999", header.MaxTimeout, false, false},
		{"Second-18446744073709551616", header.MaxTimeout, false, false},
		{"Second-000000000000000000000000000000000042", 42 * time.Second, false, false},
		// Empty elements and unknown extensions (RFC 2518 "Other") are skipped.
		{", ,Second-5", 5 * time.Second, false, false},
		{"Extend-1, Second-5", 5 * time.Second, false, false},
		{"Foo, Infinite", 0, true, false},
		// Errors.
		{"Second-", 0, false, true},
		{"Second-x", 0, false, true},
		{"Second--1", 0, false, true},
		{"Second-+1", 0, false, true},
		{"Second- 5", 0, false, true},
		{"Second-1.5", 0, false, true},
		{"3600", 0, false, true}, // a token, skipped, and nothing else
		{"Foo", 0, false, true},
		{",", 0, false, true},
		{"Second 5", 0, false, true},
		{"Infinite Second-5", 0, false, true},
		{"Second-x, Infinite", 0, false, true},
	}
	for _, tt := range tests {
		d, inf, err := header.ParseTimeout(tt.in)
		if tt.err {
			if !errors.Is(err, header.ErrBadTimeout) {
				t.Errorf("ParseTimeout(%q) error = %v, want ErrBadTimeout", tt.in, err)
			}
			continue
		}
		if err != nil || d != tt.d || inf != tt.infinite {
			t.Errorf("ParseTimeout(%q) = %v, %v, %v; want %v, %v", tt.in, d, inf, err, tt.d, tt.infinite)
		}
	}
}

func FuzzTimeout(f *testing.F) {
	for _, s := range []string{"", "Infinite", "Second-3600", "Infinite, Second-4100000000", "Second-99999999999999999999", "x, Second-1", "Second-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, inf, err := header.ParseTimeout(s)
		if err != nil {
			if !errors.Is(err, header.ErrBadTimeout) {
				t.Fatalf("error %v is not ErrBadTimeout", err)
			}
			return
		}
		if d < 0 || d > header.MaxTimeout || d%time.Second != 0 {
			t.Fatalf("ParseTimeout(%q) = %v out of range", s, d)
		}
		if inf && d != 0 {
			t.Fatalf("ParseTimeout(%q) = infinite with %v", s, d)
		}
		// Round trip through the canonical form.
		canon := "Infinite"
		if !inf {
			canon = "Second-" + itoa(int64(d/time.Second))
		}
		if trim(s) == "" {
			return
		}
		d2, inf2, err := header.ParseTimeout(canon)
		if err != nil || d2 != d || inf2 != inf {
			t.Fatalf("round trip of %q via %q: %v %v %v", s, canon, d2, inf2, err)
		}
	})
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
