package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/signing"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// TestDecideReasons: every denial names its stable reason next to its code.
func TestDecideReasons(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	expired, err := signing.Sign(f.key, signing.TokenSpec{Subject: "alice", TTL: -time.Hour})
	must(t, err)
	revoked, _ := f.putKey(f.acme, []string{"message.read"}, func(k *store.APIKey) {
		now := time.Now().UTC()
		k.RevokedAt = &now
	})
	lapsed, _ := f.putKey(f.acme, []string{"message.read"}, func(k *store.APIKey) {
		past := time.Now().UTC().Add(-time.Hour)
		k.ExpiresAt = &past
	})
	tok := func(u string) string { return f.token(u) }
	cases := []struct {
		method, target, token string
		status                int
		code, reason          string
	}{
		{"GET", "/w/acme/../x", tok("alice"), 400, "invalid_path", "invalid_path"},
		{"get", "/w/acme/messages", tok("alice"), 400, "invalid_method", "invalid_method"},
		{"DELETE", "/w/acme/messages", tok("alice"), 405, "method_not_allowed", "method_not_allowed"},
		{"GET", "/nowhere", tok("alice"), 403, "forbidden", "no_rule"},
		{"GET", "/nowhere", "", 401, "unauthenticated", "unauthenticated"},
		{"GET", "/w/acme/messages", "", 401, "unauthenticated", "unauthenticated"},
		{"GET", "/w/acme/messages", expired, 401, "invalid_token", "token_expired"},
		{"GET", "/w/acme/messages", "not-a-jwt", 401, "invalid_token", "invalid_token"},
		{"GET", "/w/acme/messages", revoked, 401, "invalid_token", "key_revoked"},
		{"GET", "/w/acme/messages", lapsed, 401, "invalid_token", "key_expired"},
		{"GET", "/w/acme/messages", tok("bob"), 404, "workspace_not_found", "not_member"},
		{"GET", "/w/nope/messages", tok("bob"), 404, "workspace_not_found", "not_member"},
		{"GET", "/w/gone/messages", tok("bob"), 404, "workspace_not_found", "not_member"},
		{"GET", "/w/gone/messages", tok("alice"), 404, "workspace_not_found", "workspace_deleted"},
		{"GET", "/w/acme/contacts/export", tok("olga"), 403, "forbidden", "missing_permission"},
		{"POST", "/w/acme/messages", tok("dave"), 403, "forbidden", "denied_by_member_deny"},
		{"GET", "/w/acme/instances/i9/chats", tok("olga"), 403, "restricted", "restricted"},
		{"GET", "/billing-admin/x", tok("alice"), 403, "forbidden", "global_admin_required"},
	}
	for _, c := range cases {
		d := decide(p, request(c.method, c.target, c.token))
		name := c.method + " " + c.target
		if d.Allowed {
			t.Errorf("%s: allowed", name)
			continue
		}
		if d.Problem.Status != c.status || d.Problem.Code != c.code || d.Problem.Reason != c.reason {
			t.Errorf("%s: got %d %s/%s (%s), want %d %s/%s", name, d.Problem.Status, d.Problem.Code,
				d.Problem.Reason, d.Problem.Detail, c.status, c.code, c.reason)
		}
	}
}

// TestNotMemberIndistinguishable: to a non-member, an unknown workspace, a
// deleted one and one they are not a member of answer alike, byte for
// byte (the workspace named in the body aside, which is the caller's own
// input), headers included.
func TestNotMemberIndistinguishable(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	bob := f.token("bob")
	answer := func(ref string) string {
		d := decide(p, request("GET", "/w/"+ref+"/messages", bob))
		if d.Allowed {
			t.Fatalf("%s: allowed", ref)
		}
		rec := httptest.NewRecorder()
		gateway.WriteDecisionDenial(rec, d)
		if got := rec.Header().Get(gateway.HeaderDecisionID); len(got) != gateway.DecisionIDLen {
			t.Errorf("%s: decision id %q", ref, got)
		}
		// The id differs per decision; the length follows the ref.
		h := rec.Result().Header
		h.Del(gateway.HeaderDecisionID)
		h.Del("Content-Length")
		var b strings.Builder
		must(t, h.Write(&b))
		return strings.ReplaceAll(b.String()+rec.Body.String(), ref, "WS")
	}
	unknown := answer("nope")
	for _, ref := range []string{"acme", "gone", f.gone.ID[:len(f.gone.ID)-1] + "1", f.gone.ID} {
		if got := answer(ref); got != unknown {
			t.Errorf("%s answers differently from an unknown workspace:\n%s\n---\n%s", ref, got, unknown)
		}
	}
}

// TestDecisionIDs: every decision has a fresh fixed-length id, named on
// the denial and forwarded upstream on allow; an incoming one is scrubbed.
func TestDecisionIDs(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	r := request("GET", "/w/acme/messages", f.token("alice"))
	r.Header.Set(gateway.HeaderUpstreamDecisionID, "spoofed")
	p.Scrub(r, false)
	if r.Header.Get(gateway.HeaderUpstreamDecisionID) != "" {
		t.Fatal("an incoming X-Gatehouse-Decision-Id survived the scrub")
	}
	seen := map[string]bool{}
	for range 100 {
		d := decide(p, r)
		if !d.Allowed {
			t.Fatalf("denied: %+v", d.Problem)
		}
		h := http.Header{}
		d.SetIdentityHeaders(h)
		id := h.Get(gateway.HeaderUpstreamDecisionID)
		if len(id) != gateway.DecisionIDLen || id != d.ID.String() || seen[id] {
			t.Fatalf("upstream decision id %q (seen before: %v)", id, seen[id])
		}
		seen[id] = true
	}
	d := decide(p, request("GET", "/w/acme/messages", ""))
	rec := httptest.NewRecorder()
	gateway.WriteDecisionDenial(rec, d)
	if got := rec.Header().Get(gateway.HeaderDecisionID); got != d.ID.String() || len(got) != gateway.DecisionIDLen {
		t.Errorf("denial decision id %q, decision %q", got, d.ID.String())
	}
	if !strings.Contains(rec.Body.String(), `"reason":"`+problem.ReasonUnauthenticated+`"`) {
		t.Errorf("body has no reason: %s", rec.Body.String())
	}
}
