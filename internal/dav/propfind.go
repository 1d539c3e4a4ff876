package dav

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/davit-dav/davit/internal/header"
	"github.com/davit-dav/davit/internal/lock"
	"github.com/davit-dav/davit/internal/props"
	"github.com/davit-dav/davit/internal/storage"
	"github.com/davit-dav/davit/multistatus"
)

type propfindKind int

const (
	allProp propfindKind = iota
	propName
	namedProps
)

// propfindRequest is a parsed PROPFIND body (RFC 4918 §14.20).
type propfindRequest struct {
	kind    propfindKind
	names   []xml.Name // namedProps: the properties asked for
	include []xml.Name // allProp: extra properties (DAV:include)
}

// parsePropfind reads the body; none at all means allprop (§9.1).
func (h *Handler) parsePropfind(w http.ResponseWriter, r *http.Request) (propfindRequest, error) {
	var req propfindRequest
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return req, nil
	}
	return parseXMLBody(h, w, r, fastPropfind, parsePropfindXML)
}

// parsePropfindXML parses a PROPFIND body with the full decoder.
func parsePropfindXML(d bodyDecoder) (propfindRequest, error) {
	var req propfindRequest
	root, err := d.Root()
	if errors.Is(err, errEmptyBody) {
		return req, nil
	}
	if err != nil {
		return req, badXML(err)
	}
	if !isDAV(root.Name, "propfind") {
		return req, errorf(http.StatusBadRequest, "", "the body is not a DAV:propfind")
	}
	seen := 0
	for {
		t, ok, err := d.Child()
		if err != nil {
			return req, badXML(err)
		}
		if !ok {
			break
		}
		switch {
		case isDAV(t.Name, "allprop"):
			req.kind, seen = allProp, seen+1
			err = d.Skip()
		case isDAV(t.Name, "propname"):
			req.kind, seen = propName, seen+1
			err = d.Skip()
		case isDAV(t.Name, "prop"):
			req.kind, seen = namedProps, seen+1
			req.names, err = d.names()
		case isDAV(t.Name, "include"):
			req.include, err = d.names()
		default:
			err = d.Skip()
		}
		if err != nil {
			return req, badXML(err)
		}
	}
	if err := d.End(); err != nil {
		return req, badXML(err)
	}
	if seen != 1 {
		return req, errorf(http.StatusBadRequest, "", "propfind needs exactly one of allprop, propname and prop")
	}
	return req, nil
}

// names reads the child element names of the element just returned.
func (d bodyDecoder) names() ([]xml.Name, error) {
	var out []xml.Name
	for {
		t, ok, err := d.Child()
		if err != nil || !ok {
			return out, err
		}
		out = append(out, t.Name)
		if err := d.Skip(); err != nil {
			return nil, err
		}
	}
}

// propfind answers PROPFIND (RFC 4918 §9.1): everything that can fail as
// a whole is checked first; then one response per resource is streamed,
// with memory independent of the number of resources.
func (h *Handler) propfind(w http.ResponseWriter, r *http.Request, p string) error {
	ctx := r.Context()
	depth, noroot, err := header.ParseDepth(r.Header.Get("Depth"))
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Reason: "malformed Depth header", Err: err}
	}
	depth = depth.Or(header.DepthInfinity)
	if err := h.checkIf(r, p); err != nil {
		return err
	}
	// The resource first: a name that is not there (macOS Finder probes
	// many) is answered 404 without parsing the body.
	info, err := h.fs.Stat(ctx, p)
	if err != nil {
		return err
	}
	req, err := h.parsePropfind(w, r)
	if err != nil {
		return err
	}
	if depth == header.DepthInfinity && info.IsDir {
		if h.cfg.MaxInfinityEntries < 0 || !h.countBelow(ctx, p, h.cfg.MaxInfinityEntries) {
			return &Error{Status: http.StatusForbidden, Cond: "propfind-finite-depth", Reason: "Depth: infinity is limited on this server"}
		}
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	pw := propWriters.Get().(*propWriter)
	pw.lazy = lazy207{w: w}
	pw.reset(h, ctx, req, &pw.lazy)
	done := false
	defer func() {
		if done {
			pw.release()
		}
	}()
	if h.cfg.OnPropfindEntries != nil {
		defer func() { h.cfg.OnPropfindEntries(pw.n) }()
	}
	if !noroot || depth == header.Depth0 {
		if err := pw.write(p, info); err != nil {
			panic(http.ErrAbortHandler) // never pass a cut listing off as whole
		}
	}
	if info.IsDir && depth != header.Depth0 {
		if err := pw.walk(p, depth == header.DepthInfinity); err != nil {
			h.log.ErrorContext(ctx, "propfind listing failed", "path", p, "err", err)
			panic(http.ErrAbortHandler)
		}
	}
	pw.lazy.last = true
	if err := pw.ms.Close(); err != nil {
		panic(http.ErrAbortHandler)
	}
	pw.lazy.start(false, 0) // in case nothing was written
	done = true
	return nil
}

// lazy207 sends the 207's status and headers with the first bytes of the
// body. When the whole document reaches it in its last write (it fitted
// the Multi-Status writer's buffer), the answer gets a Content-Length and
// leaves unchunked, in one socket write fewer; a longer one is chunked as
// it streams.
type lazy207 struct {
	w       http.ResponseWriter
	started bool
	last    bool // the next write ends the document
}

func (l *lazy207) start(whole bool, n int) {
	if l.started {
		return
	}
	l.started = true
	if whole {
		l.w.Header().Set("Content-Length", strconv.Itoa(n))
	}
	l.w.WriteHeader(http.StatusMultiStatus)
}

func (l *lazy207) Write(p []byte) (int, error) {
	l.start(l.last, len(p))
	return l.w.Write(p)
}

// Flush sends the status and what is written so far.
func (l *lazy207) Flush() {
	l.start(false, 0)
	http.NewResponseController(l.w).Flush()
}

// propWriters keeps propWriters, with their buffers, between requests: a
// server answering many small PROPFINDs would otherwise grow them anew for
// each. Only a propWriter that finished its document goes back.
var propWriters = sync.Pool{New: func() any { return new(propWriter) }}

// reset readies pw for a request to be answered on w.
func (pw *propWriter) reset(h *Handler, ctx context.Context, req propfindRequest, w io.Writer) {
	pw.h, pw.ctx, pw.req, pw.n = h, ctx, req, 0
	pw.ms = &pw.msw
	pw.ms.Reset(w)
	pw.ctSet, pw.rfcSet, pw.httpSet = false, false, false
	pw.pageDir, pw.locksDir, pw.pageLocksOK = "", "", false
	pw.now = time.Time{}
	pw.resolveNames()
}

// release puts pw back in the pool, dropping what it refers to and any
// buffer a large response made huge.
func (pw *propWriter) release() {
	pw.h, pw.ctx, pw.req, pw.ms, pw.lazy = nil, nil, propfindRequest{}, nil, lazy207{}
	clear(pw.ok[:cap(pw.ok)])
	clear(pw.miss[:cap(pw.miss)])
	clear(pw.paths[:cap(pw.paths)])
	clear(pw.named[:cap(pw.named)])
	clear(pw.pageInherited[:cap(pw.pageInherited)])
	clear(pw.locksBuf[:cap(pw.locksBuf)])
	pw.pageBelow = nil
	pw.resp, pw.pss, pw.hrefs = multistatus.Response{}, [2]multistatus.Propstat{}, [1]string{}
	for _, pg := range pw.pages {
		clear(pg[:cap(pg)])
	}
	if cap(pw.out) > 64<<10 || cap(pw.arena) > 64<<10 || cap(pw.missOut) > 64<<10 {
		pw.out, pw.arena, pw.missOut = nil, nil, nil
	}
	propWriters.Put(pw)
}

// countBelow reports whether the tree below p holds at most limit entries,
// reading names only and stopping as soon as the limit is passed.
func (h *Handler) countBelow(ctx context.Context, p string, limit int) bool {
	n := 0
	var rec func(string) bool
	rec = func(dir string) bool {
		for child, err := range h.fs.List(ctx, dir) {
			if err != nil {
				return true // the walk itself will report it
			}
			if n++; n > limit {
				return false
			}
			if child.IsDir && !rec(path.Join(dir, child.Name)) {
				return false
			}
		}
		return true
	}
	return rec(p)
}

// propWriter builds and writes the responses of one PROPFIND, reusing its
// buffers from one resource to the next.
type propWriter struct {
	lazy  lazy207 // the destination of ms
	h     *Handler
	ctx   context.Context
	req   propfindRequest
	ms    *multistatus.Writer
	msw   multistatus.Writer // what ms points to
	ok    []multistatus.Property
	miss  []multistatus.Property
	arena []byte
	paths []string // the paths of a page, for the store
	resp  multistatus.Response
	pss   [2]multistatus.Propstat
	hrefs [1]string
	n     int // responses written

	// For render: the response being encoded, the 404 names of a
	// named request, the live property of each name asked for (nil for
	// others); the content type of the last extension seen and the forms
	// of the last modification times seen, as text.
	out, missOut    []byte
	named           []*liveProp
	ctExt           string
	ct, rfc, http   []byte
	rfcSec, httpSec int64
	ctSet, rfcSet   bool
	httpSet         bool

	// The locks of the collection whose page is being written, read on
	// the first lockdiscovery of its first page and kept for its next
	// ones: those covering it with Depth infinity and those rooted below
	// it.
	pageDir                  string // "" outside a page
	locksDir                 string // the collection they were read for
	pageLocksOK              bool
	pageInherited, pageBelow []lock.Lock
	locksBuf                 []lock.Lock
	now                      time.Time // the clock for timeouts, read once a request

	// pages are the page buffers of walk, one per level being walked.
	pages [][]pageEntry
}

// locksOf returns the locks covering p, a member of the page's collection
// when a page is being written: the same as Locks.Covering, with two
// lookups per page instead of one per member.
func (pw *propWriter) locksOf(p string) ([]lock.Lock, error) {
	if pw.pageDir == "" || !childOf(pw.pageDir, p) {
		return pw.h.locks.Covering(pw.ctx, p)
	}
	if pw.locksDir != pw.pageDir {
		// Once per folder, not per page: Below gives every lock under
		// the folder, at any depth, and a large folder has many pages.
		pw.locksDir = pw.pageDir
		cov, err1 := pw.h.locks.Covering(pw.ctx, pw.pageDir)
		below, err2 := pw.h.locks.Below(pw.ctx, pw.pageDir)
		pw.pageLocksOK = err1 == nil && err2 == nil
		pw.pageInherited = pw.pageInherited[:0]
		for _, l := range cov {
			if l.Depth == lock.Infinity {
				pw.pageInherited = append(pw.pageInherited, l)
			}
		}
		// By root, so that each entry finds its own by a binary search
		// (a folder of locked documents has a lock a file).
		if !slices.IsSortedFunc(below, byRoot) {
			slices.SortStableFunc(below, byRoot)
		}
		pw.pageBelow = below
	}
	if !pw.pageLocksOK {
		return pw.h.locks.Covering(pw.ctx, p)
	}
	out := append(pw.locksBuf[:0], pw.pageInherited...)
	below := pw.pageBelow
	i := sort.Search(len(below), func(i int) bool { return below[i].Root >= p })
	for ; i < len(below) && below[i].Root == p; i++ {
		out = append(out, below[i])
	}
	pw.locksBuf = out
	return out, nil
}

// clock returns the time the request's lock timeouts are counted from,
// read on its first lockdiscovery: one answer gives every lock's time
// left at the same moment, as of one reading of the lock table.
func (pw *propWriter) clock() time.Time {
	if pw.now.IsZero() {
		pw.now = pw.h.cfg.Now()
	}
	return pw.now
}

func byRoot(a, b lock.Lock) int { return strings.Compare(a.Root, b.Root) }

func (pw *propWriter) walk(dir string, deep bool) error {
	listed := false
	var page []pageEntry
	if n := len(pw.pages); n > 0 {
		page, pw.pages = pw.pages[n-1], pw.pages[:n-1]
	} else {
		page = make([]pageEntry, 0, propfindPage)
	}
	defer func() { pw.pages = append(pw.pages, page[:0]) }()
	// flush writes the page's responses, with the dead properties of the
	// whole page read at once, then walks the page's collections.
	flush := func(dir string) error {
		if len(page) == 0 {
			return nil
		}
		pw.pageDir = dir
		err := pw.writePage(page)
		pw.pageDir = ""
		if err != nil {
			return err
		}
		if deep {
			for _, e := range page {
				if e.info.IsDir {
					if err := pw.walk(e.path, true); err != nil {
						return err
					}
				}
			}
		}
		page = page[:0]
		return nil
	}
	for child, err := range pw.h.fs.List(pw.ctx, dir) {
		if err != nil {
			if !listed && (errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrNotDir)) {
				// Removed (or replaced by a file) since it was listed or
				// stat'ed: it has no members to show, and the answer
				// stays whole rather than being cut.
				return nil
			}
			return err
		}
		listed = true
		if err := pw.ctx.Err(); err != nil {
			return err
		}
		page = append(page, pageEntry{path: childPath(dir, child), info: child})
		if len(page) == cap(page) {
			if err := flush(dir); err != nil {
				return err
			}
		}
	}
	return flush(dir)
}

// childOf reports whether parent(p) is dir, for clean paths, without
// building the parent's path.
func childOf(dir, p string) bool {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return dir == "/"
	}
	return p[:i] == dir
}

// childPath is the path of the member child of dir: the Path the FS gave
// when it is that, else built from the name.
func childPath(dir string, child storage.Info) string {
	p, n := child.Path, child.Name
	if dir == "/" {
		if len(p) == 1+len(n) && p[0] == '/' && p[1:] == n {
			return p
		}
	} else if len(p) == len(dir)+1+len(n) && p[:len(dir)] == dir && p[len(dir)] == '/' && p[len(dir)+1:] == n {
		return p
	}
	return path.Join(dir, n)
}

// propfindPage is how many resources of a listing are described at a time:
// their dead properties come from one read of the store.
const propfindPage = 128

type pageEntry struct {
	path string
	info storage.Info
}

// writePage writes the responses of a page of resources.
func (pw *propWriter) writePage(page []pageEntry) error {
	var dead [][]props.Property
	if pw.wantsDead() {
		pw.paths = pw.paths[:0]
		for _, e := range page {
			pw.paths = append(pw.paths, e.path)
		}
		var err error
		if dead, err = pw.h.props.GetPage(pw.ctx, pw.paths); err != nil {
			return err
		}
	}
	for i, e := range page {
		var d []props.Property
		if dead != nil {
			d = dead[i]
		}
		if err := pw.writeWith(e.path, e.info, d); err != nil {
			return err
		}
	}
	return nil
}

// write writes the response for one resource.
func (pw *propWriter) write(p string, info storage.Info) error {
	var dead []props.Property
	if pw.wantsDead() {
		var err error
		if dead, err = pw.h.props.Get(pw.ctx, p); err != nil {
			return err
		}
	}
	return pw.writeWith(p, info, dead)
}

// wantsDead reports whether the request needs dead properties at all.
func (pw *propWriter) wantsDead() bool {
	return pw.req.kind != namedProps || pw.needsDead()
}

// writeWith writes the response for one resource whose dead properties
// are dead: rendered straight into bytes (render), except for allprop with
// DAV:include, which goes through multistatus.Response values
// (writeGeneral). The two agree byte for byte (TestRenderMatchesGeneral).
func (pw *propWriter) writeWith(p string, info storage.Info, dead []props.Property) error {
	if len(pw.req.include) > 0 {
		return pw.writeGeneral(p, info, dead)
	}
	pw.out = pw.render(pw.out[:0], p, info, dead)
	pw.n++
	err := pw.ms.WriteEncoded(pw.out)
	if cap(pw.out) > 1<<20 {
		pw.out = nil // do not keep one huge response's buffer
	}
	return err
}

// The fixed parts of a rendered response.
const (
	propstatOpen  = "<D:propstat><D:prop>"
	propstatOK    = "</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>"
	propstat404   = "</D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>"
	responseClose = "</D:response>"
)

// render appends the DAV:response for one resource as multistatus.Writer
// would write the Response writeGeneral builds for it.
func (pw *propWriter) render(b []byte, p string, info storage.Info, dead []props.Property) []byte {
	b = append(b, "<D:response><D:href>"...)
	b = multistatus.AppendPathHref(b, pw.h.prefix, p, info.IsDir || p == "/")
	b = append(b, "</D:href>"+propstatOpen...)
	switch pw.req.kind {
	case allProp:
		steps := allpropFile
		if info.IsDir {
			steps = allpropDir
		}
		for _, st := range steps {
			if st.lp == nil {
				b = append(b, st.lit...)
			} else {
				b = pw.appendLive(b, st.lp, p, info, dead)
			}
		}
		for i := range dead {
			if !pw.isLive(dead[i].Name, info) {
				b = multistatus.AppendProperty(b, (*multistatus.Property)(&dead[i]))
			}
		}
		return append(b, propstatOK+responseClose...)
	case propName:
		if info.IsDir {
			b = append(b, liveNamesDir...)
		} else {
			b = append(b, liveNamesFile...)
		}
		for i := range dead {
			if !pw.isLive(dead[i].Name, info) {
				b = multistatus.AppendProperty(b, &multistatus.Property{Name: dead[i].Name})
			}
		}
		return append(b, propstatOK+responseClose...)
	}
	// namedProps: found ones in the 200 propstat, the others in a 404 one.
	mark := len(b) - len(propstatOpen)
	miss := pw.missOut[:0]
	found := false
	for i, n := range pw.req.names {
		if lp := pw.named[i]; lp != nil {
			if lp.applies(info) && (!lp.namedOnly || pw.hasQuota()) {
				b, found = pw.appendLive(b, lp, p, info, dead), true
			} else {
				miss = multistatus.AppendProperty(miss, &multistatus.Property{Name: n})
			}
		} else if j := deadIndex(dead, n); j >= 0 {
			b, found = multistatus.AppendProperty(b, (*multistatus.Property)(&dead[j])), true
		} else {
			miss = multistatus.AppendProperty(miss, &multistatus.Property{Name: n})
		}
	}
	if found || len(miss) == 0 {
		b = append(b, propstatOK...)
	} else {
		b = b[:mark]
	}
	if len(miss) > 0 {
		b = append(b, propstatOpen...)
		b = append(b, miss...)
		b = append(b, propstat404...)
	}
	pw.missOut = miss
	return append(b, responseClose...)
}

// appendLive appends the live property lp of p as an element: the dead
// value instead where lp yields to one.
func (pw *propWriter) appendLive(b []byte, lp *liveProp, p string, info storage.Info, dead []props.Property) []byte {
	if lp.deadOverride && len(dead) > 0 {
		if i := deadIndex(dead, davName(lp.name)); i >= 0 {
			return multistatus.AppendProperty(b, (*multistatus.Property)(&dead[i]))
		}
	}
	b = append(b, lp.open...)
	start := len(b)
	b = lp.value(pw, p, info, b)
	if len(b) == start {
		return append(b[:start-len(lp.open)], lp.empty...)
	}
	return append(b, lp.close...)
}

// renderStep is one step of rendering allprop: constant elements, or a
// live property to compute.
type renderStep struct {
	lit string
	lp  *liveProp
}

// allpropFile and allpropDir are the steps of an allprop answer's live
// properties for a file and a collection, in liveProps order, with the
// properties whose value is fixed (static) written in advance.
var allpropFile, allpropDir []renderStep

func init() {
	for i := range liveProps {
		lp := &liveProps[i]
		lp.open, lp.close, lp.empty = "<D:"+lp.name+">", "</D:"+lp.name+">", "<D:"+lp.name+"/>"
	}
	allpropFile, allpropDir = allpropSteps(false), allpropSteps(true)
}

func allpropSteps(dir bool) []renderStep {
	var steps []renderStep
	info := storage.Info{IsDir: dir}
	for i := range liveProps {
		lp := &liveProps[i]
		if !lp.applies(info) || lp.namedOnly {
			continue
		}
		if !lp.static {
			steps = append(steps, renderStep{lp: lp})
			continue
		}
		v := string(lp.value(nil, "", info, nil))
		el := lp.open + v + lp.close
		if v == "" {
			el = lp.empty
		}
		if n := len(steps); n > 0 && steps[n-1].lp == nil {
			steps[n-1].lit += el
		} else {
			steps = append(steps, renderStep{lit: el})
		}
	}
	return steps
}

// liveNamesFile and liveNamesDir are the live properties a propname
// answer lists for a file and a collection.
var liveNamesFile, liveNamesDir = liveNames(false), liveNames(true)

func liveNames(dir bool) string {
	var b []byte
	for _, lp := range liveProps {
		if lp.applies(storage.Info{IsDir: dir}) && !lp.namedOnly {
			b = append(b, "<D:"+lp.name+"/>"...)
		}
	}
	return string(b)
}

// resolveNames finds the live property of each name a named request asks
// for, once for the whole listing.
func (pw *propWriter) resolveNames() {
	if pw.req.kind != namedProps {
		return
	}
	pw.named = pw.named[:0]
	for _, n := range pw.req.names {
		pw.named = append(pw.named, findLive(n))
	}
}

// appendContentType appends the package's contentType of name as text,
// remembered for the last extension seen: a listing's files mostly share
// a few. contentType looks at the extension alone.
func (pw *propWriter) appendContentType(b []byte, name string) []byte {
	ext := path.Ext(name)
	if !pw.ctSet || ext != pw.ctExt {
		pw.ctExt, pw.ctSet = ext, true
		pw.ct = multistatus.AppendText(pw.ct[:0], contentType(name))
	}
	return append(b, pw.ct...)
}

// appendRFC3339 and appendHTTPDate append t as the functions of that name
// do, remembered for the last second seen: a listing's files were often
// written in the same one.
func (pw *propWriter) appendRFC3339(b []byte, t time.Time) []byte {
	if sec := t.Unix(); !pw.rfcSet || sec != pw.rfcSec {
		pw.rfcSec, pw.rfcSet = sec, true
		pw.rfc = appendRFC3339(pw.rfc[:0], t)
	}
	return append(b, pw.rfc...)
}

func (pw *propWriter) appendHTTPDate(b []byte, t time.Time) []byte {
	if sec := t.Unix(); !pw.httpSet || sec != pw.httpSec {
		pw.httpSec, pw.httpSet = sec, true
		pw.http = appendHTTPDate(pw.http[:0], t)
	}
	return append(b, pw.http...)
}

// writeGeneral writes the response for one resource through a
// multistatus.Response.
func (pw *propWriter) writeGeneral(p string, info storage.Info, dead []props.Property) error {
	pw.ok, pw.miss, pw.arena = pw.ok[:0], pw.miss[:0], pw.arena[:0]
	switch pw.req.kind {
	case propName:
		for _, lp := range liveProps {
			if lp.applies(info) && !lp.namedOnly {
				pw.ok = append(pw.ok, multistatus.Property{Name: davName(lp.name)})
			}
		}
		for _, d := range dead {
			if !pw.isLive(d.Name, info) {
				pw.ok = append(pw.ok, multistatus.Property{Name: d.Name})
			}
		}
	case allProp:
		for _, lp := range liveProps {
			if lp.applies(info) && !lp.namedOnly {
				pw.addLive(lp, p, info, dead)
			}
		}
		for _, d := range dead {
			if !pw.isLive(d.Name, info) {
				pw.ok = append(pw.ok, multistatus.Property(d))
			}
		}
		for _, n := range pw.req.include {
			lp := findLive(n)
			switch {
			case lp != nil && lp.namedOnly && lp.applies(info) && pw.hasQuota():
				pw.addLive(*lp, p, info, dead)
			case lp != nil && (!lp.applies(info) || lp.namedOnly), lp == nil && !hasDead(dead, n):
				pw.miss = append(pw.miss, multistatus.Property{Name: n})
			}
		}
	case namedProps:
		for _, n := range pw.req.names {
			if lp := findLive(n); lp != nil {
				if lp.applies(info) && (!lp.namedOnly || pw.hasQuota()) {
					pw.addLive(*lp, p, info, dead)
				} else {
					pw.miss = append(pw.miss, multistatus.Property{Name: n})
				}
			} else if i := deadIndex(dead, n); i >= 0 {
				pw.ok = append(pw.ok, multistatus.Property(dead[i]))
			} else {
				pw.miss = append(pw.miss, multistatus.Property{Name: n})
			}
		}
	}
	pw.hrefs[0] = pw.h.href(p, info.IsDir)
	pw.resp = multistatus.Response{Hrefs: pw.hrefs[:]}
	pss := pw.pss[:0]
	if len(pw.ok) > 0 || len(pw.miss) == 0 {
		pss = append(pss, multistatus.Propstat{Props: pw.ok, Status: statusOK})
	}
	if len(pw.miss) > 0 {
		pss = append(pss, multistatus.Propstat{Props: pw.miss, Status: statusNotFound})
	}
	pw.resp.Propstats = pss
	pw.n++
	return pw.ms.Write(&pw.resp)
}

var (
	statusOK       = multistatus.NewStatus(http.StatusOK)
	statusNotFound = multistatus.NewStatus(http.StatusNotFound)
)

func (pw *propWriter) needsDead() bool {
	for _, n := range pw.req.names {
		if lp := findLive(n); lp == nil || lp.deadOverride {
			return true
		}
	}
	return false
}

// isLive reports whether a dead property is shadowed by a live one.
func (pw *propWriter) isLive(n xml.Name, info storage.Info) bool {
	lp := findLive(n)
	return lp != nil && lp.applies(info)
}

func (pw *propWriter) addLive(lp liveProp, p string, info storage.Info, dead []props.Property) {
	if lp.deadOverride {
		if i := deadIndex(dead, davName(lp.name)); i >= 0 {
			pw.ok = append(pw.ok, multistatus.Property(dead[i]))
			return
		}
	}
	start := len(pw.arena)
	pw.arena = lp.value(pw, p, info, pw.arena)
	pw.ok = append(pw.ok, multistatus.Property{Name: davName(lp.name), Inner: pw.arena[start:len(pw.arena):len(pw.arena)]})
}

func deadIndex(dead []props.Property, n xml.Name) int {
	for i := range dead {
		if dead[i].Name == n {
			return i
		}
	}
	return -1
}

func hasDead(dead []props.Property, n xml.Name) bool { return deadIndex(dead, n) >= 0 }

// liveProp is a property the server computes (RFC 4918 §15).
type liveProp struct {
	name string // local name in DAV:
	// value appends the property's inner XML to b.
	value func(pw *propWriter, p string, info storage.Info, b []byte) []byte
	// files, dirs: the kinds of resource that have it.
	files, dirs bool
	// protected: PROPPATCH refuses it (cannot-modify-protected-property).
	protected bool
	// deadOverride: a value set by PROPPATCH is served instead.
	deadOverride bool
	// namedOnly: returned only when asked for by name, never by allprop
	// or propname (RFC 4331 §3 for the quota properties).
	namedOnly bool
	// static: the value depends on nothing but whether the resource is a
	// collection (value is then called with a nil propWriter).
	static bool
	// open, close, empty: the element's tags, set by init.
	open, close, empty string
}

func (lp liveProp) applies(info storage.Info) bool {
	if info.IsDir {
		return lp.dirs
	}
	return lp.files
}

// quotaFS is a storage backend that knows its space (RFC 4331).
type quotaFS interface {
	Quota(ctx context.Context) (available, used int64, err error)
}

func (pw *propWriter) hasQuota() bool {
	_, isQ := pw.h.fs.(quotaFS)
	return isQ
}

func (pw *propWriter) quota() (available, used int64, ok bool) {
	q, isQ := pw.h.fs.(quotaFS)
	if !isQ {
		return 0, 0, false
	}
	a, u, err := q.Quota(pw.ctx)
	return a, u, err == nil
}

var liveProps = []liveProp{
	{name: "quota-available-bytes", dirs: true, protected: true, namedOnly: true, value: func(pw *propWriter, _ string, _ storage.Info, b []byte) []byte {
		a, _, _ := pw.quota()
		return strconv.AppendInt(b, a, 10)
	}},
	{name: "quota-used-bytes", dirs: true, protected: true, namedOnly: true, value: func(pw *propWriter, _ string, _ storage.Info, b []byte) []byte {
		_, u, _ := pw.quota()
		return strconv.AppendInt(b, u, 10)
	}},
	{name: "creationdate", files: true, dirs: true, protected: true, value: func(pw *propWriter, _ string, info storage.Info, b []byte) []byte {
		return pw.appendRFC3339(b, info.ModTime)
	}},
	{name: "displayname", files: true, dirs: true, deadOverride: true, value: func(_ *propWriter, _ string, info storage.Info, b []byte) []byte {
		return multistatus.AppendText(b, info.Name)
	}},
	{name: "getcontentlength", files: true, protected: true, value: func(_ *propWriter, _ string, info storage.Info, b []byte) []byte {
		return strconv.AppendInt(b, info.Size, 10)
	}},
	{name: "getcontenttype", files: true, protected: true, value: func(pw *propWriter, _ string, info storage.Info, b []byte) []byte {
		return pw.appendContentType(b, info.Name)
	}},
	{name: "getetag", files: true, protected: true, value: func(_ *propWriter, _ string, info storage.Info, b []byte) []byte {
		return multistatus.AppendText(b, info.ETag)
	}},
	{name: "getlastmodified", files: true, dirs: true, protected: true, value: func(pw *propWriter, _ string, info storage.Info, b []byte) []byte {
		return pw.appendHTTPDate(b, info.ModTime)
	}},
	{name: "resourcetype", files: true, dirs: true, protected: true, static: true, value: func(_ *propWriter, _ string, info storage.Info, b []byte) []byte {
		if info.IsDir {
			return append(b, "<D:collection/>"...)
		}
		return b
	}},
	{name: "supportedlock", files: true, dirs: true, protected: true, static: true, value: func(_ *propWriter, _ string, _ storage.Info, b []byte) []byte {
		return append(b, supportedLock...)
	}},
	{name: "lockdiscovery", files: true, dirs: true, protected: true, value: func(pw *propWriter, p string, info storage.Info, b []byte) []byte {
		locks, err := pw.locksOf(p)
		if err != nil {
			return b
		}
		for _, l := range locks {
			b = pw.h.appendActiveLock(pw.ctx, b, l, p, info.IsDir, pw.clock())
		}
		return b
	}},
}

const supportedLock = "<D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>" +
	"<D:lockentry><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>"

func findLive(n xml.Name) *liveProp {
	if n.Space != "DAV:" {
		return nil
	}
	for i := range liveProps {
		if liveProps[i].name == n.Local {
			return &liveProps[i]
		}
	}
	return nil
}

// appendActiveLock appends a DAV:activelock element (RFC 4918 §14.1) of
// lock l as the lockdiscovery of the resource at, a collection when
// atIsDir ("" when the caller does not know it), its timeout counted from
// now.
func (h *Handler) appendActiveLock(ctx context.Context, b []byte, l lock.Lock, at string, atIsDir bool, now time.Time) []byte {
	b = append(b, "<D:activelock><D:locktype><D:write/></D:locktype><D:lockscope>"...)
	if l.Exclusive {
		b = append(b, "<D:exclusive/>"...)
	} else {
		b = append(b, "<D:shared/>"...)
	}
	b = append(b, "</D:lockscope><D:depth>"...)
	if l.Depth == lock.Infinity {
		b = append(b, "infinity"...)
	} else {
		b = append(b, '0')
	}
	b = append(b, "</D:depth>"...)
	if len(l.Owner) > 0 {
		b = append(b, "<D:owner>"...)
		b = append(b, l.Owner...)
		b = append(b, "</D:owner>"...)
	}
	b = append(b, "<D:timeout>"...)
	if l.Timeout == 0 {
		b = append(b, "Infinite"...)
	} else {
		left := l.Expires.Sub(now)
		if left < time.Second {
			left = time.Second
		}
		b = append(b, "Second-"...)
		b = strconv.AppendInt(b, int64(left/time.Second), 10)
	}
	b = append(b, "</D:timeout><D:locktoken><D:href>"...)
	b = multistatus.AppendText(b, l.Token)
	b = append(b, "</D:href></D:locktoken><D:lockroot><D:href>"...)
	// The root's href ends in a slash when it is a collection. The root
	// is either at itself, whose kind the caller knows, or, for a lock
	// that at inherits through Depth infinity, an ancestor of at, so a
	// collection. Only a caller that does not know at looks the root up.
	var rootIsDir bool
	switch {
	case at != "" && l.Root == at:
		rootIsDir = atIsDir
	case at != "" && l.Covers(at):
		rootIsDir = true
	default:
		info, err := h.fs.Stat(ctx, l.Root)
		rootIsDir = err == nil && info.IsDir
	}
	b = multistatus.AppendPathHref(b, h.prefix, l.Root, rootIsDir || l.Root == "/")
	b = append(b, "</D:href></D:lockroot></D:activelock>"...)
	return b
}

// appendRFC3339 appends t in UTC as time.RFC3339 does, by hand for the
// years 0 to 9999.
func appendRFC3339(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, time.RFC3339)
	}
	h, mi, s := t.Clock()
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, int(mo))
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	b = append2(b, h)
	b = append(b, ':')
	b = append2(b, mi)
	b = append(b, ':')
	b = append2(b, s)
	return append(b, 'Z')
}

// appendHTTPDate appends t in UTC as http.TimeFormat does, by hand for
// the years 0 to 9999.
func appendHTTPDate(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, http.TimeFormat)
	}
	h, mi, s := t.Clock()
	b = append(b, "SunMonTueWedThuFriSat"[3*t.Weekday():3*t.Weekday()+3]...)
	b = append(b, ", "...)
	b = append2(b, d)
	b = append(b, ' ')
	b = append(b, "JanFebMarAprMayJunJulAugSepOctNovDec"[3*(mo-1):3*mo]...)
	b = append(b, ' ')
	b = append4(b, y)
	b = append(b, ' ')
	b = append2(b, h)
	b = append(b, ':')
	b = append2(b, mi)
	b = append(b, ':')
	b = append2(b, s)
	return append(b, " GMT"...)
}

func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }

func append4(b []byte, n int) []byte {
	return append(b, byte('0'+n/1000), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
}
