package caddymodule

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// withAssertion turns `assertion on` on in testCaddyfile.
func withAssertion(caddyfile string) string {
	return strings.Replace(caddyfile, "workspace param workspace", "workspace param workspace\n\t\t\tassertion on", 1)
}

// rawRequest builds an HTTP/1.1 request by hand: headers as given (Go's
// client would rewrite Connection), then Connection: close.
func (s *server) rawRequest(method, path, token string, headers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, s.addr())
	if token != "" {
		fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", token)
	}
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	return b.String()
}

// Issue 10 item 1: reverse_proxy deletes the headers a Connection header
// names (hop-by-hop) after the gateway has set its own. A client naming
// the identity headers there must not make a restricted member look
// unrestricted upstream, nor drop the user, roles or assertion.
func TestConnectionCannotDeleteIdentityHeaders(t *testing.T) {
	s := newServer(t)
	seedWorkspaces(t, s)
	s.load(withAssertion(testCaddyfile))
	names := "X-Gatehouse-Restrict-Instance, X-Gatehouse-User, x-gatehouse-roles, X_Gatehouse_Workspace, X-Gatehouse-Assertion, X-Gatehouse-Permission, X-Gatehouse-Email, X-Gatehouse-Workspace-Slug"
	for _, conn := range []string{"close, " + names, names + ", close"} {
		r := s.raw(s.rawRequest("GET", "/w/acme/instances/i1/chats", s.token("olga"), "Connection: "+conn) + "\r\n")
		if r.StatusCode != 200 {
			t.Fatalf("status %d: %s", r.StatusCode, r.body)
		}
		got, _ := s.upstream.received()
		for name, want := range map[string]string{
			"X-Gatehouse-Restrict-Instance": "i1",
			"X-Gatehouse-User":              "olga",
			"X-Gatehouse-Roles":             "operator",
			"X-Gatehouse-Workspace":         acmeID,
			"X-Gatehouse-Workspace-Slug":    "acme",
			"X-Gatehouse-Permission":        "message.read",
			"X-Gatehouse-Email":             "olga@example.com",
		} {
			if v := got.Values(name); len(v) != 1 || v[0] != want {
				t.Errorf("Connection: %s: upstream got %s = %q, want %q", conn, name, v, want)
			}
		}
		if got.Get("X-Gatehouse-Assertion") == "" {
			t.Errorf("Connection: %s: the assertion was removed", conn)
		}
	}
}

// Issue 10 item 2: identity headers sent as trailers of a chunked body,
// declared or not, never reach the upstream, on public rules too. An
// ordinary trailer does, so the path is really exercised.
func TestTrailersCannotForgeIdentity(t *testing.T) {
	s := startGateway(t)
	chunked := func(trailers ...string) string {
		return "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n" + strings.Join(trailers, "\r\n") + "\r\n\r\n"
	}
	forged := []string{"X-Gatehouse-User: root", "x_gatehouse_roles: owner", "X-Gatehouse-Restrict-Instance: i9", "X-HTTP-Method-Override: DELETE", "X-Checksum: abc"}
	cases := []struct {
		name, method, path, token, declared string
	}{
		{"public, declared", "GET", "/healthz", "", "Trailer: X-Gatehouse-User, X_Gatehouse_Roles, X-Gatehouse-Restrict-Instance, X-HTTP-Method-Override, X-Checksum"},
		{"public, undeclared", "GET", "/healthz", "", "Trailer: X-Checksum"},
		{"member, declared", "POST", "/w/acme/messages", s.token("olga"), "Trailer: X-Gatehouse-User, X-Gatehouse-Restrict-Instance, X-Checksum"},
		{"member, undeclared", "POST", "/w/acme/messages", s.token("olga"), "Trailer: X-Checksum"},
	}
	for _, c := range cases {
		r := s.raw(s.rawRequest(c.method, c.path, c.token, "Connection: close", c.declared) + chunked(forged...))
		if r.StatusCode != 200 {
			t.Fatalf("%s: status %d: %s", c.name, r.StatusCode, r.body)
		}
		trailers, body := s.upstream.receivedTrailers()
		if body != "hello" {
			t.Errorf("%s: upstream body %q", c.name, body)
		}
		if trailers.Get("X-Checksum") != "abc" {
			t.Errorf("%s: the ordinary trailer did not arrive (%v): the test proves nothing", c.name, trailers)
		}
		for name := range trailers {
			folded := strings.ReplaceAll(strings.ToLower(name), "_", "-")
			if strings.HasPrefix(folded, "x-gatehouse-") || folded == "x-http-method-override" {
				t.Errorf("%s: forged trailer %s: %q reached the upstream", c.name, name, trailers.Values(name))
			}
		}
		headers, _ := s.upstream.received()
		if c.token != "" && headers.Get("X-Gatehouse-User") != "olga" {
			t.Errorf("%s: X-Gatehouse-User %q", c.name, headers.Get("X-Gatehouse-User"))
		}
	}
}

// The same over h2c (`protocols h1 h2c`): HTTP/2 trailers the client
// declared are dropped too.
func TestH2CTrailersCannotForgeIdentity(t *testing.T) {
	s := newServer(t)
	seedWorkspaces(t, s)
	s.load(strings.Replace(testCaddyfile, "auto_https off", "auto_https off\n\tservers {\n\t\tprotocols h1 h2c\n\t}", 1))
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for _, path := range []string{"/healthz", "/w/acme/messages"} {
		method, token := "GET", ""
		if path != "/healthz" {
			method, token = "POST", s.token("olga")
		}
		req, err := http.NewRequest(method, s.url(path), nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Trailer = http.Header{"X-Gatehouse-User": nil, "X-Gatehouse-Restrict-Instance": nil, "X-Checksum": nil}
		req.Body = &trailerBody{r: strings.NewReader("hello"), set: func() {
			req.Trailer.Set("X-Gatehouse-User", "root")
			req.Trailer.Set("X-Gatehouse-Restrict-Instance", "i9")
			req.Trailer.Set("X-Checksum", "abc")
		}}
		req.ContentLength = -1
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
			t.Fatalf("%s: %s %d: %s", path, resp.Proto, resp.StatusCode, body)
		}
		trailers, _ := s.upstream.receivedTrailers()
		if trailers.Get("X-Checksum") != "abc" {
			t.Errorf("%s: the ordinary trailer did not arrive (%v): the test proves nothing", path, trailers)
		}
		if v := trailers.Values("X-Gatehouse-User"); len(v) != 0 {
			t.Errorf("%s: forged trailer X-Gatehouse-User %q reached the upstream", path, v)
		}
		if v := trailers.Values("X-Gatehouse-Restrict-Instance"); len(v) != 0 {
			t.Errorf("%s: forged trailer X-Gatehouse-Restrict-Instance %q reached the upstream", path, v)
		}
	}
}

// trailerBody fills the request's trailers when its body ends, as a
// streaming client would.
type trailerBody struct {
	r   io.Reader
	set func()
}

func (b *trailerBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF && b.set != nil {
		b.set()
		b.set = nil
	}
	return n, err
}

func (b *trailerBody) Close() error { return nil }

// Issue 10 item 10: override headers are removed by default and kept with
// keep_override_headers; a method that is not an upper-case token is 400.
func TestOverrideHeadersAndMethods(t *testing.T) {
	s := startGateway(t)
	overrides := []string{"X-HTTP-Method-Override", "X-Http-Method", "X-Method-Override", "X-Original-Url", "X-Rewrite-Url"}
	headers := []string{}
	for _, h := range overrides {
		headers = append(headers, h, "/billing-admin/x")
	}
	headers = append(headers, "X_HTTP_Method_Override", "DELETE")
	if r := s.do("GET", "/healthz", "", headers...); r.StatusCode != 200 {
		t.Fatalf("healthz: %d %s", r.StatusCode, r.body)
	}
	got, _ := s.upstream.received()
	for name := range got {
		for _, o := range append(overrides, "X_http_method_override") {
			if strings.EqualFold(strings.ReplaceAll(name, "_", "-"), strings.ReplaceAll(o, "_", "-")) {
				t.Errorf("override header %s reached the upstream", name)
			}
		}
	}

	for _, m := range []string{"post", "Post", "get"} {
		r := s.raw(s.rawRequest(m, "/w/acme/messages", s.token("alice"), "Connection: close") + "\r\n")
		if r.StatusCode != 400 || r.problem(t)["code"] != "invalid_method" {
			t.Errorf("method %s: %d %s, want 400 invalid_method", m, r.StatusCode, r.body)
		}
	}

	s.load(strings.Replace(testCaddyfile, "workspace param workspace", "workspace param workspace\n\t\t\tkeep_override_headers", 1))
	if r := s.do("GET", "/healthz", "", headers...); r.StatusCode != 200 {
		t.Fatalf("healthz: %d %s", r.StatusCode, r.body)
	}
	got, _ = s.upstream.received()
	for _, o := range overrides {
		if got.Get(o) != "/billing-admin/x" {
			t.Errorf("keep_override_headers: %s = %q", o, got.Get(o))
		}
	}
	bad := s.expand(strings.Replace(testCaddyfile, "workspace param workspace", "workspace param workspace\n\t\t\tkeep_override_headers yes", 1))
	if _, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(bad), map[string]any{"filename": "Caddyfile"}); err == nil || !strings.Contains(err.Error(), "Caddyfile:") {
		t.Errorf("keep_override_headers with an argument: %v", err)
	}
}

// Issue 10 item 3, end to end: a subject with a trailing space is an
// invalid token, not a second alice.
func TestSubjectThatChangesOnTheWireIsInvalid(t *testing.T) {
	s := startGateway(t)
	for _, sub := range []string{"alice ", " apikey:abc"} {
		r := s.do("GET", "/me", s.token(sub))
		if r.StatusCode != 401 || r.problem(t)["code"] != "invalid_token" {
			t.Errorf("sub %q: %d %s, want 401 invalid_token", sub, r.StatusCode, r.body)
		}
	}
}
