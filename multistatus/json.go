package multistatus

import (
	"bufio"
	"encoding/json"
	"io"
	"strings"
)

// The JSON form of the model, for clients that would rather not parse XML:
//
//	{"responses":[{"href":["/a/b.txt"],"status":200,
//	  "propstat":[{"status":200,"props":{"{DAV:}getcontentlength":"12"}}],
//	  "error":["{DAV:}lock-token-submitted"],"location":"/c",
//	  "responsedescription":"...","id":"7"}],"responsedescription":"..."}
//
// Keys that do not apply are left out. A property whose value is text holds
// the text (white space only gives ""), one with child elements holds its
// inner XML as a string, an empty one holds "". A propstat may carry "error"
// and "responsedescription" too (RFC 4918 §14.22). "id" is Response.ID, the
// item of a Davit batch the response answers.

type jsonPropstat struct {
	Status              int            `json:"status"`
	Props               map[string]any `json:"props"`
	Error               []string       `json:"error,omitempty"`
	ResponseDescription string         `json:"responsedescription,omitempty"`
}

type jsonResponse struct {
	Href                []string       `json:"href"`
	Status              int            `json:"status,omitempty"`
	Propstat            []jsonPropstat `json:"propstat,omitempty"`
	Error               []string       `json:"error,omitempty"`
	Location            string         `json:"location,omitempty"`
	ResponseDescription string         `json:"responsedescription,omitempty"`
	ID                  string         `json:"id,omitempty"`
}

// ClarkName formats a name as {namespace}local ("{}local" without one).
func ClarkName(space, local string) string { return "{" + space + "}" + local }

// JSONValue returns the JSON form of a property value.
func (p Property) JSONValue() string {
	if t, ok := p.Text(); ok {
		if strings.TrimSpace(t) == "" {
			return ""
		}
		return t
	}
	return string(p.Inner)
}

func conditionNames(c []Condition) []string {
	if len(c) == 0 {
		return nil
	}
	out := make([]string, len(c))
	for i := range c {
		out[i] = ClarkName(c[i].Name.Space, c[i].Name.Local)
	}
	return out
}

func toJSON(r *Response) jsonResponse {
	j := jsonResponse{
		Href:                r.Hrefs,
		Status:              r.Status.Code,
		Error:               conditionNames(r.Error),
		Location:            r.Location,
		ResponseDescription: strings.TrimSpace(r.ResponseDescription),
		ID:                  r.ID,
	}
	for i := range r.Propstats {
		ps := &r.Propstats[i]
		props := make(map[string]any, len(ps.Props))
		for _, p := range ps.Props {
			props[ClarkName(p.Name.Space, p.Name.Local)] = p.JSONValue()
		}
		j.Propstat = append(j.Propstat, jsonPropstat{
			Status:              ps.Status.Code,
			Props:               props,
			Error:               conditionNames(ps.Error),
			ResponseDescription: strings.TrimSpace(ps.ResponseDescription),
		})
	}
	return j
}

// MarshalJSON returns the JSON form of one response.
func (r *Response) MarshalJSON() ([]byte, error) { return json.Marshal(toJSON(r)) }

// MarshalJSON returns the JSON form of the whole document.
func (ms *Multistatus) MarshalJSON() ([]byte, error) {
	out := struct {
		Responses           []jsonResponse `json:"responses"`
		ResponseDescription string         `json:"responsedescription,omitempty"`
	}{Responses: make([]jsonResponse, len(ms.Responses)), ResponseDescription: strings.TrimSpace(ms.ResponseDescription)}
	for i := range ms.Responses {
		out.Responses[i] = toJSON(&ms.Responses[i])
	}
	return json.Marshal(out)
}

// JSONWriter streams the JSON form, one response at a time, with the same
// rules as Writer (nothing written before the first Write, 1xx refused).
type JSONWriter struct {
	bw      *bufio.Writer
	enc     *json.Encoder
	flusher interface{ Flush() }
	n       int
	closed  bool
	err     error

	// ResponseDescription, when set before Close, is written as the
	// document's "responsedescription".
	ResponseDescription string
}

// NewJSONWriter returns a JSONWriter on w.
func NewJSONWriter(w io.Writer) *JSONWriter {
	jw := &JSONWriter{bw: bufio.NewWriterSize(w, 32<<10)}
	jw.enc = json.NewEncoder(jw.bw)
	jw.enc.SetEscapeHTML(false)
	if f, ok := w.(interface{ Flush() }); ok {
		jw.flusher = f
	}
	return jw
}

// Started reports whether the document has begun.
func (w *JSONWriter) Started() bool { return w.n > 0 || w.closed }

// Write writes one response.
func (w *JSONWriter) Write(r *Response) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return ErrClosed
	}
	if err := validate(r); err != nil {
		return err
	}
	if w.n == 0 {
		w.bw.WriteString(`{"responses":[`)
	} else {
		w.bw.WriteByte(',')
	}
	w.n++
	w.err = w.enc.Encode(toJSON(r))
	return w.err
}

// Close ends the document and flushes it.
func (w *JSONWriter) Close() error {
	if w.closed || w.err != nil {
		return w.err
	}
	if w.n == 0 {
		w.bw.WriteString(`{"responses":[`)
	}
	w.closed = true
	w.bw.WriteString("]")
	if d := strings.TrimSpace(w.ResponseDescription); d != "" {
		b, _ := json.Marshal(d)
		w.bw.WriteString(`,"responsedescription":`)
		w.bw.Write(b)
	}
	w.bw.WriteString("}\n")
	w.err = w.bw.Flush() // the destination is not flushed, as with Writer.Close
	return w.err
}

// Flush sends what is buffered to the destination and flushes it.
func (w *JSONWriter) Flush() error {
	if w.err != nil {
		return w.err
	}
	if w.err = w.bw.Flush(); w.err == nil && w.flusher != nil {
		w.flusher.Flush()
	}
	return w.err
}
