package problem

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
)

func TestWrite(t *testing.T) {
	w := httptest.NewRecorder()
	w.Header().Set("WWW-Authenticate", `Bearer realm="x"`)
	p := New(403, CodeForbidden, "you need message.send")
	p.RequiredPermission = "message.send"
	Write(w, p)
	if w.Code != 403 || w.Header().Get("Content-Type") != "application/problem+json" ||
		w.Header().Get("WWW-Authenticate") == "" || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("response %d %v", w.Code, w.Header())
	}
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"type": "urn:gatehouse:problem:forbidden", "title": "Forbidden", "status": float64(403),
		"detail": "you need message.send", "code": "forbidden", "required_permission": "message.send"}
	if len(got) != len(want) {
		t.Errorf("members %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if w.Header().Get("Content-Length") != itoa(w.Body.Len()) {
		t.Errorf("Content-Length %s for %d bytes", w.Header().Get("Content-Length"), w.Body.Len())
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
