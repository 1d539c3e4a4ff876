package dav

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/davit-dav/davit/internal/props"
)

// win32NS is the namespace of the properties Windows Explorer sets.
const win32NS = "urn:schemas-microsoft-com:"

// applyWin32 applies a Win32LastModifiedTime that Windows Explorer sets by
// PROPPATCH to the resource's modification time (the property itself is
// kept as a dead property too).
func (h *Handler) applyWin32(ctx context.Context, p string, patches []props.Patch) {
	for _, pt := range patches {
		if pt.Remove || pt.Prop.Name.Space != win32NS || pt.Prop.Name.Local != "Win32LastModifiedTime" {
			continue
		}
		t, err := http.ParseTime(strings.TrimSpace(string(pt.Prop.Inner)))
		if err != nil {
			t, err = time.Parse(time.RFC3339, strings.TrimSpace(string(pt.Prop.Inner)))
		}
		if err == nil {
			h.fs.SetModTime(ctx, p, t)
		}
	}
}
