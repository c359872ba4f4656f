package admin_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// Every mutation appends one event naming actor, action and target;
// GET /audit lists them newest first, paginated, to workspace.admin only.
func TestAudit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	alice := h.token("alice")
	h.knownTo("alice", "bob", "olga")
	type ev struct{ actor, action, target string }
	var want []ev // oldest first
	step := func(e ev, method, path, tok string, body any, status int) *resp {
		t.Helper()
		h.clock.Advance(time.Millisecond)
		r := h.do(method, path, tok, body).want(status)
		want = append(want, e)
		return r
	}

	var ws wsView
	step(ev{"alice", "workspace.create", ""}, "POST", "/v1/workspaces", alice, map[string]any{"name": "Acme"}, http.StatusCreated).decode(&ws)
	want[0].target = "workspace:" + ws.ID
	wsTarget := "workspace:" + ws.ID
	other := h.newWorkspace("zoe", "Other") // its events stay its own
	h.knownTo("zoe", "bob")
	h.putMember("zoe", other, "bob", map[string]any{"roles": []string{"member"}})

	step(ev{"alice", "workspace.update", wsTarget}, "PATCH", "/v1/workspaces/acme", alice, map[string]any{"name": "Acme Inc"}, http.StatusOK)
	step(ev{"alice", "member.put", "user:bob"}, "PUT", "/v1/workspaces/acme/members/bob", alice, map[string]any{"roles": []string{"member"}}, http.StatusCreated)
	step(ev{"alice", "member.put", "user:olga"}, "PUT", "/v1/workspaces/acme/members/olga", alice, map[string]any{"roles": []string{"operator"}}, http.StatusCreated)
	step(ev{"alice", "role.create", "role:support"}, "POST", "/v1/workspaces/acme/roles", alice, map[string]any{"slug": "support", "name": "Support", "permissions": []string{"contact.read"}}, http.StatusCreated)
	step(ev{"alice", "role.update", "role:support"}, "PATCH", "/v1/workspaces/acme/roles/support", alice, map[string]any{"permissions": []string{"contact.*"}}, http.StatusOK)
	step(ev{"alice", "member.put", "user:bob"}, "PUT", "/v1/workspaces/acme/members/bob", alice, map[string]any{"roles": []string{"support"}}, http.StatusOK)
	step(ev{"alice", "role.create", "role:temp"}, "POST", "/v1/workspaces/acme/roles", alice, map[string]any{"slug": "temp", "name": "Temp", "permissions": []string{}}, http.StatusCreated)
	step(ev{"alice", "role.delete", "role:temp"}, "DELETE", "/v1/workspaces/acme/roles/temp", alice, nil, http.StatusNoContent)
	var inv inviteView
	step(ev{"alice", "invite.create", ""}, "POST", "/v1/workspaces/acme/invites", alice, map[string]any{"email": "carol@example.com", "roles": []string{"member"}}, http.StatusCreated).decode(&inv)
	want[len(want)-1].target = "invite:" + inv.ID
	step(ev{"carol", "invite.accept", "invite:" + inv.ID}, "POST", "/v1/invites/accept", h.token("carol"), map[string]any{"token": inv.Token}, http.StatusOK)
	var inv2 inviteView
	step(ev{"alice", "invite.create", ""}, "POST", "/v1/workspaces/acme/invites", alice, map[string]any{"email": "dave@example.com", "roles": []string{"member"}}, http.StatusCreated).decode(&inv2)
	want[len(want)-1].target = "invite:" + inv2.ID
	step(ev{"alice", "invite.revoke", "invite:" + inv2.ID}, "DELETE", "/v1/workspaces/acme/invites/"+inv2.ID, alice, nil, http.StatusNoContent)
	step(ev{"alice", "member.delete", "user:bob"}, "DELETE", "/v1/workspaces/acme/members/bob", alice, nil, http.StatusNoContent)
	step(ev{"carol", "member.delete", "user:carol"}, "DELETE", "/v1/workspaces/acme/members/carol", h.token("carol"), nil, http.StatusNoContent)
	step(ev{"alice", "workspace.delete", wsTarget}, "DELETE", "/v1/workspaces/acme", alice, nil, http.StatusNoContent)
	step(ev{"root", "workspace.restore", wsTarget}, "POST", "/v1/workspaces/"+ws.ID+"/restore", h.token("root"), nil, http.StatusOK)

	// Reads and refusals add nothing.
	h.do("GET", "/v1/workspaces/acme/members", alice, nil).want(http.StatusOK)
	h.do("PUT", "/v1/workspaces/acme/members/olga", h.token("olga"), map[string]any{"roles": []string{"owner"}}).want(http.StatusForbidden)

	check := func(got []auditView) {
		t.Helper()
		if len(got) != len(want) {
			for _, e := range got {
				t.Logf("%s %s %s", e.Actor, e.Action, e.Target)
			}
			t.Fatalf("%d events, want %d", len(got), len(want))
		}
		for i, e := range got {
			w := want[len(want)-1-i] // newest first
			if e.Actor != w.actor || e.Action != w.action || e.Target != w.target || e.WorkspaceID != ws.ID {
				t.Errorf("event %d: %s %s %s (workspace %s), want %s %s %s", i, e.Actor, e.Action, e.Target, e.WorkspaceID, w.actor, w.action, w.target)
			}
			if e.ID == "" || e.Time.IsZero() {
				t.Errorf("event %d lacks an id or a time: %+v", i, e)
			}
			if i > 0 && (e.ID >= got[i-1].ID || e.Time.After(got[i-1].Time)) {
				t.Errorf("event %d (%s, %v) is not older than event %d (%s, %v)", i, e.ID, e.Time, i-1, got[i-1].ID, got[i-1].Time)
			}
		}
	}

	var all page[auditView]
	h.do("GET", "/v1/workspaces/acme/audit", alice, nil).want(http.StatusOK).decode(&all)
	if all.NextCursor != nil {
		t.Errorf("one page expected, got a cursor")
	}
	check(all.Items)

	// Pages of 4 give the same sequence.
	var paged []auditView
	cursor := ""
	for range 20 {
		path := "/v1/workspaces/" + ws.ID + "/audit?limit=4"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		var p page[auditView]
		h.do("GET", path, alice, nil).want(http.StatusOK).decode(&p)
		if len(p.Items) > 4 {
			t.Fatalf("page of %d", len(p.Items))
		}
		paged = append(paged, p.Items...)
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
	}
	check(paged)

	// Summaries carry before and after.
	for i, e := range all.Items {
		step := len(all.Items) - 1 - i // index in want, oldest first
		var s map[string]json.RawMessage
		if err := json.Unmarshal(e.Summary, &s); err != nil {
			t.Errorf("%s: summary %s: %v", e.Action, e.Summary, err)
			continue
		}
		switch e.Action {
		case "workspace.update", "role.update":
			if s["before"] == nil || s["after"] == nil {
				t.Errorf("%s summary %s", e.Action, e.Summary)
			}
		case "member.put":
			// Steps 2 and 3 added bob and olga (no before); step 6 replaced bob.
			created := step == 2 || step == 3
			if s["after"] == nil || created != (s["before"] == nil) {
				t.Errorf("%s (step %d) summary %s", e.Action, step, e.Summary)
			}
		case "member.delete", "role.delete":
			if s["before"] == nil {
				t.Errorf("%s summary %s", e.Action, e.Summary)
			}
		}
	}

	h.do("GET", "/v1/workspaces/acme/audit", h.token("olga"), nil).forbidden("workspace.admin")
	h.do("GET", "/v1/workspaces/acme/audit", h.token("bob"), nil).problem(http.StatusNotFound, "workspace_not_found")
	h.do("GET", "/v1/workspaces/acme/audit?limit=0", alice, nil).invalid("limit")
	h.do("GET", "/v1/workspaces/acme/audit?cursor=***", alice, nil).invalid("cursor")

	var theirs page[auditView]
	h.do("GET", "/v1/workspaces/other/audit", h.token("zoe"), nil).want(http.StatusOK).decode(&theirs)
	if len(theirs.Items) != 2 || theirs.Items[0].Action != "member.put" || theirs.Items[1].Action != "workspace.create" {
		t.Errorf("the other workspace's audit: %+v", theirs.Items)
	}
}
