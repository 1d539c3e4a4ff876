package batch

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/davit-dav/davit/internal/header"
	"github.com/davit-dav/davit/multistatus"
)

// A dry run never hands the wrapped handler anything but PROPFIND: each
// item is translated into read-only probes (PROPFIND Depth 0 of the
// resources it touches, with the credentials of the batch) and the
// middleware predicts the status from what they show, following the order
// of checks of the dav package: existence, Overwrite, the destination's
// parent, If-Match, If-None-Match and If, locks. PROPFIND items run as they
// are. Resources that earlier items would create or remove are taken into
// account (an overlay of predicted changes); what the probes cannot see is
// listed in docs/batch.md.

// probeBody asks for what the predictions need.
const probeBody = xmlHead + `<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:getetag/><D:lockdiscovery/></D:prop></D:propfind>`

// state is what a probe saw of one resource.
type state struct {
	fail   int // the probe's own failure (401, 403, 5xx); 0 when it worked
	exists bool
	dir    bool
	etag   string
	locks  []activeLock // locks whose scope includes the resource
}

type activeLock struct {
	token     string
	root      string // key of the lock root
	infinity  bool
	exclusive bool
}

// change is a predicted effect of an earlier item on one resource.
type change struct {
	exists, dir bool
	from        string // key of the copied or moved source; "" when created empty
}

type dryRun struct {
	s       *session
	probes  map[string]*state
	overlay map[string]change
}

func newDryRun(s *session) *dryRun {
	return &dryRun{s: s, probes: map[string]*state{}, overlay: map[string]change{}}
}

// key is the clean decoded URL path of an escaped path, without trailing
// slash ("/" for the root).
func key(esc string) string {
	p, err := url.PathUnescape(esc)
	if err != nil {
		p = esc
	}
	return path.Clean("/" + p)
}

// rel returns a key relative to the mount prefix ("/" for the prefix),
// and whether it is under it.
func (d *dryRun) rel(k string) (string, bool) {
	pre := d.s.h.prefix
	switch {
	case pre == "":
		return k, true
	case k == pre:
		return "/", true
	case strings.HasPrefix(k, pre+"/"):
		return k[len(pre):], true
	}
	return "", false
}

// real probes the resource at key k as it is now.
func (d *dryRun) real(k string) *state {
	if st, ok := d.probes[k]; ok {
		return st
	}
	st := &state{}
	esc := multistatus.PathHref(k, false)
	sub := d.s.subRequest("PROPFIND", esc, map[string]string{"Depth": "0"}, "", []byte(probeBody))
	first := d.s.ran == 0
	rec, aborted := d.s.call(sub, func(resp *multistatus.Response) {
		if st.exists {
			return
		}
		st.exists = true
		for _, ps := range resp.Propstats {
			if ps.Status.Code != http.StatusOK {
				continue
			}
			for _, p := range ps.Props {
				switch {
				case p.Name == xml.Name{Space: "DAV:", Local: "resourcetype"}:
					st.dir = strings.Contains(string(p.Inner), "<D:collection")
				case p.Name == xml.Name{Space: "DAV:", Local: "getetag"}:
					st.etag, _ = p.Text()
					st.etag = strings.TrimSpace(st.etag)
				case p.Name == xml.Name{Space: "DAV:", Local: "lockdiscovery"}:
					st.locks = parseLocks(p.Inner)
				}
			}
		}
	})
	switch {
	case aborted:
		d.s.abort()
	case rec.code == http.StatusMultiStatus:
	case rec.code == http.StatusNotFound:
	case rec.code == http.StatusUnauthorized && first && !d.s.started:
		d.s.replay(rec)
		st.fail = rec.code
	default:
		st.fail = rec.code
	}
	d.probes[k] = st
	return st
}

// parseLocks reads the activelocks of a DAV:lockdiscovery value.
func parseLocks(inner []byte) []activeLock {
	var v struct {
		Locks []struct {
			Scope struct {
				Exclusive *struct{} `xml:"DAV: exclusive"`
			} `xml:"DAV: lockscope"`
			Depth string `xml:"DAV: depth"`
			Token struct {
				Href string `xml:"DAV: href"`
			} `xml:"DAV: locktoken"`
			Root struct {
				Href string `xml:"DAV: href"`
			} `xml:"DAV: lockroot"`
		} `xml:"DAV: activelock"`
	}
	doc := `<D:lockdiscovery xmlns:D="DAV:">` + string(inner) + `</D:lockdiscovery>`
	if err := xml.Unmarshal([]byte(doc), &v); err != nil {
		return nil
	}
	out := make([]activeLock, 0, len(v.Locks))
	for _, l := range v.Locks {
		root := strings.TrimSpace(l.Root.Href)
		if u, err := url.Parse(root); err == nil {
			root = u.EscapedPath()
		}
		out = append(out, activeLock{
			token: strings.TrimSpace(l.Token.Href), root: key(root),
			infinity: strings.EqualFold(strings.TrimSpace(l.Depth), "infinity"), exclusive: l.Scope.Exclusive != nil,
		})
	}
	return out
}

// stat returns the predicted state of the resource at key k: the overlay
// of earlier items' effects over what the probes show.
func (d *dryRun) stat(k string) *state {
	if c, ok := d.overlay[k]; ok {
		return d.changed(k, c)
	}
	for a := path.Dir(k); ; a = path.Dir(a) {
		if c, ok := d.overlay[a]; ok {
			switch {
			case !c.exists, c.from == "":
				// Below a removed resource, or a new empty collection.
				return &state{locks: d.inherited(k)}
			default:
				// Below a copy: as below its source now.
				src := d.real(c.from + k[len(a):])
				return &state{fail: src.fail, exists: src.exists, dir: src.dir, locks: d.inherited(k)}
			}
		}
		if a == "/" {
			break
		}
	}
	st := d.real(k)
	if !st.exists && st.fail == 0 && k != "/" {
		// An unmapped URL is in the scope of its parent's infinite locks.
		return &state{locks: d.inherited(k)}
	}
	return st
}

func (d *dryRun) changed(k string, c change) *state {
	return &state{exists: c.exists, dir: c.dir, locks: d.inherited(k)}
}

// inherited returns the Depth infinity locks of k's parent, which cover k.
func (d *dryRun) inherited(k string) []activeLock {
	if k == "/" {
		return nil
	}
	var out []activeLock
	for _, l := range d.real(path.Dir(k)).locks {
		if l.infinity {
			out = append(out, l)
		}
	}
	return out
}

// verdict is a predicted outcome.
type verdict struct {
	code  int
	cond  string
	hrefs []string
	why   string
}

func (d *dryRun) answer(it *Item, v verdict) bool {
	resp := &multistatus.Response{Hrefs: []string{it.Path}, Status: multistatus.NewStatus(v.code), ID: it.ID}
	if v.cond != "" {
		c := multistatus.DAVCondition(v.cond)
		for _, h := range v.hrefs {
			c.Inner = append(c.Inner, "<D:href>"+xmlEscape(multistatus.PathHref(h, false))+"</D:href>"...)
		}
		resp.Error = []multistatus.Condition{c}
	}
	resp.ResponseDescription = "dry run: " + v.why
	d.s.emit(resp, false)
	return !resp.Failed()
}

func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// item predicts one item and reports whether it would succeed.
func (d *dryRun) item(it *Item) bool {
	if it.Method == "PROPFIND" {
		return d.s.runItem(it) // read-only: run as is
	}
	v := d.predict(it)
	if d.s.replied {
		return false
	}
	return d.answer(it, v)
}

func (d *dryRun) predict(it *Item) verdict {
	k := key(it.Path)
	rp, ok := d.rel(k)
	if !ok {
		return verdict{code: http.StatusNotFound, why: "outside the served tree"}
	}
	ifh, err := header.ParseIf(it.Header["If"])
	if it.Header["If"] == "" {
		ifh, err = header.If{}, nil
	}
	if err != nil {
		return verdict{code: http.StatusBadRequest, why: "malformed If header"}
	}
	tokens := ifh.SubmittedTokens()
	st := d.stat(k)
	if st.fail != 0 {
		return verdict{code: st.fail, why: "the probe of the resource was refused with this status"}
	}
	switch it.Method {
	case "DELETE":
		if rp == "/" {
			return verdict{code: http.StatusForbidden, why: "cannot delete the root collection"}
		}
		if !st.exists {
			return verdict{code: http.StatusNotFound, why: "not found"}
		}
		if v, bad := d.conditions(it, ifh, rp, st); bad {
			return v
		}
		if v, bad := d.locks(tokens, k, true); bad {
			return v
		}
		d.overlay[k] = change{}
		return verdict{code: http.StatusNoContent, why: "would be deleted"}

	case "COPY", "MOVE":
		move := it.Method == "MOVE"
		dk := key(it.Destination)
		drp, ok := d.rel(dk)
		if !ok {
			return verdict{code: http.StatusBadGateway, why: "Destination is on another server"}
		}
		depth := strings.ToLower(it.Header["Depth"])
		if depth == "1" || (move && depth != "" && depth != "infinity") {
			return verdict{code: http.StatusBadRequest, why: "Depth must be infinity for MOVE, 0 or infinity for COPY"}
		}
		if !st.exists {
			return verdict{code: http.StatusNotFound, why: "not found"}
		}
		if k == dk {
			return verdict{code: http.StatusForbidden, why: "source and destination are the same"}
		}
		if rp == "/" || drp == "/" || (st.dir && strings.HasPrefix(dk, k+"/")) {
			return verdict{code: http.StatusForbidden, why: "cannot copy or move a collection into itself"}
		}
		dst := d.stat(dk)
		if dst.fail != 0 {
			return verdict{code: dst.fail, why: "the probe of the destination was refused with this status"}
		}
		if par := d.stat(path.Dir(dk)); par.fail != 0 || !par.exists || !par.dir {
			return verdict{code: http.StatusConflict, why: "the destination's parent collection does not exist"}
		}
		if dst.exists && it.Header["Overwrite"] == "F" {
			return verdict{code: http.StatusPreconditionFailed, why: "destination exists and Overwrite is F"}
		}
		if v, bad := d.conditions(it, ifh, rp, st); bad {
			return v
		}
		if v, bad := d.locks(tokens, dk, true); bad {
			return v
		}
		if move {
			if v, bad := d.locks(tokens, k, true); bad {
				return v
			}
		}
		from := k
		if !st.dir || (!move && depth == "0") {
			from = ""
		}
		d.overlay[dk] = change{exists: true, dir: st.dir, from: from}
		if move {
			d.overlay[k] = change{}
		}
		verb := map[bool]string{true: "moved", false: "copied"}[move]
		if dst.exists {
			return verdict{code: http.StatusNoContent, why: "would be " + verb + " over the existing destination"}
		}
		return verdict{code: http.StatusCreated, why: "would be " + verb}

	case "MKCOL":
		if st.exists {
			return verdict{code: http.StatusMethodNotAllowed, why: "the resource already exists"}
		}
		if v, bad := d.conditions(it, ifh, rp, st); bad {
			return v
		}
		if v, bad := d.locks(tokens, k, true); bad {
			return v
		}
		if par := d.stat(path.Dir(k)); par.fail != 0 || !par.exists || !par.dir {
			return verdict{code: http.StatusConflict, why: "the parent collection does not exist"}
		}
		d.overlay[k] = change{exists: true, dir: true}
		return verdict{code: http.StatusCreated, why: "would be created"}

	case "PROPPATCH":
		if !st.exists {
			return verdict{code: http.StatusNotFound, why: "not found"}
		}
		if v, bad := d.conditions(it, ifh, rp, st); bad {
			return v
		}
		if v, bad := d.locks(tokens, k, false); bad {
			return v
		}
		if name, ok := protectedProp(it.Body); ok {
			return verdict{code: http.StatusForbidden, cond: "cannot-modify-protected-property", why: "DAV:" + name + " is protected"}
		}
		return verdict{code: http.StatusOK, why: "the properties would be changed"}

	case "LOCK":
		if len(it.Body) == 0 { // refresh
			for _, l := range st.locks {
				if slices.Contains(tokens, l.token) {
					return verdict{code: http.StatusOK, why: "the lock would be refreshed"}
				}
			}
			return verdict{code: http.StatusPreconditionFailed, cond: "lock-token-matches-request-uri", why: "no lock with that token covers this resource"}
		}
		if strings.ToLower(it.Header["Depth"]) == "1" {
			return verdict{code: http.StatusBadRequest, why: "Depth must be 0 or infinity for LOCK"}
		}
		if v, bad := d.conditions(it, ifh, rp, st); bad {
			return v
		}
		if !st.exists {
			if v, bad := d.locks(tokens, k, true); bad {
				return v
			}
			if par := d.stat(path.Dir(k)); par.fail != 0 || !par.exists || !par.dir {
				return verdict{code: http.StatusConflict, why: "the parent collection does not exist"}
			}
		}
		exclusive := strings.Contains(string(it.Body), "<D:exclusive")
		var roots []string
		for _, l := range st.locks {
			if exclusive || l.exclusive {
				roots = append(roots, l.root)
			}
		}
		if len(roots) > 0 {
			return verdict{code: http.StatusLocked, cond: "no-conflicting-lock", hrefs: roots, why: "a conflicting lock exists"}
		}
		if !st.exists {
			d.overlay[k] = change{exists: true}
			return verdict{code: http.StatusCreated, why: "an empty resource would be created and locked"}
		}
		return verdict{code: http.StatusOK, why: "the resource would be locked"}

	case "UNLOCK":
		tok := strings.Trim(it.Header["Lock-Token"], "<> ")
		for _, l := range st.locks {
			if l.token == tok {
				return verdict{code: http.StatusNoContent, why: "the lock would be removed"}
			}
		}
		return verdict{code: http.StatusConflict, cond: "lock-token-matches-request-uri", why: "no lock with that token covers this resource"}
	}
	return verdict{code: http.StatusMethodNotAllowed, why: "unknown method"}
}

// conditions predicts If-Match, If-None-Match and If (412).
func (d *dryRun) conditions(it *Item, ifh header.If, rp string, st *state) (verdict, bool) {
	fail := verdict{code: http.StatusPreconditionFailed}
	if v := it.Header["If-Match"]; v != "" {
		if !st.exists || (strings.TrimSpace(v) != "*" && !etagListHas(v, st.etag)) {
			fail.why = "If-Match failed"
			return fail, true
		}
	}
	if v := it.Header["If-None-Match"]; v != "" {
		if st.exists && (strings.TrimSpace(v) == "*" || etagListHas(v, st.etag)) {
			fail.why = "If-None-Match failed"
			return fail, true
		}
	}
	res, err := ifh.Eval(rp, d.s.h.prefix, func(q string) (header.State, error) {
		full := q
		if pre := d.s.h.prefix; pre != "" {
			full = pre + q
			if q == "/" {
				full = pre
			}
		}
		s := d.stat(full)
		hs := header.State{ETag: s.etag}
		for _, l := range s.locks {
			hs.LockTokens = append(hs.LockTokens, l.token)
		}
		return hs, nil
	})
	if err != nil || !res.OK {
		fail.why = "If header failed"
		return fail, true
	}
	return verdict{}, false
}

func etagListHas(list, etag string) bool {
	if etag == "" || strings.HasPrefix(etag, "W/") {
		return false
	}
	for _, t := range strings.Split(list, ",") {
		if strings.TrimSpace(t) == etag {
			return true
		}
	}
	return false
}

// locks predicts the lock check of a change to k (423 with
// DAV:lock-token-submitted): the locks covering k, and when membership is
// changed the Depth 0 lock of its parent. Locks on members below k are
// not seen (see docs/batch.md).
func (d *dryRun) locks(tokens []string, k string, membership bool) (verdict, bool) {
	ls := slices.Clone(d.stat(k).locks)
	if membership && k != "/" {
		parent := path.Dir(k)
		for _, l := range d.stat(parent).locks {
			if l.root == parent && !l.infinity {
				ls = append(ls, l)
			}
		}
	}
	sharedOK := false
	for _, l := range ls {
		if !l.exclusive && slices.Contains(tokens, l.token) {
			sharedOK = true
		}
	}
	var missing []string
	for _, l := range ls {
		if slices.Contains(tokens, l.token) || (!l.exclusive && sharedOK) || slices.Contains(missing, l.root) {
			continue
		}
		missing = append(missing, l.root)
	}
	if len(missing) == 0 {
		return verdict{}, false
	}
	return verdict{code: http.StatusLocked, cond: "lock-token-submitted", hrefs: missing, why: "locked, and the lock token was not submitted"}, true
}

// protected lists the live properties of the dav package that PROPPATCH
// refuses.
var protected = []string{
	"creationdate", "getcontentlength", "getcontenttype", "getetag", "getlastmodified",
	"resourcetype", "supportedlock", "lockdiscovery", "quota-available-bytes", "quota-used-bytes",
}

// protectedProp returns the first protected DAV: property a
// propertyupdate body names.
func protectedProp(body []byte) (string, bool) {
	_, children := rootChildren(body)
	for _, setrem := range children {
		for _, name := range protected {
			if strings.Contains(string(setrem.Inner), "<D:"+name+">") || strings.Contains(string(setrem.Inner), "<D:"+name+"/>") ||
				strings.Contains(string(setrem.Inner), "<D:"+name+" ") {
				return name, true
			}
		}
	}
	return "", false
}
