package admin_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Every 2xx that changed something answers Gatehouse-Revision with the
// token of its commit; a read and a failed mutation do not.
func TestMutationAnswersGatehouseRevision(t *testing.T) {
	h := newHarness(t)
	// alice's first request queues a background sighting write: let it
	// land first, or it moves the revision under the checks.
	h.known("alice")
	h.sighted("alice")
	r := h.do("POST", "/v1/workspaces", h.token("alice"), map[string]any{"name": "Acme"}).want(http.StatusCreated)
	tok := r.header.Get("Gatehouse-Revision")
	id, rev, err := store.ParseToken(tok)
	if err != nil {
		t.Fatalf("Gatehouse-Revision %q: %v", tok, err)
	}
	if id != h.store.ID() || rev != h.store.Revision() || rev == 0 {
		t.Fatalf("token %q names %s/%d, store is %s/%d", tok, id, rev, h.store.ID(), h.store.Revision())
	}
	slug := r.str("slug")

	r2 := h.do("PATCH", "/v1/workspaces/"+slug, h.token("alice"), map[string]any{"name": "Acme 2"}).want(http.StatusOK)
	_, rev2, err := store.ParseToken(r2.header.Get("Gatehouse-Revision"))
	if err != nil || rev2 <= rev {
		t.Fatalf("second mutation: token %q (%v), want a revision after %d", r2.header.Get("Gatehouse-Revision"), err, rev)
	}

	if got := h.do("GET", "/v1/workspaces/"+slug, h.token("alice"), nil).want(http.StatusOK).header.Get("Gatehouse-Revision"); got != "" {
		t.Errorf("a GET answered Gatehouse-Revision %q", got)
	}
	before := h.store.Revision()
	bad := h.do("PATCH", "/v1/workspaces/"+slug, h.token("alice"), map[string]any{"name": ""})
	if bad.status/100 == 2 {
		t.Fatalf("an empty name was accepted: %d", bad.status)
	}
	if got := bad.header.Get("Gatehouse-Revision"); got != "" {
		t.Errorf("a failed mutation answered Gatehouse-Revision %q", got)
	}
	if h.store.Revision() != before {
		t.Errorf("a failed mutation moved the revision from %d to %d", before, h.store.Revision())
	}
}

// Gatehouse-Consistency: this store's token is accepted on reads and
// writes; a malformed one, another database's, or one from the future is
// 400 invalid_consistency_token and changes nothing.
func TestConsistencyTokenOnAPI(t *testing.T) {
	h := newHarness(t)
	// alice's first request queues a background sighting write: let it
	// land first, or it moves the revision under the checks.
	h.known("alice")
	h.sighted("alice")
	r := h.do("POST", "/v1/workspaces", h.token("alice"), map[string]any{"name": "Acme"}).want(http.StatusCreated)
	tok, slug := r.header.Get("Gatehouse-Revision"), r.str("slug")

	h.doWith("GET", "/v1/workspaces/"+slug, h.token("alice"), nil, map[string]string{"Gatehouse-Consistency": tok}).want(http.StatusOK)
	h.doWith("PATCH", "/v1/workspaces/"+slug, h.token("alice"), map[string]any{"name": "Acme 2"},
		map[string]string{"Gatehouse-Consistency": tok}).want(http.StatusOK)

	id, rev, _ := store.ParseToken(tok)
	other := strings.Repeat("a", len(id))
	if other == id {
		other = strings.Repeat("b", len(id))
	}
	for name, bad := range map[string]string{
		"malformed":     "garbage",
		"leading zero":  "r1." + id + ".0" + strconv.FormatUint(rev, 10),
		"other store":   store.FormatToken(other, rev),
		"future":        store.FormatToken(id, h.store.Revision()+1),
		"empty":         "",
		"wrong version": "r2." + id + "." + strconv.FormatUint(rev, 10),
	} {
		before := h.store.Revision()
		h.doWith("GET", "/v1/workspaces/"+slug, h.token("alice"), nil,
			map[string]string{"Gatehouse-Consistency": bad}).problem(http.StatusBadRequest, problem.CodeInvalidConsistencyToken)
		res := h.doWith("PATCH", "/v1/workspaces/"+slug, h.token("alice"), map[string]any{"name": "Changed " + name},
			map[string]string{"Gatehouse-Consistency": bad}).problem(http.StatusBadRequest, problem.CodeInvalidConsistencyToken)
		if got := res.header.Get("Gatehouse-Revision"); got != "" {
			t.Errorf("%s: the refusal answered Gatehouse-Revision %q", name, got)
		}
		if h.store.Revision() != before {
			t.Errorf("%s: a refused request committed (revision %d -> %d)", name, before, h.store.Revision())
		}
	}
	if got := h.do("GET", "/v1/workspaces/"+slug, h.token("alice"), nil).want(http.StatusOK).str("name"); got != "Acme 2" {
		t.Errorf("name = %q: a refused PATCH changed it", got)
	}
}
