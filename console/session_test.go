package console

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The store holds at most max sessions: the oldest is signed out first.
func TestSessionStoreBounded(t *testing.T) {
	st := newSessionStore()
	st.max = 3
	var ids []string
	for range 4 {
		ids = append(ids, st.create("u", "tok", time.Now().Add(time.Hour)).id)
		time.Sleep(time.Millisecond) // distinct creation times
	}
	if st.get(ids[0]) != nil {
		t.Fatal("the oldest session survived a full store")
	}
	for _, id := range ids[1:] {
		if st.get(id) == nil {
			t.Fatal("a newer session was evicted")
		}
	}
	if len(ids[1]) != 43 || ids[1] == ids[2] {
		t.Fatalf("session ids %q %q are not 32 random bytes", ids[1], ids[2])
	}
	expired := st.create("u", "tok", time.Now().Add(-time.Second))
	if st.get(expired.id) != nil {
		t.Fatal("an expired session is served")
	}
}

// Cookies are Secure unless the request came over plain HTTP to loopback
// for a loopback host; a non-loopback OIDC redirect_url forces Secure.
func TestSecureCookie(t *testing.T) {
	req := func(host, local string, tlsOn bool) *http.Request {
		r := httptest.NewRequest("GET", "/login", nil)
		r.Host = host
		if !tlsOn {
			r.TLS = nil
		} else {
			r.TLS = &tls.ConnectionState{}
		}
		if local != "" {
			addr, _ := net.ResolveTCPAddr("tcp", local)
			r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, addr))
		}
		return r
	}
	plain := &Console{opts: Options{}}
	for _, tc := range []struct {
		r    *http.Request
		want bool
	}{
		{req("127.0.0.1:8080", "127.0.0.1:8080", false), false},
		{req("localhost:8080", "[::1]:8080", false), false},
		{req("127.0.0.1:8080", "127.0.0.1:8080", true), true},     // TLS
		{req("admin.example.com", "127.0.0.1:8080", false), true}, // behind a local TLS proxy
		{req("127.0.0.1:8080", "192.0.2.1:8080", false), true},    // not a loopback connection
		{req("127.0.0.1:8080", "", false), true},                  // unknown connection
		{req("admin.example.com", "192.0.2.1:443", true), true},
	} {
		if got := plain.secureCookie(tc.r); got != tc.want {
			t.Errorf("host %q tls %v: Secure %v, want %v", tc.r.Host, tc.r.TLS != nil, got, tc.want)
		}
	}
	loop := req("127.0.0.1:8080", "127.0.0.1:8080", false)
	if (&Console{opts: Options{Secure: true}}).secureCookie(loop) != true {
		t.Error("Options.Secure does not force Secure")
	}
	o := &OIDC{Issuer: "https://idp.example.com/", ClientID: "c", RedirectURL: "https://admin.example.com/console/oidc/callback"}
	if (&Console{opts: Options{OIDC: o}}).secureCookie(loop) != true {
		t.Error("a non-loopback redirect_url does not force Secure")
	}
	o.RedirectURL = "http://127.0.0.1:8080/console/oidc/callback"
	if (&Console{opts: Options{OIDC: o}}).secureCookie(loop) != false {
		t.Error("a loopback redirect_url forces Secure on plain-HTTP loopback")
	}
}

// OIDC configuration errors name what to change.
func TestOIDCCheck(t *testing.T) {
	for _, tc := range []struct {
		o    OIDC
		want string
	}{
		{OIDC{ClientID: "c"}, "no issuer"},
		{OIDC{Issuer: "http://idp.example.com/", ClientID: "c"}, "use https"},
		{OIDC{Issuer: "idp.example.com", ClientID: "c"}, "not an absolute URL"},
		{OIDC{Issuer: "https://idp.example.com/"}, "no client_id"},
		{OIDC{Issuer: "https://idp.example.com/", ClientID: "c", Bearer: "refresh_token"}, "use access_token"},
		{OIDC{Issuer: "https://idp.example.com/", ClientID: "c", RedirectURL: "http://admin.example.com/console/oidc/callback"}, "use https"},
		{OIDC{Issuer: "https://idp.example.com/", ClientID: "c", RedirectURL: "https://admin.example.com/console/callback"}, "must end in /oidc/callback"},
		{OIDC{Issuer: "https://idp.example.com/", ClientID: "c", Scopes: []string{"a b"}}, "not a scope token"},
	} {
		err := tc.o.Check()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
	}
	for _, ok := range []OIDC{
		{Issuer: "https://idp.example.com/", ClientID: "c"},
		{Issuer: "http://127.0.0.1:5556/dex", ClientID: "c", Bearer: "id_token"},
		{Issuer: "http://localhost:5556", ClientID: "c", RedirectURL: "http://localhost:8080/console/oidc/callback"},
	} {
		if err := ok.Check(); err != nil {
			t.Errorf("%+v refused: %v", ok, err)
		}
	}
	if _, err := New(Options{API: http.NotFoundHandler()}); err == nil {
		t.Error("a console without a login method was built")
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && (s[:len(sub)] == sub || contains(s[1:], sub)))
}
