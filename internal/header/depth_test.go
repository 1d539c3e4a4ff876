package header_test

import (
	"errors"
	"testing"

	"github.com/davit-dav/davit/internal/header"
)

func TestParseDepth(t *testing.T) {
	tests := []struct {
		in     string
		want   header.Depth
		noroot bool
		err    bool
	}{
		{"", header.DepthUnset, false, false},
		{"   ", header.DepthUnset, false, false},
		{"0", header.Depth0, false, false},
		{"1", header.Depth1, false, false},
		{"infinity", header.DepthInfinity, false, false},
		{"Infinity", header.DepthInfinity, false, false},
		{"INFINITY", header.DepthInfinity, false, false},
		{" 1 ", header.Depth1, false, false},
		{"\t0\r\n", header.Depth0, false, false},
		// Windows Explorer (WebClient).
		{"1,noroot", header.Depth1, true, false},
		{"infinity,noroot", header.DepthInfinity, true, false},
		{"1, noroot", header.Depth1, true, false},
		{"Infinity , NoRoot", header.DepthInfinity, true, false},
		{"0,noroot", 0, false, true},
		{"2", 0, false, true},
		{"-1", 0, false, true},
		{"01", 0, false, true},
		{"inf", 0, false, true},
		{"infinite", 0, false, true},
		{"1,", 0, false, true},
		{",noroot", 0, false, true},
		{"1,noroot,noroot", 0, false, true},
		{"1,root", 0, false, true},
		{"1 1", 0, false, true},
		{"noroot", 0, false, true},
	}
	for _, tt := range tests {
		d, noroot, err := header.ParseDepth(tt.in)
		if tt.err {
			if !errors.Is(err, header.ErrBadDepth) {
				t.Errorf("ParseDepth(%q) error = %v, want ErrBadDepth", tt.in, err)
			}
			continue
		}
		if err != nil || d != tt.want || noroot != tt.noroot {
			t.Errorf("ParseDepth(%q) = %v, %v, %v; want %v, %v, nil", tt.in, d, noroot, err, tt.want, tt.noroot)
		}
	}
}

func TestDepthOrAndString(t *testing.T) {
	if got := header.DepthUnset.Or(header.DepthInfinity); got != header.DepthInfinity {
		t.Errorf("DepthUnset.Or(infinity) = %v", got)
	}
	if got := header.Depth0.Or(header.DepthInfinity); got != header.Depth0 {
		t.Errorf("Depth0.Or(infinity) = %v", got)
	}
	for d, s := range map[header.Depth]string{
		header.Depth0: "0", header.Depth1: "1", header.DepthInfinity: "infinity",
		header.DepthUnset: "", header.Depth(7): "",
	} {
		if d.String() != s {
			t.Errorf("Depth(%d).String() = %q, want %q", int(d), d.String(), s)
		}
	}
}

func FuzzDepth(f *testing.F) {
	for _, s := range []string{"", "0", "1", "infinity", "1,noroot", "infinity,noroot", "Infinity , noroot", "2", "0,noroot"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, noroot, err := header.ParseDepth(s)
		if err != nil {
			if !errors.Is(err, header.ErrBadDepth) {
				t.Fatalf("error %v is not ErrBadDepth", err)
			}
			return
		}
		if d == header.DepthUnset {
			if noroot {
				t.Fatal("noroot without a depth")
			}
			return
		}
		if d != header.Depth0 && d != header.Depth1 && d != header.DepthInfinity {
			t.Fatalf("ParseDepth(%q) = %d", s, d)
		}
		if noroot && d == header.Depth0 {
			t.Fatal("0,noroot accepted")
		}
		again := d.String()
		if noroot {
			again += ",noroot"
		}
		d2, noroot2, err := header.ParseDepth(again)
		if err != nil || d2 != d || noroot2 != noroot {
			t.Fatalf("round trip of %q via %q: %v %v %v", s, again, d2, noroot2, err)
		}
	})
}
