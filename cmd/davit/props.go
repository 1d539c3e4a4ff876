package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/davit-dav/davit/client"
	"github.com/davit-dav/davit/multistatus"
)

func (e *cli) props(ctx context.Context, args []string) int {
	if len(args) == 0 {
		return e.usageError("props takes get, set or rm")
	}
	switch args[0] {
	case "get":
		return e.propsGet(ctx, args[1:])
	case "set":
		return e.propsSet(ctx, args[1:])
	case "rm", "remove":
		return e.propsRemove(ctx, args[1:])
	}
	return e.usageError("props: unknown subcommand %q (get, set, rm)", args[0])
}

// propsGet prints "name<TAB>value" for each property; a named property
// the resource lacks is a failure.
func (e *cli) propsGet(ctx context.Context, args []string) int {
	fs := e.flags("props get", "props get URL [{ns}name ...]")
	pos, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) < 1 {
		return e.usageError("props get takes a URL and property names ({namespace}name, or name for DAV:)")
	}
	q := client.AllProp()
	if len(pos) > 1 {
		names, err := parseNames(pos[1:])
		if err != nil {
			return e.usageError("%v", err)
		}
		q = client.Props(names...)
	}
	c, err := e.connect(pos[0])
	if err != nil {
		return e.usageError("%v", err)
	}
	exit := exitOK
	for res, err := range c.PropFind(ctx, "", client.Depth0, q) {
		if err != nil {
			return e.report(err)
		}
		if res.Failed() {
			e.printFailure(client.Failure{Href: res.Href, Status: res.Status, Conditions: res.Error, Description: res.Description})
			exit = exitFail
			continue
		}
		for _, p := range res.Props {
			if !p.OK() {
				e.printFailure(client.Failure{Href: res.Href, Property: p.Name, Status: p.Status, Conditions: p.Error})
				exit = exitFail
				continue
			}
			fmt.Fprintf(e.stdout, "%s\t%s\n", multistatus.ClarkName(p.Name.Space, p.Name.Local), p.JSONValue())
		}
	}
	return exit
}

func parseNames(args []string) ([]xml.Name, error) {
	names := make([]xml.Name, len(args))
	for i, a := range args {
		n, err := client.ParseName(a)
		if err != nil {
			return nil, err
		}
		names[i] = n
	}
	return names, nil
}

func (e *cli) propsSet(ctx context.Context, args []string) int {
	fs := e.flags("props set", "props set [--xml] URL {ns}name VALUE")
	token := lockTokenFlag(fs)
	raw := fs.Bool("xml", false, "VALUE is XML content (DAV: elements prefixed D:, others with xmlns), not text")
	pos, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 3 {
		return e.usageError("props set takes a URL, a property name and a value")
	}
	name, err := client.ParseName(pos[1])
	if err != nil {
		return e.usageError("%v", err)
	}
	up := client.SetText(name, pos[2])
	if *raw {
		if err := checkXML(pos[2]); err != nil {
			return e.usageError("props set --xml: malformed value: %v", err)
		}
		up = client.SetXML(name, []byte(pos[2]))
	}
	return e.propPatch(ctx, pos[0], up, *token)
}

func (e *cli) propsRemove(ctx context.Context, args []string) int {
	fs := e.flags("props rm", "props rm URL {ns}name")
	token := lockTokenFlag(fs)
	pos, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 2 {
		return e.usageError("props rm takes a URL and a property name")
	}
	name, err := client.ParseName(pos[1])
	if err != nil {
		return e.usageError("%v", err)
	}
	return e.propPatch(ctx, pos[0], client.RemoveProp(name), *token)
}

func (e *cli) propPatch(ctx context.Context, arg string, up client.PropUpdate, token string) int {
	c, err := e.connect(arg)
	if err != nil {
		return e.usageError("%v", err)
	}
	_, err = c.PropPatch(ctx, "", []client.PropUpdate{up}, tokenOpts(token)...)
	return e.report(err)
}

// checkXML reports whether s is well-formed XML content, with D: bound to
// DAV: as in a property value.
func checkXML(s string) error {
	dec := xml.NewDecoder(strings.NewReader(`<v xmlns:D="DAV:">` + s + `</v>`))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
