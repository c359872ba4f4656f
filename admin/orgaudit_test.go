package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// TestOrgAudit (decision 8): the organization's events are listed at
// GET /v1/orgs/{org}/audit for organization.admin, newest first, with the
// workspace audit's filters and pagination; they never show in a
// workspace's audit, nor a workspace's in the organization's.
func TestOrgAudit(t *testing.T) {
	h := newOrgHarness(t)
	acme := h.postOrg("alice", "Acme")
	h.knownTo("alice", "bob")
	ws := h.newWorkspace("alice", "Support")
	h.intoOrg(ws.ID, acme.ID)
	h.do("PUT", "/v1/orgs/"+acme.ID+"/members/bob", h.token("alice"), map[string]any{"roles": []string{"manager"}}).want(http.StatusCreated)
	h.do("PATCH", "/v1/orgs/"+acme.ID, h.token("bob"), map[string]any{"name": "Acme 2"}).want(http.StatusOK)
	h.do("PUT", "/v1/orgs/"+acme.ID+"/plan", h.token("alice"), map[string]any{"plan": "pro"}).want(http.StatusOK)
	audit := "/v1/orgs/" + acme.Slug + "/audit"

	actions := func(path string) ([]string, page[auditView]) {
		t.Helper()
		var pg page[auditView]
		h.do("GET", path, h.token("alice"), nil).want(http.StatusOK).decode(&pg)
		var out []string
		for _, ev := range pg.Items {
			out = append(out, ev.Action)
			if ev.WorkspaceID != acme.ID {
				t.Errorf("event %+v is not the organization's", ev)
			}
		}
		return out, pg
	}
	got, _ := actions(audit)
	wantStrings(t, "organization events", got, []string{"organization.plan", "organization.update", "org_member.put", "organization.create"})
	got, _ = actions(audit + "?action=org_member.put")
	wantStrings(t, "filtered by action", got, []string{"org_member.put"})
	got, _ = actions(audit + "?actor=bob")
	wantStrings(t, "filtered by actor", got, []string{"organization.update"})
	got, _ = actions(audit + "?since=" + url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339)))
	if len(got) != 0 {
		t.Errorf("events from the future: %v", got)
	}
	got, pg := actions(audit + "?limit=3")
	if len(got) != 3 || pg.NextCursor == nil {
		t.Fatalf("first page %v", got)
	}
	got, _ = actions(audit + "?limit=3&cursor=" + *pg.NextCursor)
	wantStrings(t, "second page", got, []string{"organization.create"})

	h.do("GET", audit+"?since=yesterday", h.token("alice"), nil).invalid("since")
	h.do("GET", audit+"?actions=x", h.token("alice"), nil).invalid("actions")
	h.do("GET", audit, h.token("bob"), nil).forbidden("organization.admin")
	h.do("GET", audit, h.token("eve"), nil).problem(http.StatusNotFound, "organization_not_found")
	h.do("GET", audit, h.token("root"), nil).want(http.StatusOK)

	var wsEvents []store.AuditEvent
	h.view(func(tx store.Tx) (err error) {
		wsEvents, _, err = tx.Audit(ws.ID, "", 0)
		return err
	})
	for _, ev := range wsEvents {
		if ev.WorkspaceID != ws.ID || slices.Contains([]string{"organization.plan", "org_member.put"}, ev.Action) {
			t.Errorf("workspace audit holds %+v", ev)
		}
	}
	var orgEvents []store.AuditEvent
	must(t, h.store.View(context.Background(), func(tx store.Tx) (err error) {
		orgEvents, _, err = tx.Audit(acme.ID, "", 0)
		return err
	}))
	for _, ev := range orgEvents {
		if ev.Action == "workspace.create" {
			t.Errorf("organization audit holds %+v", ev)
		}
	}
}
