package header_test

import (
	"errors"
	"testing"

	"github.com/davit-dav/davit/internal/header"
)

func TestParseOverwrite(t *testing.T) {
	tests := []struct {
		in   string
		want bool
		err  bool
	}{
		{"", true, false},
		{"T", true, false},
		{"F", false, false},
		{"t", true, false},
		{"f", false, false},
		{" F ", false, false},
		{"TRUE", false, true},
		{"false", false, true},
		{"0", false, true},
		{"TF", false, true},
		{"T,F", false, true},
	}
	for _, tt := range tests {
		got, err := header.ParseOverwrite(tt.in)
		if tt.err {
			if !errors.Is(err, header.ErrBadOverwrite) {
				t.Errorf("ParseOverwrite(%q) error = %v, want ErrBadOverwrite", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseOverwrite(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func FuzzOverwrite(f *testing.F) {
	for _, s := range []string{"", "T", "F", "t", " f", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := header.ParseOverwrite(s)
		if err != nil {
			if !errors.Is(err, header.ErrBadOverwrite) {
				t.Fatalf("error %v is not ErrBadOverwrite", err)
			}
			return
		}
		want := "T"
		if !v {
			want = "F"
		}
		if got := trim(s); got != "" && !equalFold(got, want) {
			t.Fatalf("ParseOverwrite(%q) = %v", s, v)
		}
	})
}
