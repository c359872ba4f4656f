package authn

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// CheckSubject accepts exactly the subjects that reach an upstream
// unchanged: each accepted one is sent through a real HTTP header and must
// come back byte for byte.
func TestCheckSubject(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("X-Gatehouse-User")
	}))
	defer srv.Close()
	for _, c := range []struct {
		sub    string
		reason string
	}{
		{"alice", ""},
		{"auth0|abc123", ""},
		{"user with spaces", ""},
		{"ünïcödé", ""},
		{strings.Repeat("a", 255), ""},
		{"", "must be a non-empty string"},
		{strings.Repeat("a", 256), "is too long"},
		{"alice ", "has surrounding white space"},
		{" alice", "has surrounding white space"},
		{"alice\u3000", "has surrounding white space"},
		{"alice\u200b", "has surrounding white space"},
		{"alice\t", "contains control characters"},
		{"al\tice", "contains control characters"},
		{"alice\r\nX-Gatehouse-User: root", "contains control characters"},
		{"alice\x00", "contains control characters"},
		{"alice\x7f", "contains control characters"},
		{"alice\u009b", "contains control characters"},
		{"alice\xff", "is not valid UTF-8"},
		{"apikey:abc", "must not start with apikey: (reserved for API keys)"},
		{"ApiKey:abc", "must not start with apikey: (reserved for API keys)"},
		{" apikey:abc", "has surrounding white space"},
	} {
		if reason := CheckSubject(c.sub); reason != c.reason {
			t.Errorf("CheckSubject(%q) = %q, want %q", c.sub, reason, c.reason)
			continue
		}
		if c.reason != "" {
			continue
		}
		req, err := http.NewRequest("GET", srv.URL, nil)
		must(t, err)
		req.Header.Set("X-Gatehouse-User", c.sub)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		if got != c.sub {
			t.Errorf("accepted subject %q arrived as %q", c.sub, got)
		}
	}
}

func TestCheckEmail(t *testing.T) {
	for s, want := range map[string]string{
		"":                       "",
		"a@example.com":          "",
		"a@example.com ":         "has surrounding white space",
		"a@example.com\r":        "contains control characters",
		strings.Repeat("a", 321): "is too long",
	} {
		if got := CheckEmail(s); got != want {
			t.Errorf("CheckEmail(%q) = %q, want %q", s, got, want)
		}
	}
}
