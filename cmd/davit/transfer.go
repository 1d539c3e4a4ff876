package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/davit-dav/davit/client"
)

func (e *cli) get(ctx context.Context, args []string) int {
	fs := e.flags("get", "get URL [FILE|-]")
	pos, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) < 1 || len(pos) > 2 {
		return e.usageError("get takes a URL and an optional FILE (- for standard output)")
	}
	u, err := parseURL(pos[0])
	if err != nil {
		return e.usageError("%v", err)
	}
	name := path.Base(strings.TrimSuffix(u.Path, "/"))
	dest := name
	if len(pos) == 2 {
		dest = pos[1]
	}
	if dest == "" || dest == "/" || dest == "." {
		return e.usageError("get: the URL names no file: give the FILE to write")
	}
	if fi, err := os.Stat(dest); err == nil && fi.IsDir() && dest != "-" {
		dest = filepath.Join(dest, name)
	}
	c, err := e.connect(pos[0])
	if err != nil {
		return e.usageError("%v", err)
	}
	d, err := c.Get(ctx, "")
	if err != nil {
		return e.report(err)
	}
	defer d.Close()
	var src io.Reader = d
	if e.isTerminal {
		p := e.newProgress("get "+name, d.ContentLength)
		defer p.done()
		src = p.reader(d)
	}
	if dest == "-" {
		if _, err := io.Copy(e.stdout, src); err != nil {
			return e.report(err)
		}
		return exitOK
	}
	return e.report(writeFile(dest, src))
}

// writeFile writes r to a temporary file beside dest, then renames it over
// dest, so an interrupted download never leaves a truncated file.
func writeFile(dest string, r io.Reader) error {
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".davit-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dest)
}

func (e *cli) put(ctx context.Context, args []string) int {
	fs := e.flags("put", "put FILE|DIR|- URL")
	token := fs.String("lock-token", "", "submit this lock `token` (If header)")
	fs.Bool("r", true, "accepted for compatibility: folders are always uploaded recursively")
	pos, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 2 {
		return e.usageError("put takes a FILE (or DIR, or - for standard input) and a URL")
	}
	src, target := pos[0], pos[1]
	u, err := parseURL(target)
	if err != nil {
		return e.usageError("%v", err)
	}
	c, err := e.connect(target)
	if err != nil {
		return e.usageError("%v", err)
	}
	opts := []client.RequestOption{}
	if *token != "" {
		opts = append(opts, client.WithLockToken(*token))
	}
	intoCollection := strings.HasSuffix(u.Path, "/")

	if src == "-" {
		if intoCollection {
			return e.usageError("put -: the URL must name the file to write, not a collection")
		}
		_, err := c.Put(ctx, "", e.stdin, opts...)
		return e.report(err)
	}
	fi, err := os.Stat(src)
	if err != nil {
		return e.usageError("put: %v", err)
	}
	base := ""
	if intoCollection {
		base = filepath.Base(filepath.Clean(src))
	}
	if !fi.IsDir() {
		return e.report(e.putFile(ctx, c, src, base, fi.Size(), opts))
	}
	if base != "" {
		base += "/"
	}
	return e.putDir(ctx, c, src, base, opts)
}

// putDir uploads the folder src as the collection at path base (base ""
// is the URL itself), creating collections as needed. It goes on after a
// failed file, and returns exitFail if any failed.
func (e *cli) putDir(ctx context.Context, c *client.Client, src, base string, opts []client.RequestOption) int {
	exit := exitOK
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			fmt.Fprintf(e.stderr, "davit: %v\n", err)
			exit = exitFail
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := base
		if rel != "." {
			target += filepath.ToSlash(rel)
		}
		switch {
		case d.IsDir():
			if rel != "." {
				target += "/"
			}
			if err := mkcolExisting(ctx, c, target, opts); err != nil {
				exit = max(exit, e.report(err))
				return fs.SkipDir
			}
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			if err := e.putFile(ctx, c, p, target, info.Size(), opts); err != nil {
				exit = max(exit, e.report(err))
			}
		default:
			fmt.Fprintf(e.stderr, "davit: %s: skipped, not a regular file\n", p)
		}
		return nil
	})
	if err != nil {
		return max(exit, e.report(err))
	}
	return exit
}

// mkcolExisting creates a collection, and accepts one that exists already.
func mkcolExisting(ctx context.Context, c *client.Client, p string, opts []client.RequestOption) error {
	err := c.Mkcol(ctx, p, opts...)
	if errors.Is(err, client.ErrMethodNotAllowed) {
		if res, serr := c.Stat(ctx, p); serr == nil && res.IsCollection {
			return nil
		}
	}
	return err
}

func (e *cli) putFile(ctx context.Context, c *client.Client, file, target string, size int64, opts []client.RequestOption) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if e.isTerminal {
		p := e.newProgress("put "+file, size)
		defer p.done()
		r = p.reader(f)
	}
	_, err = c.Put(ctx, target, r, append(opts, client.WithContentLength(size))...)
	return err
}

// progress shows one line on stderr, rewritten as bytes go through, when
// stderr is a terminal.
type progress struct {
	e     *cli
	label string
	total int64
	n     atomic.Int64
	last  time.Time
}

func (e *cli) newProgress(label string, total int64) *progress {
	if u, err := url.PathUnescape(label); err == nil {
		label = u
	}
	return &progress{e: e, label: label, total: total}
}

type progressReader struct {
	r io.Reader
	p *progress
}

func (p *progress) reader(r io.Reader) io.Reader { return &progressReader{r: r, p: p} }

func (pr *progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	pr.p.n.Add(int64(n))
	if time.Since(pr.p.last) > 200*time.Millisecond {
		pr.p.last = time.Now()
		pr.p.show()
	}
	return n, err
}

func (p *progress) show() {
	n := p.n.Load()
	if p.total > 0 {
		fmt.Fprintf(p.e.stderr, "\r\033[K%s  %s / %s (%d%%)", p.label, byteSize(n), byteSize(p.total), n*100/p.total)
	} else {
		fmt.Fprintf(p.e.stderr, "\r\033[K%s  %s", p.label, byteSize(n))
	}
}

func (p *progress) done() {
	p.show()
	fmt.Fprintln(p.e.stderr)
}

func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
