package auth

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func hashOf(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Hashes as Apache's htpasswd writes them for the password "secret".
const (
	apr1Secret = "$apr1$5m1Jr2Xc$DRg1gSqTV9kv7l3o9Ilvb0" // htpasswd -nbm
	shaSecret  = "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ="     // htpasswd -nbs
)

func TestHtpasswdFormats(t *testing.T) {
	file := writeFile(t, strings.Join([]string{
		"bcrypt:" + hashOf(t, "secret"),
		"md5:" + apr1Secret,
		"sha:" + shaSecret,
		"",
		"# a comment",
	}, "\n"))
	u, err := NewUsers(file, []UserSpec{{Name: "carol", PasswordHash: hashOf(t, "c-pw"), Groups: []string{"staff"}}},
		map[string][]string{"staff": {"bcrypt"}, "ops": {"md5"}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		user, pw string
		ok       bool
	}{
		{"bcrypt", "secret", true},
		{"bcrypt", "Secret", false},
		{"md5", "secret", true},
		{"md5", "wrong", false},
		{"sha", "secret", true},
		{"sha", "", false},
		{"carol", "c-pw", true},
		{"carol", "secret", false},
		{"nobody", "secret", false},
		{"", "", false},
	}
	for _, tc := range cases {
		for range 2 { // the second time through the cache
			if got := u.Verify(tc.user, tc.pw); got != tc.ok {
				t.Errorf("Verify(%q, %q) = %v, want %v", tc.user, tc.pw, got, tc.ok)
			}
		}
	}
	if u.Len() != 4 || !u.Exists("md5") || u.Exists("nobody") {
		t.Errorf("Len = %d", u.Len())
	}
	for _, g := range []struct {
		user, group string
		in          bool
	}{{"carol", "staff", true}, {"bcrypt", "staff", true}, {"md5", "ops", true}, {"md5", "staff", false}, {"sha", "ops", false}} {
		if u.InGroup(g.user, g.group) != g.in {
			t.Errorf("InGroup(%s, %s) != %v", g.user, g.group, g.in)
		}
	}
}

func TestHtpasswdErrors(t *testing.T) {
	cases := []struct{ text, want string }{
		{"alice:plaintext\n", "line 1: user \"alice\": unknown hash format"},
		{"ok:" + shaSecret + "\nnocolon\n", "line 2: want name:hash"},
		{"a:" + shaSecret + "\na:" + shaSecret + "\n", "line 2: user \"a\" appears twice"},
	}
	for _, tc := range cases {
		_, err := NewUsers(writeFile(t, tc.text), nil, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.text, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "plaintext") {
			t.Errorf("the error quotes the password field: %v", err)
		}
	}
	if _, err := NewUsers(filepath.Join(t.TempDir(), "none"), nil, nil); err == nil {
		t.Error("missing file accepted")
	}
	f := writeFile(t, "a:"+shaSecret+"\n")
	if _, err := NewUsers(f, []UserSpec{{Name: "a", PasswordHash: hashOf(t, "x")}}, nil); err == nil {
		t.Error("user in both file and config accepted")
	}
	if _, err := NewUsers("", []UserSpec{{Name: "a", PasswordHash: "nope"}}, nil); err == nil {
		t.Error("bad hash accepted")
	}
}

func TestVerifyCacheBounded(t *testing.T) {
	c := newVerifyCache(3, time.Minute)
	now := time.Unix(1000, 0)
	for i := range 10 {
		c.add(c.key("u", strings.Repeat("x", i)), now)
	}
	if len(c.m) > 3 {
		t.Errorf("cache holds %d entries, max 3", len(c.m))
	}
	k := c.key("u", "p")
	c.add(k, now)
	if !c.hit(k, now.Add(30*time.Second)) {
		t.Error("fresh entry missed")
	}
	if c.hit(k, now.Add(2*time.Minute)) {
		t.Error("expired entry hit")
	}
	if c.key("u", "p") == c.key("u\x00", "p") || c.key("a", "bc") == c.key("ab", "c") {
		t.Error("keys collide")
	}
}

func TestACL(t *testing.T) {
	u, err := NewUsers("", []UserSpec{{Name: "alice", PasswordHash: hashOf(t, "a"), Groups: []string{"staff"}}, {Name: "bob", PasswordHash: hashOf(t, "b")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		entries []string
		user    string
		ok      bool
	}{
		{[]string{"anonymous"}, "", true},
		{[]string{"anonymous"}, "bob", true},
		{[]string{"*"}, "", false},
		{[]string{"*"}, "bob", true},
		{[]string{"alice"}, "alice", true},
		{[]string{"alice"}, "bob", false},
		{[]string{"@staff"}, "alice", true},
		{[]string{"@staff"}, "bob", false},
		{[]string{"@staff"}, "", false},
		{nil, "alice", false},
	}
	for _, tc := range cases {
		a := NewACL(tc.entries)
		if got := a.Allows(tc.user, u); got != tc.ok {
			t.Errorf("%v allows %q = %v, want %v", tc.entries, tc.user, got, tc.ok)
		}
	}
	if !NewACL(nil).Empty() || NewACL([]string{"x"}).Empty() {
		t.Error("Empty")
	}
	if got := Challenge("My Files"); got != `Basic realm="My Files", charset="UTF-8"` {
		t.Errorf("Challenge = %s", got)
	}
}

func TestThrottle(t *testing.T) {
	now := time.Unix(0, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	th := NewThrottle(3, 10*time.Second, 100, clock)
	a := netip.MustParseAddr("192.0.2.1")
	b := netip.MustParseAddr("192.0.2.2")
	for i := range 3 {
		if ok, _ := th.Allow(a); !ok {
			t.Fatalf("attempt %d refused", i)
		}
		th.Fail(a)
	}
	ok, wait := th.Allow(a)
	if ok || wait <= 0 || wait > 10*time.Second {
		t.Fatalf("after the burst: ok=%v wait=%v", ok, wait)
	}
	if ok, _ := th.Allow(b); !ok {
		t.Error("another address is throttled too")
	}
	advance(10 * time.Second)
	if ok, _ := th.Allow(a); !ok {
		t.Error("not allowed after one interval")
	}
	th.Fail(a)
	if ok, _ := th.Allow(a); ok {
		t.Error("allowed again at once after a new failure")
	}
	// IPv6 clients are grouped by /64.
	x := netip.MustParseAddr("2001:db8::1")
	y := netip.MustParseAddr("2001:db8::ffff")
	for range 3 {
		th.Fail(x)
	}
	if ok, _ := th.Allow(y); ok {
		t.Error("same /64 not throttled")
	}
	// A nil throttle allows everything.
	var none *Throttle
	none.Fail(a)
	if ok, _ := none.Allow(a); !ok {
		t.Error("nil throttle refused")
	}
}

func TestThrottleBounded(t *testing.T) {
	now := time.Unix(0, 0)
	th := NewThrottle(2, time.Minute, 10, func() time.Time { return now })
	for i := range 100 {
		th.Fail(netip.AddrFrom4([4]byte{10, 0, byte(i / 256), byte(i)}))
		now = now.Add(time.Millisecond)
	}
	if n := th.Len(); n > 10 {
		t.Errorf("%d addresses remembered, max 10", n)
	}
	// The most recent address is still remembered.
	last := netip.AddrFrom4([4]byte{10, 0, 0, 99})
	th.Fail(last)
	if ok, _ := th.Allow(last); ok {
		t.Error("most recent address forgotten")
	}
}
