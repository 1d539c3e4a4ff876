package server

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"time"
)

// storePool holds the open folders, counted by reference: a reload builds
// a new handler tree that takes the folders still configured from the
// pool instead of opening them twice, and a folder closes when the last
// tree using it has finished its requests.
type storePool struct {
	mu  sync.Mutex
	m   map[string]*store
	opt storeOptions
	log *slog.Logger
}

func newStorePool(opt storeOptions, log *slog.Logger) *storePool {
	return &storePool{m: map[string]*store{}, opt: opt, log: log}
}

// acquire returns the open store of dir, opening it when needed. Plain
// stores (no WebDAV state) are kept apart from full ones.
func (p *storePool) acquire(dir string, plain bool) (*store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	key := poolKey(abs, plain)
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.m[key]; s != nil {
		s.refs++
		return s, nil
	}
	s, err := openStore(abs, plain, p.opt, p.log)
	if err != nil {
		return nil, err
	}
	s.refs = 1
	p.m[key] = s
	return s, nil
}

func poolKey(abs string, plain bool) string {
	if plain {
		return "plain:" + abs
	}
	return "dav:" + abs
}

// setOptions changes the options of folders opened from now on.
func (p *storePool) setOptions(opt storeOptions) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.opt = opt
}

// release drops one reference, closing the store after the last.
func (p *storePool) release(s *store) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.refs--; s.refs > 0 {
		return
	}
	delete(p.m, poolKey(s.dir, s.plain))
	if err := s.close(); err != nil {
		p.log.Warn("closing folder", "folder", s.dir, "err", err)
	}
}

// closeAll closes every store, whoever holds it (at exit).
func (p *storePool) closeAll() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for k, s := range p.m {
		errs = append(errs, s.close())
		delete(p.m, k)
	}
	return errors.Join(errs...)
}

// activeLocks counts the live locks of every open folder.
func (p *storePool) activeLocks() int {
	p.mu.Lock()
	stores := make([]*store, 0, len(p.m))
	for _, s := range p.m {
		stores = append(stores, s)
	}
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n := 0
	for _, s := range stores {
		if s.plain {
			continue
		}
		at, err1 := s.locks.Covering(ctx, "/")
		below, err2 := s.locks.Below(ctx, "/")
		if err1 == nil && err2 == nil {
			n += len(at) + len(below)
		}
	}
	return n
}
