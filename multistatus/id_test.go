package multistatus

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestResponseID checks the batch item id: written as an extension element
// in urn:davit:batch, read back whatever its prefix, left out when empty,
// and carried as "id" in the JSON form.
func TestResponseID(t *testing.T) {
	ms := &Multistatus{Responses: []Response{
		{Hrefs: []string{"/a"}, Status: NewStatus(204), ID: "del-1 <&>"},
		{Hrefs: []string{"/b"}, Status: NewStatus(404)},
	}}
	var buf bytes.Buffer
	if err := Encode(&buf, ms); err != nil {
		t.Fatal(err)
	}
	doc := buf.String()
	if !strings.Contains(doc, `<id xmlns="urn:davit:batch">del-1 &lt;&amp;&gt;</id>`) {
		t.Fatalf("id not written as expected:\n%s", doc)
	}
	if strings.Count(doc, "<id ") != 1 {
		t.Fatalf("empty id written:\n%s", doc)
	}
	got, err := Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.Responses[0].ID != "del-1 <&>" || got.Responses[1].ID != "" {
		t.Fatalf("ids read back: %q, %q", got.Responses[0].ID, got.Responses[1].ID)
	}

	// Any prefix, and the response's other parts still read.
	in := `<m:multistatus xmlns:m="DAV:" xmlns:b="urn:davit:batch"><m:response>` +
		`<m:href>/x</m:href><b:id> 7 </b:id><m:status>HTTP/1.1 423 Locked</m:status></m:response></m:multistatus>`
	got, err = Decode(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if r := got.Responses[0]; r.ID != " 7 " || r.Status.Code != 423 {
		t.Fatalf("read %+v", r)
	}

	// JSON: "id" present only when set.
	var j struct {
		Responses []map[string]any `json:"responses"`
	}
	b, err := ms.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	if j.Responses[0]["id"] != "del-1 <&>" {
		t.Fatalf("JSON id: %s", b)
	}
	if _, ok := j.Responses[1]["id"]; ok {
		t.Fatalf("JSON has an empty id: %s", b)
	}
	var jb bytes.Buffer
	jw := NewJSONWriter(&jb)
	jw.Write(&ms.Responses[0])
	jw.Close()
	if !strings.Contains(jb.String(), `"id":"del-1 <&>"`) {
		t.Fatalf("JSONWriter: %s", jb.String())
	}
}
