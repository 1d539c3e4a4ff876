// Package auth checks who a request comes from and what they may do: users
// from an htpasswd file (through github.com/tg123/go-htpasswd) or from the
// config (bcrypt), groups, access lists, the Basic challenge, and a
// per-address throttle on failed logins.
package auth

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	htpasswd "github.com/tg123/go-htpasswd"
	"golang.org/x/crypto/bcrypt"
)

// UserSpec is a user defined outside a file, with a bcrypt hash.
type UserSpec struct {
	Name         string
	PasswordHash string
	Groups       []string
}

// FileParsers are the htpasswd formats accepted: every hashed format
// Apache's htpasswd writes (bcrypt, MD5-crypt/apr1, SHA-1, SSHA, crypt
// SHA-256/512). Plain-text passwords are refused: a line that is not a
// known hash must not silently become a password.
var FileParsers = []htpasswd.PasswdParser{htpasswd.AcceptBcrypt, htpasswd.AcceptMd5, htpasswd.AcceptSha, htpasswd.AcceptSsha, htpasswd.AcceptCryptSha}

// Users is the set of known users and their groups. It is immutable once
// built (a reload builds a new one) and safe for concurrent use.
type Users struct {
	file   *htpasswd.File             // nil without a users file
	inFile map[string]bool            // names in the file
	hashes map[string][]byte          // users from the config
	groups map[string]map[string]bool // user -> groups
	cache  *verifyCache
	now    func() time.Time

	dummyOnce sync.Once
	dummyHash []byte
}

// NewUsers loads the htpasswd file (when file is not empty) and the users
// given, with the group memberships of groups (group -> members) added to
// each user's own. Errors name the file's line; they never quote a hash.
func NewUsers(file string, users []UserSpec, groups map[string][]string) (*Users, error) {
	u := &Users{
		inFile: map[string]bool{},
		hashes: map[string][]byte{},
		groups: map[string]map[string]bool{},
		cache:  newVerifyCache(4096, 5*time.Minute),
		now:    time.Now,
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("cannot read: %w", err)
		}
		if err := u.scanFile(data); err != nil {
			return nil, err
		}
		if u.file, err = htpasswd.NewFromReader(bytes.NewReader(data), FileParsers, nil); err != nil {
			return nil, err
		}
	}
	for _, s := range users {
		if u.inFile[s.Name] {
			return nil, fmt.Errorf("user %q is defined both in the users file and in the config", s.Name)
		}
		if _, err := bcrypt.Cost([]byte(s.PasswordHash)); err != nil {
			return nil, fmt.Errorf("user %q: not a bcrypt hash", s.Name)
		}
		u.hashes[s.Name] = []byte(s.PasswordHash)
		for _, g := range s.Groups {
			u.addGroup(s.Name, g)
		}
	}
	for g, members := range groups {
		for _, m := range members {
			u.addGroup(m, g)
		}
	}
	return u, nil
}

// scanFile checks every line of an htpasswd file, so a typo is reported
// with its line rather than silently locking a user out.
func (u *Users) scanFile(data []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, enc, ok := strings.Cut(line, ":")
		if !ok || name == "" {
			return fmt.Errorf("line %d: want name:hash", n)
		}
		if u.inFile[name] {
			return fmt.Errorf("line %d: user %q appears twice", n, name)
		}
		known := false
		for _, p := range FileParsers {
			m, err := p(enc)
			if err != nil {
				return fmt.Errorf("line %d: user %q: malformed hash", n, name)
			}
			if m != nil {
				known = true
				break
			}
		}
		if !known {
			return fmt.Errorf("line %d: user %q: unknown hash format (plain-text passwords are not accepted)", n, name)
		}
		u.inFile[name] = true
	}
	return sc.Err()
}

func (u *Users) addGroup(user, group string) {
	if u.groups[user] == nil {
		u.groups[user] = map[string]bool{}
	}
	u.groups[user][group] = true
}

// Len is the number of users.
func (u *Users) Len() int { return len(u.inFile) + len(u.hashes) }

// Exists reports whether name is a known user.
func (u *Users) Exists(name string) bool { return u.inFile[name] || u.hashes[name] != nil }

// InGroup reports whether user belongs to group.
func (u *Users) InGroup(user, group string) bool { return u.groups[user][group] }

// dummy is compared against when the user is unknown, so the time a
// failure takes does not tell whether the name exists. Its cost is the
// highest of the configured users' hashes (bcrypt.DefaultCost with a users
// file, whose costs vary); it is made on first use.
func (u *Users) dummy() []byte {
	u.dummyOnce.Do(func() {
		cost := bcrypt.DefaultCost
		if u.file == nil {
			cost = bcrypt.MinCost
			for _, h := range u.hashes {
				if c, err := bcrypt.Cost(h); err == nil && c > cost {
					cost = c
				}
			}
		}
		u.dummyHash, _ = bcrypt.GenerateFromPassword([]byte("davit-no-such-user"), cost)
	})
	return u.dummyHash
}

// Verify reports whether password is name's password. Successes are
// remembered for a few minutes (keyed by a keyed hash, never the password
// itself) so that a client sending Basic credentials with every request
// does not pay for a bcrypt comparison each time.
func (u *Users) Verify(name, password string) bool {
	if name == "" {
		return false
	}
	key := u.cache.key(name, password)
	if u.cache.hit(key, u.now()) {
		return true
	}
	var ok bool
	switch {
	case u.hashes[name] != nil:
		ok = bcrypt.CompareHashAndPassword(u.hashes[name], []byte(password)) == nil
	case u.inFile[name] && u.file != nil:
		ok = u.file.Match(name, password)
	default:
		bcrypt.CompareHashAndPassword(u.dummy(), []byte(password))
	}
	if ok {
		u.cache.add(key, u.now())
	}
	return ok
}

// verifyCache remembers recent successful logins.
type verifyCache struct {
	mu     sync.Mutex
	secret [32]byte
	max    int
	ttl    time.Duration
	m      map[[32]byte]time.Time
}

func newVerifyCache(max int, ttl time.Duration) *verifyCache {
	c := &verifyCache{max: max, ttl: ttl, m: map[[32]byte]time.Time{}}
	rand.Read(c.secret[:])
	return c
}

func (c *verifyCache) key(name, password string) [32]byte {
	h := hmac.New(sha256.New, c.secret[:])
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write([]byte(password))
	var k [32]byte
	copy(k[:], h.Sum(nil))
	return k
}

func (c *verifyCache) hit(k [32]byte, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	exp, ok := c.m[k]
	if ok && now.Before(exp) {
		return true
	}
	if ok {
		delete(c.m, k)
	}
	return false
}

func (c *verifyCache) add(k [32]byte, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k, exp := range c.m {
			if !now.Before(exp) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= c.max {
			clear(c.m)
		}
	}
	c.m[k] = now.Add(c.ttl)
}
