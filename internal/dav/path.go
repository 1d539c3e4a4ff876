package dav

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/davit-dav/davit/internal/header"
	"github.com/davit-dav/davit/multistatus"
)

// cleanPath returns the resource path of a request URL below prefix.
func cleanPath(u *url.URL, prefix string) (string, error) {
	p, err := header.CleanPath(u.EscapedPath(), prefix)
	switch {
	case err == nil:
		return p, nil
	case errors.Is(err, header.ErrOutsidePrefix):
		return "", &Error{Status: http.StatusNotFound, Reason: "not found", Err: err}
	}
	return "", &Error{Status: http.StatusBadRequest, Reason: "malformed path", Err: err}
}

// hrefOf is the href of a path that includes the mount prefix.
func hrefOf(p string, collection bool) string { return multistatus.PathHref(p, collection) }
