package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/davit-dav/davit/client"
)

// batch is `davit batch FILE [URL]`: it sends a batch document (XML or
// JSON, docs/batch.md) with POST to the collection or batch endpoint at
// URL ($DAVIT_URL when omitted) and prints one line per response of the
// answer: the item's id, its status and its href, with the condition and
// the reason of a failure. Exit 1 when any item failed or the batch was
// refused.
func (e *cli) batch(ctx context.Context, args []string) int {
	fs := e.flags("batch", "batch [--dry-run] [--stop-on-error] [--minimal] FILE|- [URL]")
	dry := fs.Bool("dry-run", false, "report what each item would do; change nothing")
	stop := fs.Bool("stop-on-error", false, "skip every item after the first that fails")
	minimal := fs.Bool("minimal", false, "leave the items that succeeded out of the answer")
	pos, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) == 1 && e.getenv("DAVIT_URL") != "" {
		pos = append(pos, e.getenv("DAVIT_URL"))
	}
	if len(pos) != 2 {
		return e.usageError("batch takes a batch file (or -) and the URL of a collection (or $DAVIT_URL)")
	}
	var in io.Reader = e.stdin
	if pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			return e.usageError("%v", err)
		}
		defer f.Close()
		in = f
	}
	doc := bufio.NewReader(in)
	contentType := "application/xml"
	if first, _ := doc.Peek(64); strings.HasPrefix(strings.TrimLeft(string(first), " \t\r\n\uFEFF"), "{") {
		contentType = "application/json"
	}
	c, err := e.connect(pos[1])
	if err != nil {
		return e.usageError("%v", err)
	}
	var opts []client.RequestOption
	var options []string
	if *dry {
		options = append(options, "dry-run")
	}
	if *stop {
		options = append(options, "stop-on-error")
	}
	if len(options) > 0 {
		opts = append(opts, client.WithBatchOptions(options...))
	}
	if *minimal {
		opts = append(opts, client.WithMinimal())
	}
	exit := exitOK
	for r, err := range c.SendBatch(ctx, "", doc, contentType, opts...) {
		if err != nil {
			return max(exitFail, e.report(err))
		}
		if r.Failed() {
			exit = exitFail
		}
		e.printBatchResult(r)
	}
	return exit
}

// printBatchResult prints "ID<TAB>STATUS<TAB>HREF", the status being one
// code, or one per propstat; a condition and a reason follow a failure.
func (e *cli) printBatchResult(r *client.BatchResult) {
	resp := r.Response
	status := statusText(resp.Status)
	if resp.Status.Code == 0 {
		codes := make([]string, len(resp.Propstats))
		for i, ps := range resp.Propstats {
			codes[i] = statusText(ps.Status)
		}
		status = strings.Join(codes, ", ")
	}
	line := r.ID + "\t" + status + "\t" + resp.Hrefs[0]
	if len(resp.Error) > 0 {
		line += " (" + conditionNames(resp.Error) + ")"
	}
	if d := oneLine(resp.ResponseDescription); d != "" && (r.Failed() || strings.HasPrefix(d, "dry run") || strings.HasPrefix(d, "Lock-Token")) {
		line += ": " + d
	}
	fmt.Fprintln(e.stdout, line)
}
