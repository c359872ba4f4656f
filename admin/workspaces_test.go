package admin_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/admin"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

func TestCreateWorkspace(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	alice := h.token("alice")

	var ws wsView
	r := h.do("POST", "/v1/workspaces", alice, map[string]any{"name": "Café  Ünïcode Team", "description": "the café"}).want(http.StatusCreated)
	r.decode(&ws)
	if ws.Slug != "cafe-unicode-team" || ws.Name != "Café  Ünïcode Team" || ws.Description != "the café" {
		t.Errorf("created %+v", ws)
	}
	if !strings.HasPrefix(ws.ID, "ws_") || ws.CreatedAt.IsZero() || ws.DeletedAt != nil {
		t.Errorf("created %+v", ws)
	}
	wantStrings(t, "creator's roles", ws.Roles, []string{"owner"})
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}

	// The creator is a member with creator_role, in the store and at the gateway.
	m, ok := h.member(ws.ID, "alice")
	if !ok {
		t.Fatal("the creator is not a member")
	}
	wantStrings(t, "stored roles", m.Roles, []string{"owner"})
	if a := h.access("alice", ws.Slug); !a.Member || a.WorkspaceID != ws.ID {
		t.Errorf("gateway access of the creator: %+v", a)
	}
	var stored store.Workspace
	h.view(func(tx store.Tx) error {
		var err error
		stored, err = tx.WorkspaceBySlug("cafe-unicode-team")
		return err
	})
	if stored.ID != ws.ID || stored.Name != ws.Name {
		t.Errorf("stored %+v", stored)
	}

	// An explicit slug is kept; taking it again is a conflict.
	r = h.do("POST", "/v1/workspaces", alice, map[string]any{"name": "Whatever", "slug": "my-team"}).want(http.StatusCreated)
	if r.str("slug") != "my-team" {
		t.Errorf("explicit slug: %s", r.raw)
	}
	h.do("POST", "/v1/workspaces", h.token("bob"), map[string]any{"name": "Other", "slug": "my-team"}).problem(http.StatusConflict, "slug_taken")
	h.do("POST", "/v1/workspaces", alice, map[string]any{"name": "x", "slug": "cafe-unicode-team"}).problem(http.StatusConflict, "slug_taken")

	// A derived slug that is taken, reserved or too short gets a suffix.
	for name, base := range map[string]string{"My Team": "my-team", "Admin": "admin", "X": "x", "!!!": ""} {
		r = h.do("POST", "/v1/workspaces", alice, map[string]any{"name": name}).want(http.StatusCreated)
		slug := r.str("slug")
		re := regexp.MustCompile(`^` + regexp.QuoteMeta(base) + `-[a-z0-9_-]{6}$`)
		if base == "" {
			re = regexp.MustCompile(`^ws-[a-z0-9_-]{6}$`)
		}
		if !re.MatchString(slug) {
			t.Errorf("name %q: slug %q, want %s", name, slug, re)
		}
	}

	// Every creation is audited in its workspace.
	evs := h.state(ws.ID).Audit
	if len(evs) != 1 || evs[0].Action != "workspace.create" || evs[0].Actor != "alice" || evs[0].Target != "workspace:"+ws.ID {
		t.Errorf("audit of the creation: %+v", evs)
	}
}

func TestCreateWorkspaceValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	alice := h.token("alice")
	long := strings.Repeat("é", 100) // 100 characters, 200 bytes: fine
	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"missing name", map[string]any{"slug": "ok-slug"}, "name"},
		{"blank name", map[string]any{"name": "   "}, "name"},
		{"unknown field", map[string]any{"name": "Acme", "colour": "red"}, "colour"},
		{"wrong type", map[string]any{"name": 42}, "name"},
		{"wrong type of slug", map[string]any{"name": "Acme", "slug": []string{"a"}}, "slug"},
		{"name over 100 characters", map[string]any{"name": long + "é"}, "name"},
		{"name with a control character", map[string]any{"name": "a\u0007b"}, "name"},
		{"name with outer spaces", map[string]any{"name": " Acme"}, "name"},
		{"invalid slug", map[string]any{"name": "Acme", "slug": "Bad_Slug"}, "slug"},
		{"slug too short", map[string]any{"name": "Acme", "slug": "a"}, "slug"},
		{"slug ending with a hyphen", map[string]any{"name": "Acme", "slug": "acme-"}, "slug"},
		{"reserved slug", map[string]any{"name": "Acme", "slug": "admin"}, "slug"},
		{"reserved slug v1", map[string]any{"name": "Acme", "slug": "v1"}, "slug"},
		{"description too long", map[string]any{"name": "Acme", "description": strings.Repeat("d", 1001)}, "description"},
		{"body over 1 MiB", `{"name":"Acme","description":"` + strings.Repeat("d", 1<<20) + `"}`, ""},
		{"trailing garbage", `{"name":"Acme"} {"name":"Again"}`, ""},
		{"trailing text", `{"name":"Acme"}x`, ""},
		{"trailing bracket", `{"name":"Acme"}]`, ""},
		{"trailing brace", `{"name":"Acme"}}`, ""},
		{"not JSON", `name=Acme`, ""},
		{"truncated JSON", `{"name":"Acme"`, ""},
		{"empty body", ``, ""},
		{"an array", `[{"name":"Acme"}]`, ""},
		{"a string", `"Acme"`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := h.in(t)
			r := h.do("POST", "/v1/workspaces", alice, tc.body).invalid(tc.field)
			if d, _ := r.body["detail"].(string); d == "" || strings.Contains(d, "field  ") {
				t.Errorf("detail %q", d)
			}
		})
	}
	t.Run("non-JSON Content-Type", func(t *testing.T) {
		h := h.in(t)
		h.doWith("POST", "/v1/workspaces", alice, `{"name":"Acme"}`, map[string]string{"Content-Type": "text/plain"}).invalid("")
		h.doWith("POST", "/v1/workspaces", alice, `{"name":"Acme"}`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}).invalid("")
	})
	t.Run("JSON Content-Types", func(t *testing.T) {
		h := h.in(t)
		h.doWith("POST", "/v1/workspaces", alice, `{"name":"Acme"}`, map[string]string{"Content-Type": "application/json; charset=utf-8"}).want(http.StatusCreated)
		h.doWith("POST", "/v1/workspaces", alice, `{"name":"Acme"}`, map[string]string{"Content-Type": "application/merge-patch+json"}).want(http.StatusCreated)
		h.do("POST", "/v1/workspaces", alice, map[string]any{"name": long}).want(http.StatusCreated)
	})
	// Nothing of the refused requests was written.
	var n int
	h.view(func(tx store.Tx) error {
		ws, _, err := tx.Workspaces("", 0)
		n = len(ws)
		return err
	})
	if n != 3 {
		t.Errorf("%d workspaces stored, want the 3 accepted ones", n)
	}
}

func TestCreateWorkspaceReservedToGlobalAdmins(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *admin.Options) { o.WorkspaceCreation = admin.CreationGlobalAdmins })
	h.do("POST", "/v1/workspaces", h.token("alice"), map[string]any{"name": "Acme"}).problem(http.StatusForbidden, "forbidden")
	var n int
	h.view(func(tx store.Tx) error {
		ws, _, err := tx.Workspaces("", 0)
		n = len(ws)
		return err
	})
	if n != 0 {
		t.Fatalf("a refused creation stored %d workspaces", n)
	}
	r := h.do("POST", "/v1/workspaces", h.token("root"), map[string]any{"name": "Acme"}).want(http.StatusCreated)
	if m, ok := h.member(r.str("id"), "root"); !ok || m.Roles[0] != "owner" {
		t.Errorf("root is not the owner of the workspace it created: %+v", m)
	}
}

func TestListWorkspaces(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	alice := h.token("alice")
	want := map[string]bool{}
	var deleted wsView
	for i := range 9 {
		ws := h.newWorkspace("alice", fmt.Sprintf("Team %d", i))
		want[ws.ID] = true
		if i == 4 {
			deleted = ws
		}
	}
	h.do("DELETE", "/v1/workspaces/"+deleted.Slug, alice, nil).want(http.StatusNoContent)
	delete(want, deleted.ID)
	bobs := h.newWorkspace("bob", "Bob's")
	h.knownTo("alice", "carol")
	h.putMember("alice", wsView{Slug: "team-7"}, "carol", map[string]any{"roles": []string{"member"}})
	h.forgetDirectory("alice")

	for _, limit := range []int{1, 2, 3, 50} {
		seen := map[string]int{}
		cursor := ""
		pages := 0
		for {
			path := fmt.Sprintf("/v1/workspaces?limit=%d", limit)
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			var p page[wsView]
			h.do("GET", path, alice, nil).want(http.StatusOK).decode(&p)
			if len(p.Items) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(p.Items))
			}
			for _, ws := range p.Items {
				seen[ws.ID]++
				wantStrings(t, "roles in the list", ws.Roles, []string{"owner"})
				if ws.DeletedAt != nil {
					t.Errorf("deleted workspace listed: %+v", ws)
				}
			}
			pages++
			if pages > 20 {
				t.Fatal("pagination does not end")
			}
			if p.NextCursor == nil {
				break
			}
			cursor = *p.NextCursor
		}
		if len(seen) != len(want) {
			t.Errorf("limit %d: listed %d workspaces, want %d", limit, len(seen), len(want))
		}
		for id, n := range seen {
			if !want[id] || n != 1 {
				t.Errorf("limit %d: workspace %s listed %d times (wanted: %v)", limit, id, n, want[id])
			}
		}
		if limit == 50 && pages != 1 {
			t.Errorf("limit 50: %d pages", pages)
		}
	}

	// Only the caller's workspaces, with the caller's roles.
	var p page[wsView]
	h.do("GET", "/v1/workspaces", h.token("bob"), nil).want(http.StatusOK).decode(&p)
	if len(p.Items) != 1 || p.Items[0].ID != bobs.ID || p.NextCursor != nil {
		t.Errorf("bob's list: %+v", p)
	}
	h.do("GET", "/v1/workspaces", h.token("carol"), nil).want(http.StatusOK).decode(&p)
	if len(p.Items) != 1 || p.Items[0].Slug != "team-7" || p.Items[0].Roles[0] != "member" {
		t.Errorf("carol's list: %+v", p)
	}
	r := h.do("GET", "/v1/workspaces", h.token("dave"), nil).want(http.StatusOK)
	if !strings.Contains(string(r.raw), `"items":[]`) || !strings.Contains(string(r.raw), `"next_cursor":null`) {
		t.Errorf("empty list: %s", r.raw)
	}

	for _, q := range []string{"limit=0", "limit=501", "limit=abc", "limit=-1", "limit=1.5"} {
		h.do("GET", "/v1/workspaces?"+q, alice, nil).invalid("limit")
	}
	for _, q := range []string{"cursor=!!!", "cursor=%25", "cursor=a+b"} {
		h.do("GET", "/v1/workspaces?"+q, alice, nil).invalid("cursor")
	}
	h.do("GET", "/v1/workspaces?limit=500", alice, nil).want(http.StatusOK)
}

func TestGetWorkspace(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	gone := h.newWorkspace("alice", "Gone")
	h.do("DELETE", "/v1/workspaces/"+gone.Slug, h.token("alice"), nil).want(http.StatusNoContent)
	h.newWorkspace("bob", "Globex")

	for _, ref := range []string{ws.Slug, ws.ID} {
		var got wsView
		h.do("GET", "/v1/workspaces/"+ref, h.token("alice"), nil).want(http.StatusOK).decode(&got)
		if got.ID != ws.ID || got.Slug != "acme" || got.Name != "Acme" {
			t.Errorf("GET by %s: %+v", ref, got)
		}
		wantStrings(t, "roles", got.Roles, []string{"owner"})
	}
	for _, tc := range []struct{ who, ref string }{
		{"bob", ws.Slug}, {"bob", ws.ID}, // not a member
		{"alice", "globex"},                      // exists, not a member
		{"alice", "nope"},                        // unknown slug
		{"alice", "ws_nope"},                     // unknown id
		{"alice", gone.Slug}, {"alice", gone.ID}, // deleted
		{"root", ws.Slug}, // global admin, not a member
	} {
		r := h.do("GET", "/v1/workspaces/"+tc.ref, h.token(tc.who), nil).problem(http.StatusNotFound, "workspace_not_found")
		if r.body["workspace"] != tc.ref {
			t.Errorf("%s GET %s: workspace member %v", tc.who, tc.ref, r.body["workspace"])
		}
	}
}

func TestUpdateWorkspace(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	h.newWorkspace("bob", "Globex")
	h.knownTo("alice", "olga", "sam")
	h.putMember("alice", ws, "olga", map[string]any{"roles": []string{"operator"}})
	h.putMember("alice", ws, "sam", map[string]any{"roles": []string{"member"}, "grants": []string{"workspace.settings"}})
	alice := h.token("alice")

	var got wsView
	h.clock.Advance(time.Second)
	h.do("PATCH", "/v1/workspaces/acme", alice, map[string]any{"name": "Acme Inc", "description": "we sell anvils"}).want(http.StatusOK).decode(&got)
	if got.Name != "Acme Inc" || got.Description != "we sell anvils" || got.Slug != "acme" || !got.UpdatedAt.After(ws.CreatedAt) {
		t.Errorf("patched: %+v", got)
	}
	// workspace.settings alone is enough, by slug or id; the old slug is freed.
	h.do("PATCH", "/v1/workspaces/"+ws.ID, h.token("sam"), map[string]any{"slug": "acme-inc"}).want(http.StatusOK).decode(&got)
	if got.Slug != "acme-inc" || got.Name != "Acme Inc" {
		t.Errorf("patched slug: %+v", got)
	}
	h.do("GET", "/v1/workspaces/acme", alice, nil).problem(http.StatusNotFound, "workspace_not_found")
	h.do("GET", "/v1/workspaces/acme-inc", alice, nil).want(http.StatusOK)
	if a := h.access("alice", "acme"); a.Member {
		t.Error("the gateway still resolves the old slug")
	}
	if a := h.access("alice", "acme-inc"); !a.Member {
		t.Error("the gateway does not resolve the new slug")
	}
	h.do("POST", "/v1/workspaces", h.token("carol"), map[string]any{"name": "x", "slug": "acme"}).want(http.StatusCreated)
	// Setting the current slug again is no conflict.
	h.do("PATCH", "/v1/workspaces/acme-inc", alice, map[string]any{"slug": "acme-inc"}).want(http.StatusOK)

	h.refused(ws.ID, func() *resp {
		r := h.do("PATCH", "/v1/workspaces/acme-inc", h.token("olga"), map[string]any{"name": "Olga's"}).forbidden("workspace.settings")
		if r.body["workspace"] != "acme-inc" {
			t.Errorf("403 workspace member: %v", r.body["workspace"])
		}
		return r
	})
	h.refused(ws.ID, func() *resp {
		return h.do("PATCH", "/v1/workspaces/acme-inc", alice, map[string]any{"slug": "globex"}).problem(http.StatusConflict, "slug_taken")
	})
	h.refused(ws.ID, func() *resp {
		return h.do("PATCH", "/v1/workspaces/acme-inc", h.token("bob"), map[string]any{"name": "Mine"}).problem(http.StatusNotFound, "workspace_not_found")
	})
	for _, tc := range []struct {
		body  any
		field string
	}{
		{map[string]any{}, ""},
		{map[string]any{"name": ""}, "name"},
		{map[string]any{"name": nil, "slug": nil}, ""},
		{map[string]any{"slug": "admin"}, "slug"},
		{map[string]any{"slug": "UPPER"}, "slug"},
		{map[string]any{"id": "ws_other"}, "id"},
		{map[string]any{"description": 5}, "description"},
	} {
		h.refused(ws.ID, func() *resp {
			return h.do("PATCH", "/v1/workspaces/acme-inc", alice, tc.body).invalid(tc.field)
		})
	}
}

func TestDeleteAndRestoreWorkspace(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	h.knownTo("alice", "olga")
	h.putMember("alice", ws, "olga", map[string]any{"roles": []string{"operator"}, "grants": []string{"workspace.settings", "workspace.members", "workspace.roles"}})
	h.forgetDirectory("alice")
	alice, olga, root := h.token("alice"), h.token("olga"), h.token("root")

	// Warm the gateway's cache: the deletion must be seen at once anyway.
	if !h.access("olga", "acme").Member || !h.access("olga", ws.ID).Member {
		t.Fatal("olga is not a member")
	}
	h.refused(ws.ID, func() *resp {
		return h.do("DELETE", "/v1/workspaces/acme", olga, nil).forbidden("workspace.admin")
	})
	h.refused(ws.ID, func() *resp {
		return h.do("POST", "/v1/workspaces/acme/restore", root, nil).problem(http.StatusConflict, "not_deleted")
	})
	r := h.do("DELETE", "/v1/workspaces/acme", alice, nil).want(http.StatusNoContent)
	if len(r.raw) != 0 {
		t.Errorf("204 with a body: %q", r.raw)
	}
	if h.access("olga", "acme").Member || h.access("olga", ws.ID).Member || h.access("alice", "acme").Member {
		t.Error("the gateway still sees the deleted workspace")
	}
	// Data kept, deleted_at set.
	st := h.state(ws.ID)
	if st.Workspace.DeletedAt == nil || len(st.Members) != 2 {
		t.Errorf("after delete: %+v", st)
	}
	for _, who := range []string{alice, olga} {
		h.do("GET", "/v1/workspaces/acme", who, nil).problem(http.StatusNotFound, "workspace_not_found")
		h.do("GET", "/v1/workspaces/"+ws.ID+"/me", who, nil).problem(http.StatusNotFound, "workspace_not_found")
		h.do("DELETE", "/v1/workspaces/acme", who, nil).problem(http.StatusNotFound, "workspace_not_found")
		var p page[wsView]
		h.do("GET", "/v1/workspaces", who, nil).want(http.StatusOK).decode(&p)
		if len(p.Items) != 0 {
			t.Errorf("deleted workspace still listed: %+v", p.Items)
		}
	}
	// Nothing can be changed in a deleted workspace.
	h.refused(ws.ID, func() *resp {
		return h.do("PATCH", "/v1/workspaces/acme", alice, map[string]any{"name": "Zombie"}).problem(http.StatusNotFound, "workspace_not_found")
	})
	h.refused(ws.ID, func() *resp {
		return h.do("PUT", "/v1/workspaces/acme/members/olga", alice, map[string]any{"roles": []string{"member"}}).problem(http.StatusNotFound, "workspace_not_found")
	})
	// The slug stays taken while the data is kept.
	h.do("POST", "/v1/workspaces", h.token("bob"), map[string]any{"name": "x", "slug": "acme"}).problem(http.StatusConflict, "slug_taken")

	// Restore: global admins only.
	for _, who := range []string{alice, olga} {
		h.refused(ws.ID, func() *resp {
			return h.do("POST", "/v1/workspaces/acme/restore", who, nil).problem(http.StatusForbidden, "forbidden")
		})
	}
	h.do("POST", "/v1/workspaces/nope/restore", root, nil).problem(http.StatusNotFound, "workspace_not_found")
	h.do("POST", "/v1/workspaces/ws_nope/restore", root, nil).problem(http.StatusNotFound, "workspace_not_found")
	var restored wsView
	h.do("POST", "/v1/workspaces/"+ws.ID+"/restore", root, nil).want(http.StatusOK).decode(&restored)
	if restored.ID != ws.ID || restored.DeletedAt != nil || restored.Slug != "acme" {
		t.Errorf("restored: %+v", restored)
	}
	if !h.access("olga", "acme").Member {
		t.Error("the gateway does not see the restored workspace")
	}
	h.do("GET", "/v1/workspaces/acme", olga, nil).want(http.StatusOK)
	h.do("POST", "/v1/workspaces/acme/restore", root, nil).problem(http.StatusConflict, "not_deleted")
	wantStrings(t, "audit", h.auditActions(ws.ID)[:2], []string{"workspace.restore", "workspace.delete"})
}

func TestAdminListWorkspaces(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var ids []string
	for i := range 5 {
		ids = append(ids, h.newWorkspace(fmt.Sprintf("user%d", i), fmt.Sprintf("Team %d", i)).ID)
	}
	h.do("DELETE", "/v1/workspaces/team-2", h.token("user2"), nil).want(http.StatusNoContent)

	h.do("GET", "/v1/admin/workspaces", h.token("user0"), nil).problem(http.StatusForbidden, "forbidden")
	seen := map[string]bool{}
	deleted := 0
	cursor := ""
	for range 10 {
		path := "/v1/admin/workspaces?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		var p page[wsView]
		h.do("GET", path, h.token("root"), nil).want(http.StatusOK).decode(&p)
		for _, ws := range p.Items {
			if seen[ws.ID] {
				t.Errorf("%s listed twice", ws.ID)
			}
			seen[ws.ID] = true
			if ws.DeletedAt != nil {
				deleted++
				if ws.Slug != "team-2" {
					t.Errorf("wrong workspace marked deleted: %+v", ws)
				}
			}
		}
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
	}
	if len(seen) != len(ids) || deleted != 1 {
		t.Errorf("root listed %d workspaces (%d deleted), want %d (1 deleted)", len(seen), deleted, len(ids))
	}
	h.do("GET", "/v1/admin/workspaces?limit=0", h.token("root"), nil).invalid("limit")
}

func TestWorkspaceMe(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	h.knownTo("alice", "olga")
	h.putMember("alice", ws, "olga", map[string]any{
		"roles": []string{"operator"}, "grants": []string{"campaign.run"}, "denies": []string{"message.send"},
		"restrictions": map[string][]string{"instance": {"i1", "i2"}},
	})
	var me struct {
		Workspace    wsView              `json:"workspace"`
		Roles        []string            `json:"roles"`
		Grants       []string            `json:"grants"`
		Denies       []string            `json:"denies"`
		Restrictions map[string][]string `json:"restrictions"`
		Permissions  []string            `json:"permissions"`
	}
	h.do("GET", "/v1/workspaces/acme/me", h.token("olga"), nil).want(http.StatusOK).decode(&me)
	if me.Workspace.ID != ws.ID {
		t.Errorf("workspace %+v", me.Workspace)
	}
	wantStrings(t, "roles", me.Roles, []string{"operator"})
	wantStrings(t, "grants", me.Grants, []string{"campaign.run"})
	wantStrings(t, "denies", me.Denies, []string{"message.send"})
	wantStrings(t, "restrictions", me.Restrictions["instance"], []string{"i1", "i2"})
	wantStrings(t, "permissions", me.Permissions, []string{"campaign.read", "campaign.run", "contact.read", "message.read"})

	r := h.do("GET", "/v1/workspaces/"+ws.ID+"/me", h.token("alice"), nil).want(http.StatusOK)
	for _, empty := range []string{`"grants":[]`, `"denies":[]`, `"restrictions":{}`} {
		if !strings.Contains(string(r.raw), empty) {
			t.Errorf("alice's standing lacks %s: %s", empty, r.raw)
		}
	}
	r.decode(&me)
	wantStrings(t, "owner permissions", me.Permissions, allPermissions)
	h.do("GET", "/v1/workspaces/acme/me", h.token("bob"), nil).problem(http.StatusNotFound, "workspace_not_found")
}

func TestCheck(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	h.knownTo("alice", "olga")
	h.putMember("alice", ws, "olga", map[string]any{"roles": []string{"operator"}, "restrictions": map[string][]string{"instance": {"i1"}}})
	olga := h.token("olga")
	for _, tc := range []struct {
		body    map[string]any
		allowed bool
		reason  string
	}{
		{map[string]any{"permission": "message.send"}, true, "granted"},
		{map[string]any{"permission": "message.read"}, true, "granted"},
		{map[string]any{"permission": "campaign.run"}, false, "missing_permission"},
		{map[string]any{"permission": "workspace.members"}, false, "missing_permission"},
		{map[string]any{"permission": "message.read", "resource": map[string]string{"type": "instance", "id": "i1"}}, true, "granted"},
		{map[string]any{"permission": "message.read", "resource": map[string]string{"type": "instance", "id": "i2"}}, false, "restricted"},
		{map[string]any{"permission": "message.read", "resource": map[string]string{"type": "chat", "id": "c9"}}, true, "granted"},
		{map[string]any{"permission": "campaign.run", "resource": map[string]string{"type": "instance", "id": "i1"}}, false, "missing_permission"},
	} {
		var got struct {
			Allowed bool   `json:"allowed"`
			Reason  string `json:"reason"`
		}
		h.do("POST", "/v1/workspaces/acme/check", olga, tc.body).want(http.StatusOK).decode(&got)
		if got.Allowed != tc.allowed || got.Reason != tc.reason {
			t.Errorf("check %v: %+v, want allowed=%v reason=%s", tc.body, got, tc.allowed, tc.reason)
		}
	}
	// The owner is unrestricted.
	r := h.do("POST", "/v1/workspaces/"+ws.ID+"/check", h.token("alice"), map[string]any{"permission": "campaign.admin", "resource": map[string]string{"type": "instance", "id": "i2"}}).want(http.StatusOK)
	if r.body["allowed"] != true {
		t.Errorf("owner check: %s", r.raw)
	}

	h.do("POST", "/v1/workspaces/acme/check", olga, map[string]any{"permission": "nope.perm"}).invalid("permission")
	h.do("POST", "/v1/workspaces/acme/check", olga, map[string]any{"permission": "message.*"}).invalid("permission")
	h.do("POST", "/v1/workspaces/acme/check", olga, map[string]any{}).invalid("permission")
	h.do("POST", "/v1/workspaces/acme/check", olga, map[string]any{"permission": "message.read", "resource": map[string]string{"type": "instance"}}).invalid("resource")
	h.do("POST", "/v1/workspaces/acme/check", olga, map[string]any{"permission": "message.read", "resource": map[string]string{"id": "i1"}}).invalid("resource")
	h.do("POST", "/v1/workspaces/acme/check", olga, map[string]any{"permission": "message.read", "resource": "i1"}).invalid("resource")
	h.do("POST", "/v1/workspaces/acme/check", h.token("bob"), map[string]any{"permission": "message.read"}).problem(http.StatusNotFound, "workspace_not_found")
}
