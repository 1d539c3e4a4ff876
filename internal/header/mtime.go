package header

import (
	"fmt"
	"time"
)

// maxUnix is 9999-12-31T23:59:59Z, the last second a modification time may name.
const maxUnix = 253402300799

// ParseXOCMtime parses an X-OC-Mtime header (the ownCloud/Nextcloud extension
// rclone uses to set a file's modification time on PUT): Unix time in
// seconds, optionally negative, optionally with a decimal fraction
// ("1700000000", "1700000000.123456789"; digits past nanoseconds are
// dropped). Surrounding white space is ignored. The result is in UTC. Any
// other form, or a time beyond year 9999, fails with ErrBadMtime.
func ParseXOCMtime(s string) (time.Time, error) {
	t := trimOWS(s)
	bad := func() (time.Time, error) {
		return time.Time{}, fmt.Errorf("%w: %q", ErrBadMtime, clip(s))
	}
	neg := false
	if t != "" && t[0] == '-' {
		neg, t = true, t[1:]
	}
	i := 0
	var sec int64
	for ; i < len(t) && '0' <= t[i] && t[i] <= '9'; i++ {
		if sec > maxUnix {
			return bad()
		}
		sec = sec*10 + int64(t[i]-'0')
	}
	if i == 0 || sec > maxUnix {
		return bad()
	}
	var nsec int64
	if i < len(t) {
		if t[i] != '.' || i+1 == len(t) {
			return bad()
		}
		scale := int64(100000000)
		for j := i + 1; j < len(t); j++ {
			c := t[j]
			if c < '0' || c > '9' {
				return bad()
			}
			nsec += int64(c-'0') * scale
			scale /= 10
		}
	}
	if neg {
		sec, nsec = -sec, -nsec
	}
	return time.Unix(sec, nsec).UTC(), nil
}
