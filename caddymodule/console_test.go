package caddymodule

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// dev_login serves loopback-to-loopback connections only, whatever the
// site listens on; anything else (or no local address at all) is refused.
func TestConsoleDevLoginLoopbackOnly(t *testing.T) {
	for _, tc := range []struct {
		local, remote string
		want          bool
	}{
		{"127.0.0.1:8080", "127.0.0.1:50000", true},
		{"[::1]:8080", "[::1]:50000", true},
		{"192.0.2.10:8080", "127.0.0.1:50000", false},
		{"127.0.0.1:8080", "192.0.2.7:50000", false},
		{"0.0.0.0:8080", "198.51.100.1:50000", false},
		{"", "127.0.0.1:50000", false},
	} {
		r := httptest.NewRequest("GET", "/login", nil)
		r.RemoteAddr = tc.remote
		if tc.local != "" {
			addr, err := net.ResolveTCPAddr("tcp", tc.local)
			if err != nil {
				t.Fatal(err)
			}
			r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, addr))
		}
		if got := loopbackConn(r); got != tc.want {
			t.Errorf("local %q remote %q: loopback %v, want %v", tc.local, tc.remote, got, tc.want)
		}
	}
}
