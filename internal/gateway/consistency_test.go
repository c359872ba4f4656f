package gateway_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// The gateway honours Gatehouse-Consistency (this store's reached
// revisions pass; malformed, other-store, future and repeated tokens are
// 400 invalid_consistency_token) and forwards the revision it decided on.
func TestDecideConsistencyToken(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	f.update(func(tx store.Tx) error { return nil })
	rev := f.store.Revision()
	good := store.FormatToken(f.store.ID(), rev)

	// Public allows get the header too: caddymodule's TestUpstreamGetsRevision.
	for _, path := range []string{"/w/acme/messages", "/w/acme"} {
		r := request("GET", path, f.token("olga"))
		r.Header.Set(gateway.HeaderConsistency, good)
		d := decide(p, r)
		if !d.Allowed {
			t.Fatalf("%s with a valid token: denied %+v", path, d.Problem)
		}
		h := http.Header{gateway.HeaderConsistency: {good}}
		d.SetIdentityHeaders(h)
		if got := h.Get(gateway.HeaderRevision); got != strconv.FormatUint(rev, 10) {
			t.Errorf("%s: %s = %q, want %d", path, gateway.HeaderRevision, got, rev)
		}
		if _, ok := h[gateway.HeaderConsistency]; ok {
			t.Errorf("%s: Gatehouse-Consistency is forwarded", path)
		}
	}

	for name, vals := range map[string][]string{
		"malformed":   {"r1.x"},
		"other store": {store.FormatToken("otherstore", rev)},
		"future":      {store.FormatToken(f.store.ID(), rev+1)},
		"two":         {good, good},
	} {
		r := request("GET", "/w/acme/messages", f.token("olga"))
		r.Header[gateway.HeaderConsistency] = vals
		d := decide(p, r)
		if d.Allowed || d.Problem == nil || d.Problem.Status != http.StatusBadRequest || d.Problem.Code != problem.CodeInvalidConsistencyToken {
			t.Errorf("%s: allowed=%v problem=%+v, want 400 invalid_consistency_token", name, d.Allowed, d.Problem)
		}
	}

	// The forwarded revision follows the writes.
	f.update(func(tx store.Tx) error { return nil })
	d := decide(p, request("GET", "/w/acme/messages", f.token("olga")))
	h := http.Header{}
	d.SetIdentityHeaders(h)
	if got := h.Get(gateway.HeaderRevision); got != strconv.FormatUint(rev+1, 10) {
		t.Errorf("after a write: %s = %q, want %d", gateway.HeaderRevision, got, rev+1)
	}
}
