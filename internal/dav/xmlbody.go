package dav

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"

	"github.com/davit-dav/davit/internal/xmlbody"
)

// XML request bodies (PROPFIND, PROPPATCH, LOCK) are read by
// internal/xmlbody with these bounds, and their size by MaxXMLBytes.
const (
	maxXMLDepth    = 32
	maxXMLElements = 20_000
)

var errEmptyBody = xmlbody.ErrEmpty

// bodyDecoder reads a request's XML body with the server's bounds.
type bodyDecoder struct{ *xmlbody.Decoder }

// newDecoder reads the XML body r (already bounded) with the server's bounds.
func newDecoder(r io.Reader) bodyDecoder {
	return bodyDecoder{xmlbody.NewDecoder(r, xmlbody.Limits{MaxDepth: maxXMLDepth, MaxElements: maxXMLElements})}
}

// badXML wraps a parse error as a 400, keeping a body-size error a 413.
func badXML(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	return &Error{Status: http.StatusBadRequest, Reason: "malformed XML body", Err: err}
}

func isDAV(n xml.Name, local string) bool { return n.Space == "DAV:" && n.Local == local }
