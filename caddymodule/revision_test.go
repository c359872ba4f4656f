package caddymodule

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// A mutation through the API answers Gatehouse-Revision; the next allowed
// gateway request reaches the upstream with X-Gatehouse-Revision equal to
// that revision (a client-sent one never), on a member rule and on a
// public one; the token is accepted as Gatehouse-Consistency and not
// forwarded; a bad token is 400 invalid_consistency_token before the
// upstream.
func TestUpstreamGetsRevision(t *testing.T) {
	s := startGateway(t)
	req, err := http.NewRequest("PATCH", s.url("/gatehouse/v1/workspaces/acme"), strings.NewReader(`{"name":"Acme 2"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token("alice"))
	req.Header.Set("Content-Type", "application/json")
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("PATCH workspace: %d %s", res.StatusCode, b)
	}
	tok := res.Header.Get("Gatehouse-Revision")
	id, rev, err := store.ParseToken(tok)
	if err != nil {
		t.Fatalf("Gatehouse-Revision %q: %v", tok, err)
	}
	db := pooledStore(t, s.storePath())
	// The store may be past the write already: a sighting recorded
	// after the request commits on its own.
	if id != db.ID() || rev == 0 || rev > db.Revision() {
		t.Fatalf("token %q, store %s at %d", tok, db.ID(), db.Revision())
	}

	for _, path := range []string{"/w/acme/instances/i1/chats", "/healthz"} {
		g := s.do("GET", path, s.token("olga"), "X-Gatehouse-Revision", "999999", "Gatehouse-Consistency", tok)
		if g.StatusCode != http.StatusOK {
			t.Fatalf("%s with the token: %d %s", path, g.StatusCode, g.body)
		}
		got, _ := s.upstream.received()
		// The applied revision (spec §10): at least the token's, and no
		// later than the store's now. It may be later than the token's:
		// the gateway records a user's sighting in a commit of its own
		// after the request, concurrently with this one.
		v := got.Values("X-Gatehouse-Revision")
		applied, err := strconv.ParseUint(strings.Join(v, ","), 10, 64)
		if len(v) != 1 || err != nil || applied < rev || applied > db.Revision() {
			t.Errorf("%s: upstream got X-Gatehouse-Revision %q, want exactly one value from %d to %d", path, v, rev, db.Revision())
		}
		if v := got.Get("Gatehouse-Consistency"); v != "" {
			t.Errorf("%s: Gatehouse-Consistency %q reached the upstream", path, v)
		}
	}

	_, hits := s.upstream.received()
	for _, bad := range []string{"nonsense", store.FormatToken("zzzzzz", rev), store.FormatToken(id, rev+1000)} {
		g := s.do("GET", "/w/acme/instances/i1/chats", s.token("olga"), "Gatehouse-Consistency", bad)
		if g.StatusCode != http.StatusBadRequest || g.problem(t)["code"] != "invalid_consistency_token" {
			t.Errorf("token %q: %d %s, want 400 invalid_consistency_token", bad, g.StatusCode, g.body)
		}
	}
	if _, after := s.upstream.received(); after != hits {
		t.Errorf("refused requests reached the upstream (%d -> %d hits)", hits, after)
	}
}
