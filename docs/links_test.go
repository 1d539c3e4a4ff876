// Package docs holds no code: its test checks that the relative links of
// the README and of the pages here lead somewhere, anchors included.
package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

var (
	fence   = regexp.MustCompile("(?ms)^```.*?^```")
	heading = regexp.MustCompile(`(?m)^#{1,6} +(.+?) *$`)
	link    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
)

// slug is the anchor GitHub gives a heading: lower case, letters, digits,
// '-' and '_' kept, spaces made '-', the rest dropped.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// anchors returns the anchors of a Markdown file's headings, repeated
// ones numbered as GitHub does.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	count := map[string]int{}
	for _, m := range heading.FindAllStringSubmatch(fence.ReplaceAllString(text, ""), -1) {
		s := slug(m[1])
		if n := count[s]; n > 0 {
			out[s+"-"+strconv.Itoa(n)] = true
		} else {
			out[s] = true
		}
		count[s]++
	}
	return out
}

func TestSlug(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Why the rest is not met", "why-the-rest-is-not-met"},
		{"What changed on 2026-12-07 (the fourth session of 2026-12-06)", "what-changed-on-2026-12-07-the-fourth-session-of-2026-12-06"},
		{"What makes Davit fast, and what each piece trades", "what-makes-davit-fast-and-what-each-piece-trades"},
		{"`davit serve` and its flags", "davit-serve-and-its-flags"},
	} {
		if got := slug(c.in); got != c.want {
			t.Errorf("slug(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if a := anchors("# A\n## A\n```\n# B\n```\n"); !a["a"] || !a["a-1"] || a["b"] {
		t.Errorf("anchors: %v", a)
	}
}

func TestLinks(t *testing.T) {
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../README.md")
	texts := map[string]string{}
	read := func(p string) (string, bool) {
		if s, ok := texts[p]; ok {
			return s, true
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return "", false
		}
		texts[p] = string(b)
		return texts[p], true
	}
	checked := 0
	for _, f := range files {
		text, ok := read(f)
		if !ok {
			t.Fatalf("cannot read %s", f)
		}
		for _, m := range link.FindAllStringSubmatch(fence.ReplaceAllString(text, ""), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, frag, _ := strings.Cut(target, "#")
			dest := filepath.Clean(f)
			if path != "" {
				dest = filepath.Join(filepath.Dir(f), path)
			}
			if _, err := os.Stat(dest); err != nil {
				t.Errorf("%s: link %q: %s does not exist", f, target, dest)
				continue
			}
			checked++
			if frag == "" || !strings.HasSuffix(dest, ".md") {
				continue
			}
			destText, _ := read(dest)
			if !anchors(destText)[frag] {
				t.Errorf("%s: link %q: no heading of %s has the anchor %q", f, target, dest, frag)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d links checked: the pattern or the files changed", checked)
	}
}
