package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/davit-dav/davit/client"
	"github.com/davit-dav/davit/multistatus"
)

// headerList collects repeated -H flags.
type headerList []string

func (h *headerList) String() string { return strings.Join(*h, "; ") }

func (h *headerList) Set(v string) error {
	name, _, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(name) == "" || strings.ContainsAny(strings.TrimSpace(name), " \t") {
		return fmt.Errorf("header %q: want 'Name: value'", v)
	}
	*h = append(*h, v)
	return nil
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

func (e *cli) request(ctx context.Context, args []string) int {
	fs := e.flags("request", "request [-H 'Name: value']... [--json] METHOD URL [BODY|@FILE|-]")
	var headers headerList
	fs.Var(&headers, "H", "add a header `'Name: value'` (repeatable)")
	asJSON := fs.Bool("json", false, "print a Multi-Status answer in its JSON form")
	pos, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) < 2 || len(pos) > 3 {
		return e.usageError("request takes a METHOD, a URL and an optional BODY (text, @FILE, or - for standard input)")
	}
	method := pos[0]
	if !isToken(method) {
		return e.usageError("bad method %q", method)
	}
	c, err := e.connect(pos[1])
	if err != nil {
		return e.usageError("%v", err)
	}
	var body io.Reader
	if len(pos) == 3 {
		switch arg := pos[2]; {
		case arg == "-":
			body = e.stdin
		case strings.HasPrefix(arg, "@"):
			f, err := os.Open(arg[1:])
			if err != nil {
				return e.usageError("%v", err)
			}
			defer f.Close()
			body = f
		default:
			body = strings.NewReader(arg)
		}
	}
	var opts []client.RequestOption
	hasType := false
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		hasType = hasType || strings.EqualFold(name, "Content-Type")
		opts = append(opts, client.WithHeader(name, strings.TrimSpace(value)))
	}
	if body != nil && !hasType {
		opts = append(opts, client.WithContentType(`application/xml; charset="utf-8"`))
	}
	req, err := c.NewRequest(ctx, method, "", body, opts...)
	if err != nil {
		return e.report(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return e.report(err)
	}
	defer resp.Body.Close()

	if resp.StatusCode != http.StatusMultiStatus {
		fmt.Fprintf(e.stdout, "%s %s\n", resp.Proto, resp.Status)
		if _, err := io.Copy(e.stdout, resp.Body); err != nil {
			return e.report(err)
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			fmt.Fprintf(e.stderr, "davit: %s %s: %s\n", method, req.URL, resp.Status)
			return exitFail
		}
		return exitOK
	}
	// A 404 propstat says a property is absent (PROPFIND, REPORT): that
	// is not a failed resource.
	failed := func(r *multistatus.Response) bool {
		if r.Status.Code != 0 {
			return r.Status.Code < 200 || r.Status.Code > 299
		}
		for _, ps := range r.Propstats {
			if c := ps.Status.Code; (c < 200 || c > 299) && c != http.StatusNotFound {
				return true
			}
		}
		return false
	}
	return e.streamMultistatus(resp.Body, req.URL.String(), *asJSON, failed)
}

// streamMultistatus prints a Multi-Status document as it is read: as JSON
// through multistatus.JSONWriter, or as a table (href, status, property,
// value). Responses for which failed returns true are also reported on
// stderr (failed may be nil) and make the exit code 1; malformed input
// gives 2, with its line and column.
func (e *cli) streamMultistatus(in io.Reader, name string, asJSON bool, failed func(*multistatus.Response) bool) int {
	out := bufio.NewWriterSize(e.stdout, 32<<10)
	defer out.Flush()
	var jw *multistatus.JSONWriter
	var tab *table
	if asJSON {
		jw = multistatus.NewJSONWriter(out)
	} else {
		tab = newTable(out, []int{24, 13, 24}, "HREF", "STATUS", "PROPERTY", "VALUE")
	}
	exit := exitOK
	rd := multistatus.NewReader(in)
	for n := 1; ; n++ {
		r, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			out.Flush()
			var se *multistatus.SyntaxError
			if errors.As(err, &se) {
				fmt.Fprintf(e.stderr, "davit: %s: malformed Multi-Status at line %d, column %d: %v\n", name, se.Line, se.Column, se.Err)
				return exitUsage
			}
			return e.report(err)
		}
		if jw != nil {
			if err := jw.Write(r); err != nil {
				out.Flush()
				fmt.Fprintf(e.stderr, "davit: %s: response %d: %v\n", name, n, err)
				return exitUsage
			}
		} else {
			tableRows(tab, r)
		}
		if failed != nil && failed(r) {
			exit = exitFail
			out.Flush() // keep stdout and stderr in step
			e.reportResponse(r)
		}
		if jw == nil {
			out.Flush()
		}
	}
	if jw != nil {
		jw.ResponseDescription = rd.ResponseDescription()
		if err := jw.Close(); err != nil {
			return e.report(err)
		}
	} else if d := strings.TrimSpace(rd.ResponseDescription()); d != "" {
		fmt.Fprintf(out, "\n%s\n", oneLine(d))
	}
	return exit
}

// reportResponse prints the failures of one response on stderr.
func (e *cli) reportResponse(r *multistatus.Response) {
	if r.Status.Code != 0 {
		for _, h := range r.Hrefs {
			e.printFailure(client.Failure{Href: h, Status: r.Status, Conditions: r.Error, Description: strings.TrimSpace(r.ResponseDescription)})
		}
		return
	}
	for _, ps := range r.Propstats {
		if c := ps.Status.Code; c >= 200 && c <= 299 || c == http.StatusNotFound {
			continue
		}
		for _, p := range ps.Props {
			e.printFailure(client.Failure{Href: r.Hrefs[0], Property: p.Name, Status: ps.Status, Conditions: ps.Error,
				Description: strings.TrimSpace(ps.ResponseDescription)})
		}
	}
}

// tableRows writes one response: one row per property per propstat, one
// row for the status form.
func tableRows(t *table, r *multistatus.Response) {
	href := strings.Join(r.Hrefs, " ")
	if r.Status.Code != 0 || len(r.Propstats) == 0 {
		t.row(href, statusText(r.Status), "", note(r.Error, r.ResponseDescription))
		return
	}
	for _, ps := range r.Propstats {
		status := statusText(ps.Status)
		for _, p := range ps.Props {
			t.row(href, status, multistatus.ClarkName(p.Name.Space, p.Name.Local), oneLine(p.JSONValue()))
		}
		if len(ps.Props) == 0 || len(ps.Error) > 0 || strings.TrimSpace(ps.ResponseDescription) != "" {
			t.row(href, status, "", note(ps.Error, ps.ResponseDescription))
		}
	}
}

// note joins conditions and a description for the value column.
func note(conds []multistatus.Condition, desc string) string {
	s := ""
	if len(conds) > 0 {
		s = "error: " + conditionNames(conds)
	}
	if d := oneLine(desc); d != "" {
		if s != "" {
			s += "; "
		}
		s += d
	}
	return s
}

// table writes aligned columns as rows come, without holding them: each
// column is as wide as the widest cell seen so far, so alignment holds for
// uniform listings and costs nothing in memory.
type table struct {
	w      io.Writer
	widths []int
}

func newTable(w io.Writer, minWidths []int, header ...string) *table {
	t := &table{w: w, widths: make([]int, len(header))}
	copy(t.widths, minWidths)
	t.row(header...)
	return t
}

func (t *table) row(cells ...string) {
	var sb strings.Builder
	for i, c := range cells {
		if i == len(cells)-1 {
			sb.WriteString(c)
			break
		}
		n := utf8.RuneCountInString(c)
		t.widths[i] = max(t.widths[i], n)
		sb.WriteString(c)
		sb.WriteString(strings.Repeat(" ", t.widths[i]-n+2))
	}
	sb.WriteByte('\n')
	io.WriteString(t.w, strings.TrimRight(sb.String(), " \n")+"\n")
}

func (e *cli) multistatus(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] != "decode" {
		return e.usageError("multistatus takes the subcommand decode: davit multistatus decode [FILE]")
	}
	fs := e.flags("multistatus decode", "multistatus decode [FILE|-]")
	pos, code, ok := e.parse(fs, args[1:])
	if !ok {
		return code
	}
	if len(pos) > 1 {
		return e.usageError("multistatus decode takes at most one FILE")
	}
	in, name := e.stdin, "standard input"
	if len(pos) == 1 && pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			return e.usageError("%v", err)
		}
		defer f.Close()
		in, name = f, pos[0]
	}
	return e.streamMultistatus(in, name, true, nil)
}
