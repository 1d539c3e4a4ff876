package header_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/davit-dav/davit/internal/header"
)

func TestParseXOCMtime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"0", time.Unix(0, 0), false},
		{"1700000000", time.Unix(1700000000, 0), false},
		{" 1700000000 ", time.Unix(1700000000, 0), false},
		{"1700000000.5", time.Unix(1700000000, 500000000), false},
		{"1700000000.123456789", time.Unix(1700000000, 123456789), false},
		{"1700000000.1234567891234", time.Unix(1700000000, 123456789), false},
		{"-1", time.Unix(-1, 0), false},
		{"-1.5", time.Unix(-2, 500000000), false},
		{"253402300799", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), false},
		{"", time.Time{}, true},
		{"253402300800", time.Time{}, true},
		{"99999999999999999999999999", time.Time{}, true},
		{"1.", time.Time{}, true},
		{".5", time.Time{}, true},
		{"-", time.Time{}, true},
		{"+1", time.Time{}, true},
		{"1e9", time.Time{}, true},
		{"1,5", time.Time{}, true},
		{"1.5.5", time.Time{}, true},
		{"2023-11-14T22:13:20Z", time.Time{}, true},
		{"accepted", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := header.ParseXOCMtime(tt.in)
		if tt.err {
			if !errors.Is(err, header.ErrBadMtime) {
				t.Errorf("ParseXOCMtime(%q) = %v, %v; want ErrBadMtime", tt.in, got, err)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("ParseXOCMtime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func FuzzXOCMtime(f *testing.F) {
	for _, s := range []string{"0", "1700000000", "1700000000.123456789", "-5.5", "", "1.", "253402300799"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := header.ParseXOCMtime(s)
		if err != nil {
			if !errors.Is(err, header.ErrBadMtime) {
				t.Fatalf("error %v is not ErrBadMtime", err)
			}
			return
		}
		if got.Year() > 9999 || got.Year() < -9999 {
			t.Fatalf("ParseXOCMtime(%q) = %v", s, got)
		}
		// The integer part round-trips for non-negative times.
		v := trim(s)
		if !strings.HasPrefix(v, "-") {
			whole, _, _ := strings.Cut(v, ".")
			n, err := strconv.ParseInt(whole, 10, 64)
			if err != nil || got.Unix() != n {
				t.Fatalf("ParseXOCMtime(%q) = %d s, want %d", s, got.Unix(), n)
			}
		}
		if got.Unix() < 0 {
			return
		}
		again, err := header.ParseXOCMtime(strconv.FormatInt(got.Unix(), 10) + "." + pad9(got.Nanosecond()))
		if err != nil || !again.Equal(got) {
			t.Fatalf("round trip of %q: %v %v", s, again, err)
		}
	})
}

func pad9(n int) string {
	s := strconv.Itoa(n)
	return strings.Repeat("0", 9-len(s)) + s
}
