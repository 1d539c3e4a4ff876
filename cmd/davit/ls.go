package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/davit-dav/davit/client"
)

// lsEntry is the JSON form of one listed resource (ls --json), one object
// per line.
type lsEntry struct {
	Href        string `json:"href"`
	Path        string `json:"path"`
	Name        string `json:"name"`
	Type        string `json:"type"` // "collection" or "file"
	Size        int64  `json:"size"`
	Modified    string `json:"modified,omitempty"` // RFC 3339
	ETag        string `json:"etag,omitempty"`
	ContentType string `json:"contenttype,omitempty"`
}

func (e *cli) ls(ctx context.Context, args []string) int {
	fs := e.flags("ls", "ls [-l] [-R] [--json] URL")
	long := fs.Bool("l", false, "long listing: type, size, modification time, name")
	recursive := fs.Bool("R", false, "list the members of collections too (one Depth 1 request per collection)")
	asJSON := fs.Bool("json", false, "print one JSON object per resource and line")
	pos, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return e.usageError("ls takes one URL")
	}
	c, err := e.connect(pos[0])
	if err != nil {
		return e.usageError("%v", err)
	}

	exit := exitOK
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	print := func(res *client.Resource) {
		name := res.Name()
		if *recursive && res.Path != "" {
			name = strings.TrimSuffix(res.Path, "/")
		}
		if res.IsCollection {
			name += "/"
		}
		switch {
		case *asJSON:
			typ := "file"
			if res.IsCollection {
				typ = "collection"
			}
			ent := lsEntry{Href: res.Href, Path: res.Path, Name: res.Name(), Type: typ, Size: res.Size,
				ETag: res.ETag, ContentType: res.ContentType}
			if !res.ModTime.IsZero() {
				ent.Modified = res.ModTime.UTC().Format(time.RFC3339)
			}
			enc.Encode(ent)
		case *long:
			typ, mod := "-", "-"
			if res.IsCollection {
				typ = "d"
			}
			if !res.ModTime.IsZero() {
				mod = res.ModTime.UTC().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(e.stdout, "%s %12d %16s  %s\n", typ, res.Size, mod, name)
		default:
			fmt.Fprintln(e.stdout, name)
		}
	}

	// Collections still to list, depth first; visited guards against a
	// server that lists a collection inside itself.
	todo := []string{""}
	visited := map[string]bool{}
	for len(todo) > 0 {
		dir := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		visited[strings.TrimSuffix(dir, "/")] = true
		var subdirs []string
		for res, err := range c.PropFind(ctx, dir, client.Depth1, client.StandardProps()) {
			if err != nil {
				exit = max(exit, e.report(err))
				break
			}
			if res.Failed() {
				e.printFailure(client.Failure{Href: res.Href, Status: res.Status, Conditions: res.Error, Description: res.Description})
				exit = max(exit, exitFail)
				continue
			}
			if strings.TrimSuffix(res.Path, "/") == strings.TrimSuffix(dir, "/") {
				if dir == "" && !res.IsCollection {
					print(res) // ls of a file shows the file
				}
				continue
			}
			print(res)
			if *recursive && res.IsCollection && !visited[strings.TrimSuffix(res.Path, "/")] {
				subdirs = append(subdirs, res.Path)
			}
		}
		for i := len(subdirs) - 1; i >= 0; i-- {
			todo = append(todo, subdirs[i])
		}
	}
	return exit
}
