package header

import "strings"

// State is what the If header can observe of one resource (RFC 4918 §10.4.4).
type State struct {
	// ETag is the resource's current entity tag with its quotes (`"abc"` or
	// `W/"abc"`), or "" when it has none, in particular when the URL is
	// unmapped: entity-tag conditions then never match.
	ETag string
	// LockTokens are the tokens of every lock whose scope includes the
	// resource: locks rooted at it and Depth infinity locks on its
	// ancestors, as lock.Manager.Covering returns them. An unmapped URL
	// inside a Depth infinity lock is in that lock's scope too.
	LockTokens []string
}

// StateFunc returns the state of the resource at path, a clean path relative
// to the mount prefix as CleanPath returns it ("/", "/a/b"). Eval calls it at
// most once per path. An error stops the evaluation and is returned as is.
type StateFunc func(path string) (State, error)

// Result is the outcome of If.Eval.
type Result struct {
	// OK reports whether the header as a whole holds. When it is false the
	// server must answer 412 Precondition Failed (RFC 4918 §10.4.3).
	OK bool
	// Tokens are the non-negated state tokens, NoLock excluded, of the lists
	// that held, in header order without duplicates: the strict reading of
	// "submitted". RFC 4918 §10.4.1 counts every token in the header as
	// submitted (If.SubmittedTokens); this set is for a server that wants
	// the stricter reading.
	Tokens []string
}

// Target returns the resource l applies to, relative to prefix: the
// Request-URI's path requestPath (as CleanPath returns it) for an untagged
// list, else the path of its Resource-Tag with prefix removed. ok is false when the tag names a path
// outside prefix, a resource this server does not hold. Only paths are
// compared: the scheme and host of the tag are ignored.
func (l List) Target(requestPath, prefix string) (path string, ok bool) {
	if l.Tag == "" {
		return requestPath, true
	}
	// l.Path is clean, so it has no "." or ".." segments left to resolve.
	p, err := underPrefix(prefixSegments(l.Path), prefix)
	if err != nil {
		return "", false
	}
	return p, true
}

// Eval evaluates the If header for a request whose Request-URI maps to
// requestPath (relative to prefix, as CleanPath returns it), following
// RFC 4918 §10.4.3 and §10.4.4:
//
//   - an untagged list applies to the Request-URI; a tagged list to the
//     resource its tag names, wherever that is (only the path of the tag
//     counts; a path outside prefix is a resource with no ETag and no locks);
//   - a list holds when all its conditions hold; the header holds when any
//     list holds, so one evaluation covers every resource a method touches
//     (source, Destination, members): tagged lists name them explicitly;
//   - a state-token condition holds when the token is one of the resource's
//     State.LockTokens; NoLock never does, so "(Not <DAV:no-lock>)" always
//     holds;
//   - an entity-tag condition compares with State.ETag: weakly (opaque tags
//     equal) when the header's tag is weak, strongly (both strong and equal)
//     otherwise; an unquoted tag counts as strong;
//   - "Not" negates one condition; an unmapped URL has no ETag and only the
//     locks whose scope covers its URL.
//
// As RFC 4918 (unlike RFC 2518) specifies, the header is evaluated once, as a
// whole: a tagged list naming a resource the method does not touch is still
// evaluated, against that resource, and may make the header hold or not.
// Eval evaluates every list, to collect Result.Tokens; the zero If (no header)
// gives OK true.
func (h If) Eval(requestPath, prefix string, state StateFunc) (Result, error) {
	if len(h.Lists) == 0 {
		return Result{OK: true}, nil
	}
	cache := make(map[string]State)
	var res Result
	for _, l := range h.Lists {
		var st State
		if p, ok := l.Target(requestPath, prefix); ok {
			s, seen := cache[p]
			if !seen {
				var err error
				if s, err = state(p); err != nil {
					return Result{}, err
				}
				cache[p] = s
			}
			st = s
		}
		if listHolds(l, st) {
			res.OK = true
			res.Tokens = appendTokens(res.Tokens, l)
		}
	}
	return res, nil
}

func listHolds(l List, st State) bool {
	for _, c := range l.Conditions {
		if c.holds(st) == c.Not {
			return false
		}
	}
	return true
}

// holds evaluates c without its Not.
func (c Condition) holds(st State) bool {
	if c.ETag != "" {
		return etagMatch(c.ETag, st.ETag)
	}
	if isNoLock(c.Token) {
		return false
	}
	return contains(st.LockTokens, c.Token)
}

// etagMatch compares an entity tag from the If header with the resource's:
// weak comparison when the header's tag is weak, strong otherwise
// (RFC 9110 §8.8.3.2).
func etagMatch(cond, current string) bool {
	if current == "" {
		return false
	}
	cw, co := splitETag(cond)
	rw, ro := splitETag(current)
	if co != ro {
		return false
	}
	return cw || !rw
}

// splitETag returns whether tag is weak and its opaque part without quotes.
// An unquoted tag is taken as a strong tag of that text.
func splitETag(tag string) (weak bool, opaque string) {
	if strings.HasPrefix(tag, "W/") {
		weak, tag = true, tag[2:]
	}
	if len(tag) >= 2 && tag[0] == '"' && tag[len(tag)-1] == '"' {
		tag = tag[1 : len(tag)-1]
	}
	return weak, tag
}
