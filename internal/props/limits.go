package props

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
)

// Limits every Store enforces; the server documents them.
const (
	// MaxValueSize is the largest Inner, in bytes, of one property.
	MaxValueSize = 64 << 10
	// MaxPerResource is the most dead properties one resource may have.
	MaxPerResource = 1000
	// MaxNameSize is the largest namespace plus local name, in bytes.
	MaxNameSize = 1024
)

// validPath reports whether p is a clean absolute path without NUL.
func validPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	if p == "/" {
		return true
	}
	// path.Clean(p) == p: no empty, "." or ".." element, no trailing slash.
	for i := 1; i <= len(p); {
		j := strings.IndexByte(p[i:], '/')
		if j < 0 {
			j = len(p) - i
		}
		switch e := p[i : i+j]; e {
		case "", ".", "..":
			return false
		}
		i += j + 1
	}
	return strings.IndexByte(p, 0) < 0
}

// checkPath returns an error for an invalid path.
func checkPath(p string) error {
	if !validPath(p) {
		return fmt.Errorf("props: invalid path %q", p)
	}
	return nil
}

// checkPatch validates one patch against the per-property limits.
func checkPatch(pt Patch) error {
	n := pt.Prop.Name
	if n.Local == "" || strings.ContainsRune(n.Local, 0) || strings.ContainsRune(n.Space, 0) {
		return fmt.Errorf("props: invalid property name {%s}%s", n.Space, n.Local)
	}
	if len(n.Space)+len(n.Local) > MaxNameSize {
		return fmt.Errorf("%w: property name of %d bytes, limit %d", ErrTooLarge, len(n.Space)+len(n.Local), MaxNameSize)
	}
	if !pt.Remove && len(pt.Prop.Inner) > MaxValueSize {
		return fmt.Errorf("%w: {%s}%s is %d bytes, limit %d", ErrTooLarge, n.Space, n.Local, len(pt.Prop.Inner), MaxValueSize)
	}
	return nil
}

func errTooMany(p string) error {
	return fmt.Errorf("%w: %s would have more than %d properties", ErrTooLarge, p, MaxPerResource)
}

// compareNames orders by namespace, then local name.
func compareNames(a, b xml.Name) int {
	return cmp.Or(cmp.Compare(a.Space, b.Space), cmp.Compare(a.Local, b.Local))
}

func sortProps(ps []Property) {
	slices.SortFunc(ps, func(a, b Property) int { return compareNames(a.Name, b.Name) })
}

// inTree reports whether p is root or below it.
func inTree(root, p string) bool {
	if root == "/" || p == root {
		return true
	}
	return strings.HasPrefix(p, root) && p[len(root)] == '/'
}

// rebase moves p, which is in the tree of src, to the same place under dst.
func rebase(p, src, dst string) string {
	if p == src {
		return dst
	}
	rel := p[len(src):]
	if src == "/" {
		rel = p
	}
	if dst == "/" {
		return rel
	}
	return dst + rel
}
