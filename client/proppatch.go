package client

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/davit-dav/davit/multistatus"
)

// PropUpdate is one instruction of a PropPatch: set a property to a value,
// or remove it.
type PropUpdate struct {
	Name   xml.Name
	Remove bool
	// Value is the new value as raw XML content, in the form of
	// multistatus.Property.Inner: text is escaped, elements in DAV: use
	// the prefix D, other elements declare their namespace with xmlns.
	Value []byte
	Lang  string // xml:lang of the value, optional
}

// SetText returns the update that sets name to the text value.
func SetText(name xml.Name, value string) PropUpdate {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(value))
	return PropUpdate{Name: name, Value: b.Bytes()}
}

// SetXML returns the update that sets name to raw XML content (see
// PropUpdate.Value), for example
// []byte(`<a xmlns="urn:x">1</a><D:href>/x</D:href>`).
func SetXML(name xml.Name, value []byte) PropUpdate {
	return PropUpdate{Name: name, Value: value}
}

// RemoveProp returns the update that removes name.
func RemoveProp(name xml.Name) PropUpdate { return PropUpdate{Name: name, Remove: true} }

// PropResult is the outcome of one property of a PropPatch.
type PropResult struct {
	Name        xml.Name
	Status      multistatus.Status
	Error       []multistatus.Condition
	Description string
}

// OK reports whether the update of the property succeeded.
func (r PropResult) OK() bool { return r.Status.Code >= 200 && r.Status.Code <= 299 }

// checkValue verifies that a value is well-formed XML content in the form
// of Property.Inner, so a bad value fails here rather than at the server.
func checkValue(v []byte) error {
	dec := xml.NewDecoder(io.MultiReader(strings.NewReader(`<v xmlns:D="DAV:">`), bytes.NewReader(v), strings.NewReader(`</v>`)))
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

// propertyUpdate returns the PROPPATCH body, grouping consecutive updates
// of the same kind in one set or remove element, in order (RFC 4918 §9.2
// has them applied in document order).
func propertyUpdate(updates []PropUpdate) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<D:propertyupdate xmlns:D="DAV:">`)
	for i, u := range updates {
		if !validLocal(u.Name.Local) {
			return nil, fmt.Errorf("property name %q is not an XML name", u.Name.Local)
		}
		if !u.Remove {
			if err := checkValue(u.Value); err != nil {
				return nil, fmt.Errorf("value of %s: %w", multistatus.ClarkName(u.Name.Space, u.Name.Local), err)
			}
		}
		kind := updateKind(u.Remove)
		if i == 0 || updates[i-1].Remove != u.Remove {
			if i > 0 {
				b.WriteString("</D:prop></D:" + updateKind(updates[i-1].Remove) + ">")
			}
			b.WriteString("<D:" + kind + "><D:prop>")
		}
		if u.Remove {
			writeEmptyProps(&b, []xml.Name{u.Name})
			continue
		}
		writeStartTag(&b, u.Name, u.Lang)
		b.Write(u.Value)
		writeEndTag(&b, u.Name)
	}
	if n := len(updates); n > 0 {
		b.WriteString("</D:prop></D:" + updateKind(updates[n-1].Remove) + ">")
	}
	b.WriteString("</D:propertyupdate>\n")
	return b.Bytes(), nil
}

// PropPatch sets and removes properties of the resource at p, in order and
// atomically (RFC 4918 §9.2), and returns the outcome of each property.
// When any update failed (the whole PROPPATCH then fails: the others are
// reported 424 Failed Dependency), the results come with a *MultiError.
func (c *Client) PropPatch(ctx context.Context, p string, updates []PropUpdate, opts ...RequestOption) ([]PropResult, error) {
	u := c.Resolve(p)
	if len(updates) == 0 {
		return nil, fmt.Errorf("client: PROPPATCH %s: no updates", u)
	}
	body, err := propertyUpdate(updates)
	if err != nil {
		return nil, fmt.Errorf("client: PROPPATCH %s: %w", u, err)
	}
	cfg := buildConfig(opts)
	cfg.header.Set("Content-Type", `application/xml; charset="utf-8"`)
	resp, err := c.send(ctx, "PROPPATCH", u, bytes.NewReader(body), cfg)
	if err != nil {
		return nil, err
	}
	defer drain(resp.Body)
	switch {
	case resp.StatusCode == http.StatusMultiStatus:
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		// No per-property report: all updates were applied.
		out := make([]PropResult, len(updates))
		for i, up := range updates {
			out[i] = PropResult{Name: up.Name, Status: multistatus.NewStatus(resp.StatusCode)}
		}
		return out, nil
	default:
		return nil, c.errorFrom(resp)
	}
	var out []PropResult
	me := &MultiError{Method: "PROPPATCH", URL: u.String(), StatusCode: resp.StatusCode}
	for r, err := range multistatus.NewReader(resp.Body).Responses() {
		if err != nil {
			return out, fmt.Errorf("client: PROPPATCH %s: %w", u, err)
		}
		for _, ps := range r.Propstats {
			for _, prop := range ps.Props {
				out = append(out, PropResult{Name: prop.Name, Status: ps.Status, Error: ps.Error,
					Description: strings.TrimSpace(ps.ResponseDescription)})
			}
		}
		me.Failures = c.failures(r, me.Failures)
	}
	if len(me.Failures) > 0 {
		return out, me
	}
	return out, nil
}

func updateKind(remove bool) string {
	if remove {
		return "remove"
	}
	return "set"
}
