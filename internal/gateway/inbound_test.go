package gateway_test

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// readRequest parses raw bytes with net/http's server-side parser, the one
// that fills r.Trailer.
func readRequest(t *testing.T, raw string) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A Connection header naming an identity header would make reverse_proxy
// delete the gateway's own header after it was set (hop-by-hop). Scrub
// removes those tokens, in every spelling, and keeps the others.
func TestScrubConnectionTokens(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.WorkspaceSource{From: "header", Name: "X-Workspace-ID"}, gateway.RuleSpec{Methods: []string{"GET"}, Path: "/x", Require: "member"})
	r := request("GET", "/x", "")
	r.Header["Connection"] = []string{
		"keep-alive, X-Gatehouse-Restrict-Instance",
		"x-gatehouse-user,X_Gatehouse_Roles , X-GATEHOUSE-ASSERTION",
		"X-Gatehouse-Revision, Upgrade, X-Gatehouse-Decision-Id",
		"X-Workspace-ID",
		"x_workspace_id, X-Custom",
	}
	p.Scrub(r, false)
	got := strings.Join(r.Header["Connection"], "|")
	if got != "keep-alive| Upgrade|X-Custom" && got != "keep-alive| Upgrade| X-Custom" {
		t.Errorf("Connection after Scrub: %q", got)
	}
	for _, v := range r.Header["Connection"] {
		for tok := range strings.SplitSeq(v, ",") {
			tok = strings.ToLower(strings.TrimSpace(tok))
			if strings.HasPrefix(strings.ReplaceAll(tok, "_", "-"), "x-gatehouse-") || strings.Contains(tok, "workspace") {
				t.Errorf("Connection still names %q", tok)
			}
		}
	}
	// Only identity names: the header goes.
	r = request("GET", "/x", "")
	r.Header.Set("Connection", "X-Gatehouse-User")
	p.Scrub(r, false)
	if _, ok := r.Header["Connection"]; ok {
		t.Errorf("Connection left: %q", r.Header["Connection"])
	}
}

// Trailers are headers too (spec §4 step 2): declared or not, an identity
// name sent after a chunked body never stays in r.Trailer, which is what
// reverse_proxy forwards.
func TestScrubTrailers(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.WorkspaceSource{From: "header", Name: "X-Workspace-ID"}, gateway.RuleSpec{Methods: []string{"POST"}, Path: "/x", Require: "public"})
	for name, raw := range map[string]string{
		"declared": "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTrailer: X-Gatehouse-User, X-Workspace-ID, X-Checksum\r\n\r\n" +
			"5\r\nhello\r\n0\r\nX-Gatehouse-User: root\r\nX-Workspace-ID: globex\r\nX-Checksum: abc\r\n\r\n",
		"undeclared, merged into another declared trailer": "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n" +
			"5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX_Gatehouse_User: root\r\nx-gatehouse-restrict-instance: i9\r\nX-HTTP-Method-Override: DELETE\r\n\r\n",
		"undeclared, no Trailer header": "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"5\r\nhello\r\n0\r\nX-Gatehouse-User: root\r\nX-Checksum: abc\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			r := readRequest(t, raw)
			p.Scrub(r, false)
			for k := range r.Trailer {
				if k != "X-Checksum" {
					t.Errorf("declared trailer %q kept before the body", k)
				}
			}
			if b, err := io.ReadAll(r.Body); err != nil || string(b) != "hello" {
				t.Fatalf("body %q, %v", b, err)
			}
			for k, v := range r.Trailer {
				if k != "X-Checksum" {
					t.Errorf("trailer %s: %q reached the request after the body", k, v)
				}
			}
		})
	}
	// A Trailer header net/http leaves in place (no chunking) is cleaned too.
	r := readRequest(t, "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nTrailer: X-Gatehouse-User, X-Checksum\r\n\r\n")
	p.Scrub(r, false)
	if got := r.Header.Get("Trailer"); strings.Contains(strings.ToLower(got), "gatehouse") || !strings.Contains(got, "X-Checksum") {
		t.Errorf("Trailer header %q", got)
	}
}

// Method and URL override headers are removed by default, in every
// spelling, and kept on request.
func TestScrubOverrideHeaders(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	names := []string{"X-HTTP-Method-Override", "x-http-method", "X_Method_Override", "X-Original-URL", "x-rewrite-url", "X_HTTP_METHOD_OVERRIDE"}
	fill := func() *http.Request {
		r := request("GET", "/healthz", "")
		for _, n := range names {
			r.Header[n] = []string{"DELETE"}
		}
		r.Header.Set("X-HTTP-Method-Overrides", "kept") // another name
		r.Header.Set("X-Original-URL-Kept", "kept")
		return r
	}
	r := fill()
	p.Scrub(r, false)
	for _, n := range names {
		if _, ok := r.Header[n]; ok {
			t.Errorf("%s survived", n)
		}
	}
	if len(r.Header) != 2 {
		t.Errorf("headers left: %v", r.Header)
	}
	r = fill()
	p.Scrub(r, true)
	if len(r.Header) != len(names)+2 {
		t.Errorf("keepOverrides removed headers: %v", r.Header)
	}
}

// "post" is not POST: it would fall through to the "*" rule beside the
// POST rule, while a framework that upper-cases methods runs the POST
// handler. Such a method is 400 invalid_method, before anything else.
func TestDecideRefusesNonUpperCaseMethods(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource,
		gateway.RuleSpec{Methods: []string{"POST"}, Path: "/w/{workspace}/messages", Require: "message.send"},
		gateway.RuleSpec{Methods: []string{"*"}, Path: "/w/{workspace}/messages", Require: "member"},
		gateway.RuleSpec{Methods: []string{"*"}, Path: "/open", Require: "public"},
	)
	dave := f.token("dave") // member, but denied message.send
	check(t, "POST", decide(p, request("POST", "/w/acme/messages", dave)), want{403, "forbidden", "message.send"})
	for _, m := range []string{"post", "Post", "pOST", "get", "DELETe", "M-SEARCH\u00e9"} {
		r := request("POST", "/w/acme/messages", dave)
		r.Method = m
		check(t, m, decide(p, r), want{400, "invalid_method", ""})
		r = request("GET", "/open", "")
		r.Method = m
		check(t, m+" on a public rule", decide(p, r), want{400, "invalid_method", ""})
	}
	for _, m := range []string{"GET", "PROPFIND", "M-SEARCH", "BREW_COFFEE", "X.1"} {
		r := request("GET", "/open", "")
		r.Method = m
		check(t, m, decide(p, r), want{})
	}
}

// A subject that would change on the way to the upstream is an invalid
// token at the gateway: "alice " is not alice, and " apikey:<id>" is
// neither a user nor the key.
func TestDecideRefusesSubjectsThatChangeOnTheWire(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	for _, sub := range []string{"alice ", " alice", "alice\t", "\u00a0alice", " apikey:abc", "apikey:abc", "ApiKey:abc"} {
		for _, path := range []string{"/w/acme/messages", "/me", "/healthz"} {
			d := decide(p, request("GET", path, f.token(sub)))
			check(t, path+" as "+sub, d, want{401, "invalid_token", ""})
		}
	}
	check(t, "alice", decide(p, request("GET", "/w/acme/messages", f.token("alice"))), want{})
}

// A member stored with an empty restriction list is restricted to nothing
// of that type. Forwarded, the list would be an empty header, which reads
// as "unrestricted" upstream; the gateway denies the member instead.
func TestDecideEmptyRestrictionListFailsClosed(t *testing.T) {
	f := newFixture(t)
	f.update(func(tx store.Tx) error {
		return tx.PutMember(store.Membership{WorkspaceID: f.acme.ID, UserID: "nina", Roles: []string{"operator"},
			Restrictions: map[string][]string{"instance": {}, "chat": {"assigned_only"}}})
	})
	p := f.policy(gateway.DefaultWorkspaceSource)
	nina := f.token("nina")
	for _, path := range []string{"/w/acme/instances/i1/chats", "/w/acme/messages", "/w/acme"} {
		d := decide(p, request("GET", path, nina))
		if d.Allowed {
			h := http.Header{}
			d.SetIdentityHeaders(h)
			t.Errorf("%s: allowed, forwarding %v", path, h)
			continue
		}
		if d.Problem.Status != 403 || d.Problem.Code != "restricted" {
			t.Errorf("%s: %d %s, want 403 restricted", path, d.Problem.Status, d.Problem.Code)
		}
	}
	// Rules that need no workspace are unaffected.
	check(t, "/me", decide(p, request("GET", "/me", nina)), want{})
}
