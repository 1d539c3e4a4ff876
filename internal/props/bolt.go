package props

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"go.etcd.io/bbolt"

	"github.com/davit-dav/davit/internal/boltgroup"
)

// BoltBucket is the bbolt bucket holding the properties, so the database
// may be shared with other stores.
const BoltBucket = "props"

// Bolt is a Store that persists properties in a bbolt database. Each
// property is one key, path + "\x00" + namespace + "\x00" + local name, so
// a resource's properties are one contiguous, sorted range; the value is
// the uvarint length of Lang, Lang, then Inner. Get and Apply cost
// O(log keys + properties of the resource); Copy, Move and Delete cost
// O(log keys + keys in the trees involved). Every method is one
// transaction, except reads while the bucket is known to be empty.
//
// A Bolt must be the only writer of its bucket: it remembers that the
// bucket held no property when it was made, so that reads of a store
// nobody has set a property in (the common case) cost no transaction,
// and forgets it before its first write that adds one.
type Bolt struct {
	db    *bbolt.DB
	empty atomic.Bool // no property stored (when true)
	// writes commits the writes that arrive together in one transaction
	// (see boltgroup.Group).
	writes *boltgroup.Group
}

var _ Store = (*Bolt)(nil)

// NewBolt returns a Store on db, creating its bucket if needed.
func NewBolt(db *bbolt.DB) (*Bolt, error) {
	empty := false
	err := db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(BoltBucket))
		if err == nil {
			k, _ := b.Cursor().First()
			empty = k == nil
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("props: create %s bucket: %w", BoltBucket, err)
	}
	s := &Bolt{db: db, writes: boltgroup.New(db, BoltBucket)}
	s.empty.Store(empty)
	return s, nil
}

var errNoBucket = errors.New("props: bucket " + BoltBucket + " missing")

func (s *Bolt) view(f func(b *bbolt.Bucket) error) error {
	return s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(BoltBucket))
		if b == nil {
			return errNoBucket
		}
		return f(b)
	})
}

// update runs f in a write transaction of the bucket, which it may share
// with other writes that arrive meanwhile (see boltgroup.Group): f may run
// more than once, and must touch nothing but the bucket.
func (s *Bolt) update(f func(b *bbolt.Bucket) error) error {
	return s.writes.Update(f)
}

func key(p string, n xml.Name) []byte {
	return []byte(p + "\x00" + n.Space + "\x00" + n.Local)
}

func encode(pr Property) []byte {
	v := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(pr.Lang)+len(pr.Inner)), uint64(len(pr.Lang)))
	v = append(v, pr.Lang...)
	return append(v, pr.Inner...)
}

// decoder decodes the entries of one read into Properties whose strings
// and values share a few allocations instead of three or four each: the
// names and languages are substrings of strings built in one
// strings.Builder (which only ever appends, so what it handed out before
// stays as it was), each Inner is a capacity-limited slice of a shared
// block (appending to one copies it rather than overwrite its neighbour),
// and a namespace equal to the one before is the same string (a client's
// properties mostly share one).
type decoder struct {
	text  strings.Builder
	block []byte
	// names are the last namespaces and local names read: the resources
	// of a page mostly carry the same properties (Windows sets the same
	// four on every file), so each name is kept once, not per resource.
	names  [16]string
	nnames int
	next   int // the size of the next block or builder, doubling to maxShared
}

// name returns b as a string, the one read before when there is one.
func (d *decoder) name(b []byte) string {
	for _, s := range d.names {
		if s == string(b) {
			return s
		}
	}
	s := d.str(b)
	d.names[d.nnames%len(d.names)] = s
	d.nnames++
	return s
}

// maxShared is the largest block the decoder allocates to share; a value
// longer than a quarter of it gets its own.
const maxShared = 4 << 10

// grow returns the size of the next shared allocation for at least n
// bytes: 256 for a read's first, doubling up to maxShared, so that reading
// one small property does not cost a large block.
func (d *decoder) grow(n int) int {
	d.next = min(max(2*d.next, 256), maxShared)
	return max(n, d.next)
}

// decode builds a Property from a key and value of resource prefix pre,
// copying out of the transaction's memory.
func (d *decoder) decode(pre, k, v []byte) (Property, error) {
	name := k[len(pre):]
	i := bytes.IndexByte(name, 0)
	n, w := binary.Uvarint(v)
	if i < 0 || w <= 0 || uint64(len(v)-w) < n {
		return Property{}, fmt.Errorf("props: corrupt entry %q", k)
	}
	space, local, lang, inner := name[:i], name[i+1:], v[w:w+int(n)], v[w+int(n):]
	return Property{
		Name:  xml.Name{Space: d.name(space), Local: d.name(local)},
		Lang:  d.str(lang),
		Inner: d.bytes(inner),
	}, nil
}

// str returns b as a string held in d.text.
func (d *decoder) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	start := d.text.Len()
	if d.text.Cap()-start < len(b) {
		// A fresh builder rather than a grown one: growing would copy
		// everything written so far, which the strings handed out keep.
		d.text = strings.Builder{}
		d.text.Grow(d.grow(len(b)))
		start = 0
	}
	d.text.Write(b)
	return d.text.String()[start:]
}

// bytes returns a copy of b, in d.block when it fits, never nil: an empty
// value is a property without content, not a missing one.
func (d *decoder) bytes(b []byte) []byte {
	if len(b) > maxShared/4 {
		return bytes.Clone(b)
	}
	if d.block == nil || cap(d.block)-len(d.block) < len(b) {
		d.block = make([]byte, 0, d.grow(len(b)))
	}
	start := len(d.block)
	d.block = append(d.block, b...)
	return d.block[start:len(d.block):len(d.block)]
}

// Get implements Store.
func (s *Bolt) Get(ctx context.Context, p string) ([]Property, error) {
	if s.empty.Load() {
		return nil, check(ctx, p)
	}
	page, err := s.GetPage(ctx, []string{p})
	if err != nil {
		return nil, err
	}
	return page[0], nil
}

// The sizes of GetPage's blocks of properties: the first, and the most a
// block grows to (a resource's own run may need more).
const (
	minBlockProps = 4
	maxBlockProps = 512
)

// GetPage implements Store: one read transaction for the whole page.
func (s *Bolt) GetPage(ctx context.Context, paths []string) ([][]Property, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, p := range paths {
		if err := checkPath(p); err != nil {
			return nil, err
		}
	}
	out := make([][]Property, len(paths))
	if s.empty.Load() {
		return out, nil
	}
	err := s.view(func(b *bbolt.Bucket) error {
		c := b.Cursor()
		// One seek first: when no key starts with what all the paths
		// share (a listing's page shares its folder), the whole page is
		// without properties, and the seek per path is saved.
		if common := commonPrefix(paths); common != "" {
			if k, _ := c.Seek([]byte(common)); k == nil || !bytes.HasPrefix(k, []byte(common)) {
				return nil
			}
		}
		var (
			pre []byte
			d   decoder
			// The page's properties go in blocks, each path's a
			// capacity-limited run in one block. A full block is left to
			// the runs it holds, never copied: only the run being read
			// moves to the next block.
			block []Property
		)
		for i, p := range paths {
			pre = append(append(pre[:0], p...), 0)
			start := len(block)
			for k, v := c.Seek(pre); k != nil && bytes.HasPrefix(k, pre); k, v = c.Next() {
				pr, err := d.decode(pre, k, v)
				if err != nil {
					return err
				}
				if len(block) == cap(block) {
					run := block[start:]
					next := make([]Property, 0, max(min(2*cap(block), maxBlockProps), 2*len(run), minBlockProps))
					block, start = append(next, run...), 0
				}
				block = append(block, pr)
			}
			if len(block) > start {
				out[i] = block[start:len(block):len(block)]
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// commonPrefix returns the longest prefix all of paths share.
func commonPrefix(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	c := paths[0]
	for _, p := range paths[1:] {
		n := min(len(c), len(p))
		i := 0
		for i < n && c[i] == p[i] {
			i++
		}
		c = c[:i]
	}
	return c
}

// Apply implements Store.
func (s *Bolt) Apply(ctx context.Context, p string, patches []Patch) error {
	if err := check(ctx, p); err != nil {
		return err
	}
	sets := false
	for _, pt := range patches {
		if err := checkPatch(pt); err != nil {
			return err
		}
		sets = sets || !pt.Remove
	}
	if sets {
		s.empty.Store(false) // before the write, so no read after it can miss it
	}
	return s.update(func(b *bbolt.Bucket) error {
		for _, pt := range patches {
			k := key(p, pt.Prop.Name)
			if len(k) > bbolt.MaxKeySize {
				return fmt.Errorf("%w: key for {%s}%s on %s", ErrTooLarge, pt.Prop.Name.Space, pt.Prop.Name.Local, p)
			}
			var err error
			if pt.Remove {
				err = b.Delete(k)
			} else {
				err = b.Put(k, encode(pt.Prop))
			}
			if err != nil {
				return fmt.Errorf("props: apply to %s: %w", p, err)
			}
		}
		if !sets {
			return nil
		}
		pre := []byte(p + "\x00")
		n := 0
		c := b.Cursor()
		for k, _ := c.Seek(pre); k != nil && bytes.HasPrefix(k, pre); k, _ = c.Next() {
			if n++; n > MaxPerResource {
				return errTooMany(p)
			}
		}
		return nil
	})
}

type entry struct{ k, v []byte }

// collect returns copies of the entries of p and, when tree is set, of
// everything below it.
func collect(b *bbolt.Bucket, p string, tree bool) []entry {
	var out []entry
	c := b.Cursor()
	for _, pre := range prefixes(p, tree) {
		for k, v := c.Seek([]byte(pre)); k != nil && bytes.HasPrefix(k, []byte(pre)); k, v = c.Next() {
			out = append(out, entry{bytes.Clone(k), bytes.Clone(v)})
		}
	}
	return out
}

// prefixes returns the key prefixes of p and, when tree is set, of
// everything below it.
func prefixes(p string, tree bool) []string {
	switch {
	case !tree:
		return []string{p + "\x00"}
	case p == "/":
		return []string{"/"}
	}
	return []string{p + "\x00", p + "/"}
}

// anyUnder reports whether any property is stored for the trees (or single
// paths) given. DELETE, COPY and MOVE of resources without properties, by
// far the common case, then cost a read instead of a synced write.
func (s *Bolt) anyUnder(trees map[string]bool) (bool, error) {
	if s.empty.Load() {
		return false, nil
	}
	found := false
	err := s.view(func(b *bbolt.Bucket) error {
		c := b.Cursor()
		for p, tree := range trees {
			for _, pre := range prefixes(p, tree) {
				if k, _ := c.Seek([]byte(pre)); k != nil && bytes.HasPrefix(k, []byte(pre)) {
					found = true
					return nil
				}
			}
		}
		return nil
	})
	return found, err
}

func deleteAll(b *bbolt.Bucket, es []entry) error {
	for _, e := range es {
		if err := b.Delete(e.k); err != nil {
			return err
		}
	}
	return nil
}

// Copy implements Store. Whatever dst and everything below it had is
// removed first, even when tree is false.
func (s *Bolt) Copy(ctx context.Context, src, dst string, tree bool) error {
	return s.transfer(ctx, src, dst, tree, false)
}

// Move implements Store.
func (s *Bolt) Move(ctx context.Context, src, dst string) error {
	return s.transfer(ctx, src, dst, true, true)
}

func (s *Bolt) transfer(ctx context.Context, src, dst string, tree, move bool) error {
	if err := check(ctx, src); err != nil {
		return err
	}
	if err := checkPath(dst); err != nil {
		return err
	}
	if found, err := s.anyUnder(map[string]bool{src: tree, dst: true}); err != nil || !found {
		return err
	}
	err := s.update(func(b *bbolt.Bucket) error {
		from := collect(b, src, tree)
		if move {
			if err := deleteAll(b, from); err != nil {
				return err
			}
		}
		if err := deleteAll(b, collect(b, dst, true)); err != nil {
			return err
		}
		for _, e := range from {
			i := bytes.IndexByte(e.k, 0)
			k := append([]byte(rebase(string(e.k[:i]), src, dst)), e.k[i:]...)
			if err := b.Put(k, e.v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("props: %s to %s: %w", src, dst, err)
	}
	return nil
}

// Paths implements Store.
func (s *Bolt) Paths(ctx context.Context, p string) ([]string, error) {
	if err := check(ctx, p); err != nil || s.empty.Load() {
		return nil, err
	}
	var out []string
	err := s.view(func(b *bbolt.Bucket) error {
		c := b.Cursor()
		for _, pre := range prefixes(p, true) {
			// A path's keys are adjacent: NUL sorts before any byte a
			// longer path could have there.
			for k, _ := c.Seek([]byte(pre)); k != nil && bytes.HasPrefix(k, []byte(pre)); k, _ = c.Next() {
				q := k[:bytes.IndexByte(k, 0)]
				if n := len(out); n == 0 || out[n-1] != string(q) {
					out = append(out, string(q))
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("props: paths under %s: %w", p, err)
	}
	return out, nil
}

// Delete implements Store.
func (s *Bolt) Delete(ctx context.Context, p string) error {
	if err := check(ctx, p); err != nil {
		return err
	}
	if found, err := s.anyUnder(map[string]bool{p: true}); err != nil || !found {
		return err
	}
	err := s.update(func(b *bbolt.Bucket) error { return deleteAll(b, collect(b, p, true)) })
	if err != nil {
		return fmt.Errorf("props: delete %s: %w", p, err)
	}
	return nil
}
