// Package lock implements WebDAV write locks (RFC 4918 §6, §7): exclusive and
// shared, depth 0 and infinity, with timeouts and expiry. A Manager is safe
// for concurrent use. Every implementation passes the suite in locktest.
package lock

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors.
var (
	ErrLocked     = errors.New("lock: resource is locked")        // a conflicting lock exists: 423
	ErrNoSuchLock = errors.New("lock: no such lock")              // unknown or expired token: 409/412
	ErrNotCovered = errors.New("lock: token does not cover path") // UNLOCK/refresh on a path outside the lock: 409
)

// Infinity is the Depth of a lock that covers a whole tree.
const Infinity = -1

// Lock is one active lock (RFC 4918 §14.1 activelock).
type Lock struct {
	Token     string        // "urn:uuid:..."
	Root      string        // clean path of the lock root (§14.12 lockroot), collections without trailing slash
	Depth     int           // 0 or Infinity
	Exclusive bool          // exclusive, else shared
	Owner     []byte        // the owner element's inner XML, exactly as sent (may be empty)
	Principal string        // authenticated user who took the lock ("" when anonymous)
	Timeout   time.Duration // granted timeout; 0 means infinite
	Expires   time.Time     // zero when Timeout is 0
}

// Covers reports whether the lock applies to the path p (p is the root, or
// below it and the lock is Depth infinity). Paths are clean, no trailing slash.
func (l Lock) Covers(p string) bool {
	if p == l.Root {
		return true
	}
	if l.Depth != Infinity {
		return false
	}
	return isDescendant(l.Root, p)
}

func isDescendant(root, p string) bool {
	if root == "/" {
		return p != "/" && len(p) > 1 && p[0] == '/'
	}
	return len(p) > len(root) && p[:len(root)] == root && p[len(root)] == '/'
}

// Manager holds the locks.
type Manager interface {
	// Create takes a new lock. It fails with ErrLocked when an existing lock
	// conflicts: any lock covering l.Root or (for a Depth infinity request)
	// any lock below it, unless both are shared. Token, Expires are filled in.
	Create(ctx context.Context, l Lock) (Lock, error)

	// Refresh resets the timeout of the lock with this token.
	// ErrNoSuchLock when unknown or expired.
	Refresh(ctx context.Context, token string, timeout time.Duration) (Lock, error)

	// Unlock removes the lock with this token. ErrNoSuchLock when unknown.
	Unlock(ctx context.Context, token string) error

	// Get returns the lock with this token. ErrNoSuchLock when unknown.
	Get(ctx context.Context, token string) (Lock, error)

	// Covering returns the live locks that apply to p: those rooted at p and
	// Depth infinity locks on its ancestors.
	Covering(ctx context.Context, p string) ([]Lock, error)

	// Below returns the live locks rooted strictly below p.
	Below(ctx context.Context, p string) ([]Lock, error)

	// RemoveTree removes every lock rooted at p or below it (the resources
	// were deleted or moved away; locks do not follow a MOVE).
	RemoveTree(ctx context.Context, p string) error
}

// Stager is a Manager that can put a new lock in force before it is
// stored, so that a caller holding a lock of its own while the lock comes
// into force (the WebDAV handler's, which keeps each write's lock check
// atomic with its change) need not hold it while the lock is stored.
// Memory and Bolt are Stagers.
type Stager interface {
	Manager
	// Stage is Create's first step: the lock it returns is in force, and
	// wait returns once it is stored, or with the error that kept it from
	// being stored, and then the lock has been taken back. wait must be
	// called, once (other changes may be waiting for it). When Stage
	// fails, nothing is staged and there is no wait.
	Stage(ctx context.Context, l Lock) (_ Lock, wait func() error, err error)
}
