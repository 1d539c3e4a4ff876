package header

import (
	"fmt"
	"strings"
)

// Limits on an If header; beyond them ParseIf fails with ErrTooComplex.
const (
	MaxIfLength     = 8 << 10 // bytes in the whole header value
	MaxIfLists      = 64      // lists in the whole header, over all Resource-Tags
	MaxIfConditions = 64      // conditions in one list
)

// NoLock is the state token "DAV:no-lock", which never names a lock
// (RFC 4918 §10.4.8): "(Not <DAV:no-lock>)" is a condition that always holds.
const NoLock = "DAV:no-lock"

// If is a parsed If header (RFC 4918 §10.4). The header is a disjunction of
// its lists: it holds when any one list holds for the resource it applies to.
// The zero value is an absent header.
type If struct {
	// Tagged is true when the lists carry Resource-Tags (Tagged-list
	// productions), false for No-tag-lists. RFC 4918 forbids mixing the two.
	Tagged bool
	// Lists in header order. In a tagged header, each list carries the tag
	// of the Resource-Tag before it, so "<a> (x) (y)" gives two lists tagged a.
	Lists []List
}

// List is one parenthesised list of conditions (RFC 4918 §10.4.2): it holds
// when every condition holds for the resource it applies to, which is the
// tagged resource, or the Request-URI for an untagged list.
type List struct {
	// Tag is the Resource-Tag as sent, without its angle brackets, such as
	// "http://example.com/dav/a%20b"; empty for an untagged list.
	Tag string
	// Path is the decoded, clean path of Tag, with the scheme, host and
	// trailing slash dropped and no mount prefix removed
	// ("/dav/a b"); empty for an untagged list. See List.Target.
	Path string
	// Conditions in header order; never empty.
	Conditions []Condition
}

// Condition is one condition of a list: a state token or an entity tag,
// possibly negated. Exactly one of Token and ETag is set.
type Condition struct {
	// Not negates the condition.
	Not bool
	// Token is a state token (a Coded-URL) without its angle brackets, such as
	// "urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2" or NoLock.
	Token string
	// ETag is an entity tag as sent, with its quotes and any weak prefix:
	// `"abc"` or `W/"abc"`. An unquoted tag (`abc`, echoed back by clients
	// from servers that send such ETags) is kept as is and compared as the
	// strong tag `"abc"`.
	ETag string
}

// ParseIf parses an If header value (RFC 4918 §10.4.2):
//
//	If = ( 1*No-tag-list | 1*Tagged-list )
//	No-tag-list = List
//	Tagged-list = Resource-Tag 1*List
//	List = "(" 1*Condition ")"
//	Condition = ["Not"] (State-token | "[" entity-tag "]")
//	State-token = Coded-URL
//	Resource-Tag = "<" Simple-ref ">"
//
// White space may separate all of these; "Not" is case-insensitive. A
// Resource-Tag is an absolute URI or an absolute path; its path is decoded
// and cleaned as ParseDestination does, without a prefix (an encoded slash,
// NUL, a query, or ".." above the root is an error). Call ParseIf only when
// the request has an If header: an empty value is an error. If a request
// carries several If headers, join them with a space first.
//
// A value that breaks the grammar, or mixes tagged and untagged lists, fails
// with ErrBadIf; one over MaxIfLength bytes, MaxIfLists lists or
// MaxIfConditions conditions in a list fails with ErrTooComplex.
func ParseIf(s string) (If, error) {
	if len(s) > MaxIfLength {
		return If{}, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooComplex, len(s), MaxIfLength)
	}
	p := ifParser{s: s}
	h, err := p.parse()
	if err != nil {
		return If{}, err
	}
	return h, nil
}

type ifParser struct {
	s string
	i int
}

func (p *ifParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: at byte %d: %s", ErrBadIf, p.i, fmt.Sprintf(format, args...))
}

func (p *ifParser) skipWS() {
	for p.i < len(p.s) && isWS(p.s[p.i]) {
		p.i++
	}
}

func (p *ifParser) parse() (If, error) {
	var h If
	p.skipWS()
	if p.i == len(p.s) {
		return If{}, p.errorf("empty")
	}
	h.Tagged = p.s[p.i] == '<'
	var tag, tagPath string
	listsSinceTag := 0
	for {
		p.skipWS()
		if p.i == len(p.s) {
			break
		}
		switch p.s[p.i] {
		case '<':
			if !h.Tagged {
				return If{}, p.errorf("a Resource-Tag after untagged lists")
			}
			if tag != "" && listsSinceTag == 0 {
				return If{}, p.errorf("a Resource-Tag without a list")
			}
			var err error
			if tag, tagPath, err = p.resourceTag(); err != nil {
				return If{}, err
			}
			listsSinceTag = 0
		case '(':
			if len(h.Lists) == MaxIfLists {
				return If{}, fmt.Errorf("%w: more than %d lists", ErrTooComplex, MaxIfLists)
			}
			conds, err := p.list()
			if err != nil {
				return If{}, err
			}
			h.Lists = append(h.Lists, List{Tag: tag, Path: tagPath, Conditions: conds})
			listsSinceTag++
		default:
			return If{}, p.errorf("unexpected %q", p.s[p.i])
		}
	}
	if listsSinceTag == 0 {
		return If{}, p.errorf("a Resource-Tag without a list")
	}
	return h, nil
}

// resourceTag reads "<" Simple-ref ">" at p.i. Spaces are tolerated inside
// (some clients do not escape them in names); other white space is not.
func (p *ifParser) resourceTag() (raw, path string, err error) {
	start := p.i + 1
	end := strings.IndexByte(p.s[start:], '>')
	if end < 0 {
		return "", "", p.errorf("unterminated Resource-Tag")
	}
	raw = p.s[start : start+end]
	if raw == "" || strings.ContainsAny(raw, "<\t\r\n") {
		return "", "", p.errorf("bad Resource-Tag %q", clip(raw))
	}
	ref, err := refPath(raw)
	if err == nil {
		var segs []string
		if segs, err = decodeSegments(ref); err == nil {
			path, err = resolve(segs)
		}
	}
	if err != nil {
		return "", "", p.errorf("Resource-Tag %q: %v", clip(raw), err)
	}
	p.i = start + end + 1
	return raw, path, nil
}

// list reads "(" 1*Condition ")" at p.i.
func (p *ifParser) list() ([]Condition, error) {
	p.i++ // "("
	var conds []Condition
	for {
		p.skipWS()
		if p.i == len(p.s) {
			return nil, p.errorf("unterminated list")
		}
		if p.s[p.i] == ')' {
			if len(conds) == 0 {
				return nil, p.errorf("empty list")
			}
			p.i++
			return conds, nil
		}
		if len(conds) == MaxIfConditions {
			return nil, fmt.Errorf("%w: more than %d conditions in a list", ErrTooComplex, MaxIfConditions)
		}
		var c Condition
		if len(p.s)-p.i >= 3 && strings.EqualFold(p.s[p.i:p.i+3], "not") {
			c.Not = true
			p.i += 3
			p.skipWS()
			if p.i == len(p.s) {
				return nil, p.errorf("unterminated list")
			}
		}
		switch p.s[p.i] {
		case '<':
			end := strings.IndexByte(p.s[p.i:], '>')
			if end < 0 {
				return nil, p.errorf("unterminated state token")
			}
			tok := p.s[p.i+1 : p.i+end]
			if !isCodedURL(tok) {
				return nil, p.errorf("bad state token %q", clip(tok))
			}
			c.Token = tok
			p.i += end + 1
		case '[':
			p.i++
			p.skipWS()
			tag, err := p.entityTag()
			if err != nil {
				return nil, err
			}
			p.skipWS()
			if p.i == len(p.s) || p.s[p.i] != ']' {
				return nil, p.errorf("entity tag not closed by ']'")
			}
			p.i++
			c.ETag = tag
		default:
			return nil, p.errorf("expected a state token or an entity tag")
		}
		conds = append(conds, c)
	}
}

// entityTag reads `"opaque"`, `W/"opaque"` or a bare opaque tag at p.i.
func (p *ifParser) entityTag() (string, error) {
	start := p.i
	if strings.HasPrefix(p.s[p.i:], `W/"`) {
		p.i += 2
	}
	if p.i < len(p.s) && p.s[p.i] == '"' {
		end := strings.IndexByte(p.s[p.i+1:], '"')
		if end < 0 {
			return "", p.errorf("unterminated entity tag")
		}
		p.i += end + 2
		tag := p.s[start:p.i]
		if hasControl(tag) {
			return "", p.errorf("control character in entity tag")
		}
		return tag, nil
	}
	for p.i < len(p.s) && isBareETagChar(p.s[p.i]) {
		p.i++
	}
	if p.i == start {
		return "", p.errorf("empty entity tag")
	}
	return p.s[start:p.i], nil
}

func isBareETagChar(c byte) bool {
	return c > ' ' && c != 0x7f && strings.IndexByte(`"[]()<>`, c) < 0
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c == 0x7f {
			return true
		}
	}
	return false
}

// String returns the header in canonical form: single spaces, "Not" spelled
// so, and a Resource-Tag written again only where it changes. ParseIf of the
// result gives back h.
func (h If) String() string {
	var b strings.Builder
	for i, l := range h.Lists {
		if i > 0 {
			b.WriteByte(' ')
		}
		if h.Tagged && (i == 0 || h.Lists[i-1].Tag != l.Tag) {
			b.WriteString("<" + l.Tag + "> ")
		}
		b.WriteString(l.String())
	}
	return b.String()
}

// String returns the list in header form, without its Resource-Tag:
// `(<urn:uuid:x> ["etag"])`.
func (l List) String() string {
	var b strings.Builder
	b.WriteByte('(')
	for i, c := range l.Conditions {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(c.String())
	}
	b.WriteByte(')')
	return b.String()
}

// String returns the condition in header form: `Not <DAV:no-lock>`, `["x"]`.
func (c Condition) String() string {
	s := "[" + c.ETag + "]"
	if c.ETag == "" {
		s = "<" + c.Token + ">"
	}
	if c.Not {
		return "Not " + s
	}
	return s
}

// SubmittedTokens returns the state tokens the client submitted with the
// request: every state token that appears in the header outside a "Not",
// whether or not its list was evaluated or held, in header order without
// duplicates, and without NoLock. RFC 4918 §10.4.1: "a state token counts as
// being submitted independently of whether the server actually has evaluated
// the state list it appears in, and also independently of whether or not the
// condition it expressed was found to be true". This is what the lock check
// (§7.2, §7.5) compares against the tokens of the locks on a resource; a
// negated token is not counted, as "Not" states the client does not expect
// to hold that lock. Result.Tokens gives the stricter set, tokens from lists
// that held.
func (h If) SubmittedTokens() []string {
	var out []string
	for _, l := range h.Lists {
		out = appendTokens(out, l)
	}
	return out
}

// appendTokens adds the non-negated state tokens of l, except NoLock, that
// are not already in out.
func appendTokens(out []string, l List) []string {
	for _, c := range l.Conditions {
		if c.Not || c.Token == "" || isNoLock(c.Token) || contains(out, c.Token) {
			continue
		}
		out = append(out, c.Token)
	}
	return out
}

func isNoLock(tok string) bool { return strings.EqualFold(tok, NoLock) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
