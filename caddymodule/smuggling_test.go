package caddymodule

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hidden is a request for a global_admin route with a forged identity,
// hidden in the body of a public request: if any hop between the client
// and the upstream framed the body differently from the gateway, the
// upstream would receive it without the gateway having decided on it.
const hidden = "GET /billing-admin/report HTTP/1.1\r\nHost: x\r\nX-Gatehouse-User: root\r\n\r\n"

// exchange writes payload on one connection and reads every response the
// server gives before it closes the connection or goes quiet.
func exchange(t *testing.T, addr, payload string) []*http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Host must name the site, or Caddy answers an empty 200 itself.
	payload = strings.ReplaceAll(payload, "Host: x", "Host: "+addr)
	if _, err := io.WriteString(conn, payload); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(time.Second))
	br := bufio.NewReader(conn)
	var out []*http.Response
	for {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			return out
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		out = append(out, res)
	}
}

// Request smuggling: every ambiguous framing is refused by Caddy's HTTP
// server (Go's net/http) before the gateway, or re-framed so that what the
// upstream receives is exactly the requests the gateway decided on.
// Whatever the answers, the upstream is hit once per request the gateway
// allowed (the public one), never for the hidden request (which, when it is
// parsed at all, is a request of its own: 401), and never with the forged
// identity.
func TestRequestSmugglingNeverReachesTheUpstreamUndecided(t *testing.T) {
	s := startGateway(t)
	chunkedHiding := "0\r\n\r\n" + hidden
	// In order: "bad chunk size" is last, because the upstream may see its
	// request line after the client has its 502, which would be counted
	// against the next case.
	cases := []struct{ name, payload string }{
		// CL.TE / TE.CL: both framings on one request.
		{"Content-Length and chunked", "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedHiding},
		{"chunked and Content-Length", "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: " + strconv.Itoa(len(chunkedHiding)) + "\r\n\r\n" + chunkedHiding},
		// Two different lengths.
		{"two Content-Lengths", "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: " + strconv.Itoa(len(hidden)) + "\r\n\r\n" + hidden},
		// Transfer-Encoding spellings a front end might not recognise.
		{"TE xchunked", "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n" + chunkedHiding},
		{"TE chunked, identity", "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n" + chunkedHiding},
		{"TE with a space", "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n" + chunkedHiding},
		{"TE obs-fold", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: a\r\n Transfer-Encoding: chunked\r\n\r\n" + chunkedHiding},
		{"TE on HTTP/1.0", "GET /healthz HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n" + chunkedHiding},
		{"bare LF line endings", "GET /healthz HTTP/1.1\nHost: x\nContent-Length: 0\nTransfer-Encoding: chunked\n\n" + chunkedHiding},
		{"header name with a space", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Gatehouse-User : root\r\n\r\n"},
		{"pipelined after a public one", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + hidden},
		{"bad chunk size", "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n\r\n" + hidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, before := s.upstream.received()
			responses := exchange(t, s.addr(), c.payload)
			allowed, forwarded := 0, 0
			for _, res := range responses {
				switch res.StatusCode {
				case http.StatusOK:
					allowed++
					forwarded++
				case http.StatusBadGateway:
					// Allowed (the public /healthz), but the body's
					// framing failed while it was being forwarded: the
					// upstream may or may not have seen the request line.
					allowed++
				case http.StatusBadRequest, http.StatusUnauthorized, http.StatusNotImplemented:
				default:
					t.Errorf("answered %d", res.StatusCode)
				}
			}
			got, after := s.upstream.received()
			if hits := after - before; hits < forwarded || hits > allowed {
				t.Errorf("the upstream was hit %d times for %d allowed requests (answers: %v)", hits, allowed, statuses(responses))
			}
			if after > before && got.Get("X-Gatehouse-User") != "" {
				t.Errorf("the upstream received X-Gatehouse-User %q", got.Get("X-Gatehouse-User"))
			}
			t.Logf("answers %v", statuses(responses))
		})
	}
}

func statuses(rs []*http.Response) []int {
	out := make([]int, len(rs))
	for i, r := range rs {
		out[i] = r.StatusCode
	}
	return out
}
