package props

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
)

// FuzzDecode feeds the Bolt store's entry decoding arbitrary keys and
// values, as a damaged or hand-edited database would hold: it must never
// panic, and what it accepts must encode back to the same key and value
// (or a shorter value meaning the same).
// Each input is decoded three times with one decoder, as a page read
// decodes many entries, and the results must stay equal and independent.
func FuzzDecode(f *testing.F) {
	for _, pr := range []Property{
		{Name: xml.Name{Space: "urn:schemas-microsoft-com:", Local: "Win32FileAttributes"}, Inner: []byte("00000020")},
		{Name: xml.Name{Space: "", Local: "plain"}, Lang: "de-CH", Inner: []byte("Grüezi <b xmlns=\"\">!</b>")},
		{Name: xml.Name{Space: "urn:x", Local: "empty"}},
		{Name: xml.Name{Space: "urn:x", Local: "long"}, Inner: bytes.Repeat([]byte("x"), 5000)},
	} {
		f.Add(key("", pr.Name)[1:], encode(pr))
	}
	f.Add([]byte("no-separator"), []byte{0})
	f.Add([]byte("urn:x\x00n"), []byte{0x80})                   // truncated length
	f.Add([]byte("urn:x\x00n"), []byte{0xff, 0xff, 0xff, 0x0f}) // length past the end
	f.Fuzz(func(t *testing.T, name, v []byte) {
		const p = "/d/f"
		pre := []byte(p + "\x00")
		k := append(bytes.Clone(pre), name...)
		var d decoder
		first, err := d.decode(pre, k, v)
		if err != nil {
			if !strings.Contains(err.Error(), "corrupt entry") {
				t.Fatalf("decode error %q does not say the entry is corrupt", err)
			}
			return
		}
		if got := key(p, first.Name); !bytes.Equal(got, k) {
			t.Fatalf("key of the decoded name %q, stored key %q", got, k)
		}
		// The value encodes back to itself, but for a length written with
		// more bytes than needed (binary.Uvarint accepts those), which
		// encodes shorter and decodes the same.
		if got := encode(first); !bytes.Equal(got, v) {
			var d2 decoder
			again, err := d2.decode(pre, k, got)
			if err != nil || again.Lang != first.Lang || !bytes.Equal(again.Inner, first.Inner) || len(got) >= len(v) {
				t.Fatalf("encoding of the decoded property %q, stored value %q: decodes to %+v, %v", got, v, again, err)
			}
		}
		second, _ := d.decode(pre, k, v)
		third, _ := d.decode(pre, k, v)
		_ = append(first.Inner, "appended"...)
		for i := range second.Inner {
			second.Inner[i] = '#'
		}
		if third.Name != first.Name || third.Lang != first.Lang || !bytes.Equal(third.Inner, v[len(v)-len(third.Inner):]) || !bytes.Equal(first.Inner, third.Inner) {
			t.Fatalf("decodes of one entry differ after changing two of them: %+v, %+v", first, third)
		}
	})
}
