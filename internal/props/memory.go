package props

import (
	"context"
	"encoding/xml"
	"slices"
	"sync"
)

// Memory is a Store that keeps properties in memory, for tests and
// throwaway servers. Get and Apply cost O(properties of the resource);
// Copy, Move and Delete scan every resource with properties.
type Memory struct {
	mu sync.RWMutex
	m  map[string]map[xml.Name]Property
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory Store.
func NewMemory() *Memory {
	return &Memory{m: make(map[string]map[xml.Name]Property)}
}

func cloneProp(p Property) Property {
	p.Inner = slices.Clone(p.Inner)
	return p
}

// GetPage implements Store.
func (s *Memory) GetPage(ctx context.Context, paths []string) ([][]Property, error) {
	out := make([][]Property, len(paths))
	for i, p := range paths {
		ps, err := s.Get(ctx, p)
		if err != nil {
			return nil, err
		}
		out[i] = ps
	}
	return out, nil
}

// Get implements Store.
func (s *Memory) Get(ctx context.Context, p string) ([]Property, error) {
	if err := check(ctx, p); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.m[p]
	if len(r) == 0 {
		return nil, nil
	}
	out := make([]Property, 0, len(r))
	for _, pr := range r {
		out = append(out, cloneProp(pr))
	}
	sortProps(out)
	return out, nil
}

// Apply implements Store.
func (s *Memory) Apply(ctx context.Context, p string, patches []Patch) error {
	if err := check(ctx, p); err != nil {
		return err
	}
	for _, pt := range patches {
		if err := checkPatch(pt); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := make(map[xml.Name]Property, len(s.m[p])+len(patches))
	for k, v := range s.m[p] {
		r[k] = v
	}
	for _, pt := range patches {
		if pt.Remove {
			delete(r, pt.Prop.Name)
		} else {
			r[pt.Prop.Name] = cloneProp(pt.Prop)
		}
	}
	if len(r) > MaxPerResource {
		return errTooMany(p)
	}
	if len(r) == 0 {
		delete(s.m, p)
	} else {
		s.m[p] = r
	}
	return nil
}

// Copy implements Store. Whatever dst and everything below it had is
// removed first, even when tree is false.
func (s *Memory) Copy(ctx context.Context, src, dst string, tree bool) error {
	return s.transfer(ctx, src, dst, tree, false)
}

// Move implements Store.
func (s *Memory) Move(ctx context.Context, src, dst string) error {
	return s.transfer(ctx, src, dst, true, true)
}

func (s *Memory) transfer(ctx context.Context, src, dst string, tree, move bool) error {
	if err := check(ctx, src); err != nil {
		return err
	}
	if err := checkPath(dst); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Snapshot the source first, so overlapping trees behave as if the
	// source were copied away before dst is cleared.
	moved := make(map[string]map[xml.Name]Property)
	for p, r := range s.m {
		if p == src || tree && inTree(src, p) {
			moved[rebase(p, src, dst)] = r // values are never mutated in place
			if move {
				delete(s.m, p)
			}
		}
	}
	for p := range s.m {
		if inTree(dst, p) {
			delete(s.m, p)
		}
	}
	for p, r := range moved {
		s.m[p] = r
	}
	return nil
}

// Delete implements Store.
func (s *Memory) Delete(ctx context.Context, p string) error {
	if err := check(ctx, p); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for q := range s.m {
		if inTree(p, q) {
			delete(s.m, q)
		}
	}
	return nil
}

// Paths implements Store.
func (s *Memory) Paths(ctx context.Context, p string) ([]string, error) {
	if err := check(ctx, p); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for q := range s.m {
		if inTree(p, q) {
			out = append(out, q)
		}
	}
	slices.Sort(out)
	return out, nil
}

// check returns the context's error or an error for an invalid path.
func check(ctx context.Context, p string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return checkPath(p)
}
