package multistatus

import (
	"testing"
)

func TestParseStatus(t *testing.T) {
	tests := []struct {
		line    string
		want    Status
		wantErr bool
	}{
		{line: "HTTP/1.1 200 OK", want: Status{"HTTP/1.1", 200, "OK"}},
		{line: "HTTP/1.0 404 Not Found", want: Status{"HTTP/1.0", 404, "Not Found"}},
		{line: "HTTP/1.1 424 Failed Dependency", want: Status{"HTTP/1.1", 424, "Failed Dependency"}},
		{line: "HTTP/1.1 599 Network Connect Timeout", want: Status{"HTTP/1.1", 599, "Network Connect Timeout"}},
		{line: "HTTP/1.1 599", want: Status{"HTTP/1.1", 599, ""}},
		{line: "HTTP/1.1 207 ", want: Status{"HTTP/1.1", 207, ""}},
		{line: "HTTP/1.1 999 Custom", want: Status{"HTTP/1.1", 999, "Custom"}},
		{line: "HTTP/1.1 100 Continue", want: Status{"HTTP/1.1", 100, "Continue"}},
		{line: "   HTTP/1.1   423    Locked   ", want: Status{"HTTP/1.1", 423, "Locked"}},
		{line: "\n\tHTTP/1.1\t403\tForbidden\n", want: Status{"HTTP/1.1", 403, "Forbidden"}},
		{line: "HTTP/1.1 200 Very  Fine   Indeed", want: Status{"HTTP/1.1", 200, "Very  Fine   Indeed"}},
		{line: "HTTP/2 200 OK", want: Status{"HTTP/2", 200, "OK"}},
		{line: "200 OK", want: Status{"", 200, "OK"}},
		{line: "409", want: Status{"", 409, ""}},
		{line: "HTTP/1.1 200 OK 😀 日本", want: Status{"HTTP/1.1", 200, "OK 😀 日本"}},

		{line: "", wantErr: true},
		{line: "   ", wantErr: true},
		{line: "garbage", wantErr: true},
		{line: "OK 200", wantErr: true},
		{line: "HTTP/1.1", wantErr: true},
		{line: "HTTP/1.1 ", wantErr: true},
		{line: "HTTP/1.1 20", wantErr: true},
		{line: "HTTP/1.1 20 OK", wantErr: true},
		{line: "20", wantErr: true},
		{line: "HTTP/1.1 2000", wantErr: true},
		{line: "HTTP/1.1 2000 OK", wantErr: true},
		{line: "HTTP/1.1 200OK", wantErr: true},
		{line: "HTTP/1.1 abc OK", wantErr: true},
		{line: "HTTP/1.1 2x0 OK", wantErr: true},
		{line: "HTTP/1.1 -20 OK", wantErr: true},
		{line: "HTTP/1.1 099 Low", wantErr: true},
		{line: "HTTP/1.1 000", wantErr: true},
		{line: "HTTPS/1.1 200 OK", wantErr: true},
		{line: "HTTP/1.1 OK 200", wantErr: true},
		{line: "HTTP/1.1 ２００ OK", wantErr: true}, // full-width digits
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got, err := ParseStatus(tt.line)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseStatus(%q) = %+v, want an error", tt.line, got)
				}
				if got != (Status{}) {
					t.Errorf("ParseStatus(%q) returned %+v with its error, want the zero Status", tt.line, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseStatus(%q): %v", tt.line, err)
			}
			if got != tt.want {
				t.Errorf("ParseStatus(%q) = %+v, want %+v", tt.line, got, tt.want)
			}
		})
	}
}

func TestStatusString(t *testing.T) {
	tests := []struct {
		s    Status
		want string
	}{
		{Status{"HTTP/1.1", 200, "OK"}, "HTTP/1.1 200 OK"},
		{Status{"HTTP/1.0", 404, "Not Found"}, "HTTP/1.0 404 Not Found"},
		{Status{"", 423, "Locked"}, "HTTP/1.1 423 Locked"},
		{Status{"HTTP/1.1", 599, ""}, "HTTP/1.1 599"},
		{Status{"", 999, ""}, "HTTP/1.1 999"},
		{NewStatus(207), "HTTP/1.1 207 Multi-Status"},
		{NewStatus(424), "HTTP/1.1 424 Failed Dependency"},
		{NewStatus(507), "HTTP/1.1 507 Insufficient Storage"},
		{NewStatus(599), "HTTP/1.1 599"}, // no standard reason
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got := tt.s.String()
			if got != tt.want {
				t.Errorf("%+v.String() = %q, want %q", tt.s, got, tt.want)
			}
			// String is what the Writer records; ParseStatus must read it
			// back (with the protocol String supplies).
			back, err := ParseStatus(got)
			if err != nil {
				t.Fatalf("ParseStatus(%q): %v", got, err)
			}
			want := tt.s
			if want.Proto == "" {
				want.Proto = "HTTP/1.1"
			}
			if back != want {
				t.Errorf("ParseStatus(String()) = %+v, want %+v", back, want)
			}
		})
	}
}

func TestStatusIsZero(t *testing.T) {
	if !(Status{}).IsZero() {
		t.Error("zero Status: IsZero false")
	}
	if (Status{Reason: "x", Proto: "HTTP/1.1"}).IsZero() != true {
		t.Error("Status without a code: IsZero false")
	}
	if NewStatus(200).IsZero() {
		t.Error("NewStatus(200).IsZero() true")
	}
}

func TestResponseFailed(t *testing.T) {
	tests := []struct {
		name string
		r    Response
		want bool
	}{
		{"status 200", Response{Status: NewStatus(200)}, false},
		{"status 204", Response{Status: NewStatus(204)}, false},
		{"status 423", Response{Status: NewStatus(423)}, true},
		{"status 302", Response{Status: NewStatus(302)}, true},
		{"status 102", Response{Status: Status{Code: 102}}, true},
		{"propstats all 2xx", Response{Propstats: []Propstat{{Status: NewStatus(200)}, {Status: NewStatus(201)}}}, false},
		{"one propstat 404", Response{Propstats: []Propstat{{Status: NewStatus(200)}, {Status: NewStatus(404)}}}, true},
		{"propstat without status", Response{Propstats: []Propstat{{}}}, true},
		{"nothing", Response{}, false},
	}
	for _, tt := range tests {
		if got := tt.r.Failed(); got != tt.want {
			t.Errorf("%s: Failed() = %v, want %v", tt.name, got, tt.want)
		}
	}
}
