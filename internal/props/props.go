// Package props stores dead properties (RFC 4918 §4) per resource path. A
// Store is safe for concurrent use; every implementation passes the suite in
// propstest.
package props

import (
	"context"
	"encoding/xml"
	"errors"
)

// ErrTooLarge is returned when a property value or a resource's total
// exceeds the store's limit.
var ErrTooLarge = errors.New("props: property too large")

// Property is one dead property exactly as a client sent it.
type Property struct {
	Name xml.Name // namespace URI and local name
	Lang string   // xml:lang in scope on the property element ("" when none)
	// Inner is the element's content as self-contained XML: every element
	// declares the namespaces it uses, so it can be written back inside any
	// parent. Text is escaped. Mixed content is kept in order.
	Inner []byte
}

// Patch is one PROPPATCH instruction: Remove false sets Prop, true removes Prop.Name.
type Patch struct {
	Remove bool
	Prop   Property
}

// Store holds dead properties keyed by clean path (no trailing slash, "/" for root).
type Store interface {
	// Get returns all dead properties of p, sorted by namespace then local
	// name (byte-wise); none and no error when p has none.
	Get(ctx context.Context, p string) ([]Property, error)

	// GetPage returns the dead properties of each path, in the order of
	// paths, as Get would, in one read: a listing asks for a page of
	// resources at a time rather than one read per resource.
	GetPage(ctx context.Context, paths []string) ([][]Property, error)

	// Apply applies the patches to p in order, all or nothing. Removing an
	// absent property is not an error. Limits: MaxValueSize, MaxNameSize,
	// MaxPerResource (ErrTooLarge).
	Apply(ctx context.Context, p string, patches []Patch) error

	// Copy copies the properties of src and, when tree is set, of
	// everything below it, to the same relative paths under dst, replacing
	// what dst and everything below it had (also when tree is not set:
	// an overwritten destination is replaced as a whole).
	Copy(ctx context.Context, src, dst string, tree bool) error

	// Move moves the properties of src and everything below it to dst,
	// replacing what dst had.
	Move(ctx context.Context, src, dst string) error

	// Delete removes the properties of p and everything below it.
	Delete(ctx context.Context, p string) error

	// Paths returns the paths, p and below it, that hold properties,
	// each once, in byte order.
	Paths(ctx context.Context, p string) ([]string, error)
}
