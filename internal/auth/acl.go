package auth

import (
	"strconv"
	"strings"
)

// Special ACL entries.
const (
	Anonymous     = "anonymous" // anyone, with or without credentials
	Authenticated = "*"         // any authenticated user
)

// ACL is who may do something: user names, "@group", "*" (any
// authenticated user) and "anonymous" (anyone).
type ACL struct {
	anyone, authenticated bool
	users                 map[string]bool
	groups                []string
}

// NewACL builds an ACL from its entries.
func NewACL(entries []string) ACL {
	a := ACL{users: map[string]bool{}}
	for _, e := range entries {
		switch {
		case e == Anonymous:
			a.anyone = true
		case e == Authenticated:
			a.authenticated = true
		case strings.HasPrefix(e, "@"):
			a.groups = append(a.groups, e[1:])
		default:
			a.users[e] = true
		}
	}
	return a
}

// Anonymous reports whether the ACL lets anyone in without credentials.
func (a ACL) Anonymous() bool { return a.anyone }

// Empty reports whether nobody at all is allowed.
func (a ACL) Empty() bool {
	return !a.anyone && !a.authenticated && len(a.users) == 0 && len(a.groups) == 0
}

// Allows reports whether user ("" for anonymous) is allowed; groups
// resolves memberships (nil: no groups).
func (a ACL) Allows(user string, groups interface{ InGroup(user, group string) bool }) bool {
	if a.anyone {
		return true
	}
	if user == "" {
		return false
	}
	if a.authenticated || a.users[user] {
		return true
	}
	if groups != nil {
		for _, g := range a.groups {
			if groups.InGroup(user, g) {
				return true
			}
		}
	}
	return false
}

// Challenge is the WWW-Authenticate value asking for Basic credentials in
// realm (RFC 7617).
func Challenge(realm string) string {
	return "Basic realm=" + strconv.Quote(realm) + `, charset="UTF-8"`
}
