package multistatus

import (
	"encoding/xml"
	"strings"
	"testing"
)

// TestReadInnerRefusesBadNames: encoding/xml accepts "a:0" (it checks only
// the first character of a prefixed name); ReadInner must not turn it into
// the element <0>, which no XML parser would read back.
func TestReadInnerRefusesBadNames(t *testing.T) {
	for _, doc := range []string{
		`<p xmlns:a="urn:a"><a:0/></p>`,
		`<p xmlns:a="urn:a"><x a:1="v"/></p>`,
		`<a:0 xmlns:a="urn:a">text</a:0>`,
	} {
		dec := xml.NewDecoder(strings.NewReader(doc))
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := ReadInner(dec, tok.(xml.StartElement), 8); err == nil {
			t.Errorf("ReadInner(%s) accepted an invalid name", doc)
		}
	}
	dec := xml.NewDecoder(strings.NewReader(`<p xmlns:a="urn:a"><a:b0 a:c1="v"/></p>`))
	tok, _ := dec.Token()
	if _, _, err := ReadInner(dec, tok.(xml.StartElement), 8); err != nil {
		t.Errorf("ReadInner refused valid names: %v", err)
	}
}
