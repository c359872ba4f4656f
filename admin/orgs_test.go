package admin_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-authz/gatehouse/admin"
	"github.com/gatehouse-authz/gatehouse/internal/model"
)

// TestOrgCreate: POST /v1/orgs makes the caller a member with the first
// org role holding organization.admin, under the default plan, audited
// under the organization's id; bad bodies are 400s naming the field and
// change nothing; a taken slug is 409 slug_taken.
func TestOrgCreate(t *testing.T) {
	h := newOrgHarness(t)
	r := h.do("POST", "/v1/orgs", h.token("alice"), map[string]any{"name": "Acme Corp"}).want(http.StatusCreated)
	var o orgJSON
	r.decode(&o)
	if !strings.HasPrefix(o.ID, "org_") || o.Slug != "acme-corp" || o.Name != "Acme Corp" {
		t.Fatalf("created %s", r.raw)
	}
	if loc := r.header.Get("Location"); loc != "/v1/orgs/"+o.ID {
		t.Errorf("Location %q", loc)
	}
	if r.header.Get("Gatehouse-Revision") == "" {
		t.Error("a write without a Gatehouse-Revision")
	}
	wantStrings(t, "creator roles", o.Roles, []string{"owner"})
	wantStrings(t, "creator permissions", o.Permissions, allOrgPermissions)
	if o.Plan == nil || o.Plan.Slug != "free" || o.Plan.Name != "Free" || len(o.Plan.Features) != 0 {
		t.Errorf("plan %+v, want the default plan free", o.Plan)
	}
	st := h.orgState(o.ID)
	if st.Org.Plan != "" {
		t.Errorf("stored plan %q: none is stored, the default applies", st.Org.Plan)
	}
	if len(st.Members) != 1 || st.Members[0].UserID != "alice" {
		t.Errorf("members %+v", st.Members)
	}
	if len(st.Audit) != 1 || st.Audit[0].Action != "organization.create" || st.Audit[0].Actor != "alice" ||
		st.Audit[0].WorkspaceID != o.ID || st.Audit[0].Target != "organization:"+o.ID {
		t.Errorf("audit %+v", st.Audit)
	}

	h.do("POST", "/v1/orgs", h.token("bob"), map[string]any{"name": "Other", "slug": "acme-corp"}).problem(http.StatusConflict, "slug_taken")
	for _, c := range []struct {
		body  any
		field string
	}{
		{map[string]any{"name": "X", "plan": "pro"}, "plan"},
		{map[string]any{"name": ""}, "name"},
		{map[string]any{"name": "Ok", "slug": "Bad Slug"}, "slug"},
		{map[string]any{"name": 7}, "name"},
		{"[]", ""},
	} {
		h.do("POST", "/v1/orgs", h.token("bob"), c.body).invalid(c.field)
	}
	var list page[orgJSON]
	h.do("GET", "/v1/orgs", h.token("bob"), nil).want(http.StatusOK).decode(&list)
	if len(list.Items) != 0 {
		t.Errorf("bob's refused creations made %+v", list.Items)
	}
	h.do("POST", "/v1/orgs", "", map[string]any{"name": "Anon"}).problem(http.StatusUnauthorized, "unauthenticated")
}

// TestOrgCreateReservedToGlobalAdmins: with workspace_creation
// global_admins only they create organizations.
func TestOrgCreateReservedToGlobalAdmins(t *testing.T) {
	h := newHarnessModel(t, orgAPIConfig(), func(o *admin.Options) { o.WorkspaceCreation = admin.CreationGlobalAdmins })
	h.do("POST", "/v1/orgs", h.token("alice"), map[string]any{"name": "Acme"}).problem(http.StatusForbidden, "forbidden")
	var o orgJSON
	h.do("POST", "/v1/orgs", h.token("root"), map[string]any{"name": "Acme"}).want(http.StatusCreated).decode(&o)
	wantStrings(t, "root's roles", o.Roles, []string{"owner"})
}

// TestOrgReadAndList: members and global admins read an organization by
// id or slug; anyone else gets the 404 of an unknown organization, byte
// for byte. GET /v1/orgs lists the caller's (all live ones for a global
// admin), paginated.
func TestOrgReadAndList(t *testing.T) {
	h := newOrgHarness(t)
	acme := h.postOrg("alice", "Acme")
	beta := h.postOrg("bob", "Beta")
	h.postOrg("alice", "Gamma")
	for _, ref := range []string{acme.ID, acme.Slug} {
		var got orgJSON
		h.do("GET", "/v1/orgs/"+ref, h.token("alice"), nil).want(http.StatusOK).decode(&got)
		if got.ID != acme.ID || got.Slug != "acme" {
			t.Errorf("GET %s: %+v", ref, got)
		}
	}
	var asRoot orgJSON
	h.do("GET", "/v1/orgs/"+acme.Slug, h.token("root"), nil).want(http.StatusOK).decode(&asRoot)
	wantStrings(t, "a global admin's roles", asRoot.Roles, []string{})
	wantStrings(t, "a global admin's permissions", asRoot.Permissions, allOrgPermissions)

	unknown := h.do("GET", "/v1/orgs/nope", h.token("bob"), nil).problem(http.StatusNotFound, "organization_not_found")
	unknownID := h.do("GET", "/v1/orgs/org_nope", h.token("bob"), nil).problem(http.StatusNotFound, "organization_not_found")
	nonMember := h.do("GET", "/v1/orgs/"+acme.ID, h.token("bob"), nil).problem(http.StatusNotFound, "organization_not_found")
	h.do("DELETE", "/v1/orgs/"+beta.ID, h.token("bob"), nil).want(http.StatusNoContent)
	deleted := h.do("GET", "/v1/orgs/"+beta.ID, h.token("bob"), nil).problem(http.StatusNotFound, "organization_not_found")
	for _, r := range []*resp{unknownID, nonMember, deleted} {
		if !bytes.Equal(r.raw, unknown.raw) {
			t.Errorf("%s answered %s, an unknown organization %s", r.req, r.raw, unknown.raw)
		}
	}

	var mine page[orgJSON]
	h.do("GET", "/v1/orgs?limit=1", h.token("alice"), nil).want(http.StatusOK).decode(&mine)
	if len(mine.Items) != 1 || mine.NextCursor == nil {
		t.Fatalf("first page %+v", mine)
	}
	first := mine.Items[0].Slug
	h.do("GET", "/v1/orgs?limit=1&cursor="+*mine.NextCursor, h.token("alice"), nil).want(http.StatusOK).decode(&mine)
	if len(mine.Items) != 1 || mine.Items[0].Slug == first {
		t.Fatalf("second page %+v", mine)
	}
	slugs := []string{first, mine.Items[0].Slug}
	wantStrings(t, "alice's organizations", sorted(slugs), []string{"acme", "gamma"})
	var bobs page[orgJSON]
	h.do("GET", "/v1/orgs", h.token("bob"), nil).want(http.StatusOK).decode(&bobs)
	if len(bobs.Items) != 0 {
		t.Errorf("bob's deleted organization is listed: %+v", bobs.Items)
	}
	var all page[orgJSON]
	h.do("GET", "/v1/orgs", h.token("root"), nil).want(http.StatusOK).decode(&all)
	var allSlugs []string
	for _, o := range all.Items {
		allSlugs = append(allSlugs, o.Slug)
	}
	wantStrings(t, "a global admin's list (live ones)", sorted(allSlugs), []string{"acme", "gamma"})
	h.do("GET", "/v1/orgs?limit=0", h.token("alice"), nil).invalid("limit")
	h.do("GET", "/v1/orgs?deleted=true", h.token("alice"), nil).invalid("deleted")
}

// TestOrgUpdate: PATCH needs organization.settings, keeps slugs unique
// among organizations (409 slug_taken), is audited with before and
// after, and refuses bad input without changing anything.
func TestOrgUpdate(t *testing.T) {
	h := newOrgHarness(t)
	acme := h.postOrg("alice", "Acme")
	h.postOrg("bob", "Beta")
	h.putOrgMemberDirect(acme.ID, "carol", "member")
	h.putOrgMemberDirect(acme.ID, "dave", "manager")
	h.known("carol", "dave")

	h.orgRefused(acme.ID, func() *resp {
		return h.do("PATCH", "/v1/orgs/"+acme.ID, h.token("carol"), map[string]any{"name": "Mine"})
	}).forbidden("organization.settings")
	h.orgRefused(acme.ID, func() *resp {
		return h.do("PATCH", "/v1/orgs/"+acme.ID, h.token("alice"), map[string]any{"slug": "beta"})
	}).problem(http.StatusConflict, "slug_taken")
	for _, body := range []any{map[string]any{}, map[string]any{"slug": "x"}, map[string]any{"name": " "}, map[string]any{"plan": "pro"}} {
		h.orgRefused(acme.ID, func() *resp { return h.do("PATCH", "/v1/orgs/"+acme.ID, h.token("alice"), body) }).
			problem(http.StatusBadRequest, "invalid_request")
	}
	h.orgRefused(acme.ID, func() *resp {
		return h.do("PATCH", "/v1/orgs/"+acme.ID, h.token("eve"), map[string]any{"name": "Evil"})
	}).problem(http.StatusNotFound, "organization_not_found")

	var got orgJSON
	r := h.do("PATCH", "/v1/orgs/acme", h.token("dave"), map[string]any{"name": "Acme Inc", "slug": "acme-inc"}).want(http.StatusOK)
	r.decode(&got)
	if got.Name != "Acme Inc" || got.Slug != "acme-inc" || r.header.Get("Gatehouse-Revision") == "" {
		t.Errorf("patched %s", r.raw)
	}
	st := h.orgState(acme.ID)
	if st.Org.Slug != "acme-inc" || st.Org.Name != "Acme Inc" {
		t.Errorf("stored %+v", st.Org)
	}
	ev := st.Audit[0]
	if ev.Action != "organization.update" || ev.Actor != "dave" ||
		!strings.Contains(string(ev.Summary), `"before":{"name":"Acme","slug":"acme"}`) ||
		!strings.Contains(string(ev.Summary), `"after":{"name":"Acme Inc","slug":"acme-inc"}`) {
		t.Errorf("audit %+v %s", ev, ev.Summary)
	}
	// The old slug is free again, the new one names the organization.
	h.do("GET", "/v1/orgs/acme", h.token("alice"), nil).problem(http.StatusNotFound, "organization_not_found")
	h.do("GET", "/v1/orgs/acme-inc", h.token("alice"), nil).want(http.StatusOK)
	h.do("POST", "/v1/orgs", h.token("bob"), map[string]any{"name": "Acme", "slug": "acme"}).want(http.StatusCreated)
}

// TestOrgDeleteHidesItsWorkspacesAndRestoreBringsThemBack: a soft delete
// by an organization.admin hides the organization's workspaces at once
// from the API and the gateway's engine; only a global admin restores, and
// then they answer again.
func TestOrgDeleteHidesItsWorkspacesAndRestoreBringsThemBack(t *testing.T) {
	orgDeleteRestoreFlow(t, newOrgHarness(t))
}

func orgDeleteRestoreFlow(t *testing.T, h *harness) {
	acme := h.postOrg("alice", "Acme")
	h.putOrgMemberDirect(acme.ID, "dave", "manager")
	h.knownTo("alice", "bob", "dave")
	ws := h.newWorkspace("alice", "Support")
	h.putMember("alice", ws, "bob", map[string]any{"roles": []string{"member"}})
	h.intoOrg(ws.ID, acme.ID)
	msgRead := h.permID("message.read")

	h.do("GET", "/v1/workspaces/"+ws.Slug, h.token("bob"), nil).want(http.StatusOK)
	if a := h.access("bob", ws.ID); !a.Member || !a.Permissions.Has(msgRead) {
		t.Fatalf("before the delete bob's access is %+v", a)
	}
	h.orgRefused(acme.ID, func() *resp { return h.do("DELETE", "/v1/orgs/"+acme.ID, h.token("dave"), nil) }).
		forbidden("organization.admin")
	h.orgRefused(acme.ID, func() *resp { return h.do("DELETE", "/v1/orgs/"+acme.ID, h.token("bob"), nil) }).
		problem(http.StatusNotFound, "organization_not_found")

	r := h.do("DELETE", "/v1/orgs/"+acme.Slug, h.token("alice"), nil).want(http.StatusNoContent)
	if r.header.Get("Gatehouse-Revision") == "" {
		t.Error("delete without a Gatehouse-Revision")
	}
	if a := h.access("bob", ws.ID); a.Member {
		t.Errorf("the gateway still lets bob into a deleted organization's workspace: %+v", a)
	}
	if a := h.access("alice", ws.Slug); a.Member {
		t.Errorf("the gateway still lets the owner into a deleted organization's workspace: %+v", a)
	}
	h.do("GET", "/v1/workspaces/"+ws.Slug, h.token("bob"), nil).problem(http.StatusNotFound, "workspace_not_found")
	h.do("GET", "/v1/orgs/"+acme.ID, h.token("alice"), nil).problem(http.StatusNotFound, "organization_not_found")
	h.do("DELETE", "/v1/orgs/"+acme.ID, h.token("alice"), nil).problem(http.StatusNotFound, "organization_not_found")
	if st := h.orgState(acme.ID); st.Org.DeletedAt == nil || st.Audit[0].Action != "organization.delete" {
		t.Errorf("stored %+v, last event %+v", st.Org, st.Audit[0])
	}

	var all page[orgJSON]
	h.do("GET", "/v1/admin/orgs", h.token("root"), nil).want(http.StatusOK).decode(&all)
	if len(all.Items) != 1 || all.Items[0].ID != acme.ID || all.Items[0].DeletedAt == nil {
		t.Errorf("admin list %+v", all.Items)
	}
	h.do("GET", "/v1/admin/orgs", h.token("alice"), nil).problem(http.StatusForbidden, "forbidden")
	h.orgRefused(acme.ID, func() *resp { return h.do("POST", "/v1/orgs/"+acme.ID+"/restore", h.token("alice"), nil) }).
		problem(http.StatusForbidden, "forbidden")

	var restored orgJSON
	h.do("POST", "/v1/orgs/"+acme.Slug+"/restore", h.token("root"), nil).want(http.StatusOK).decode(&restored)
	if restored.DeletedAt != nil {
		t.Errorf("restored %+v", restored)
	}
	h.do("POST", "/v1/orgs/"+acme.ID+"/restore", h.token("root"), nil).problem(http.StatusConflict, "not_deleted")
	h.do("POST", "/v1/orgs/org_nope/restore", h.token("root"), nil).problem(http.StatusNotFound, "organization_not_found")
	if a := h.access("bob", ws.ID); !a.Member || !a.Permissions.Has(msgRead) {
		t.Errorf("after the restore bob's access is %+v", a)
	}
	h.do("GET", "/v1/workspaces/"+ws.Slug, h.token("bob"), nil).want(http.StatusOK)
	if st := h.orgState(acme.ID); st.Audit[0].Action != "organization.restore" || st.Audit[0].Actor != "root" {
		t.Errorf("last event %+v", st.Audit[0])
	}
}

// TestOrgEndpointsRefuseUnknownFieldsAndQueries: every organization
// endpoint refuses an unknown query parameter and, where it reads a
// body, an unknown field, with a 400 naming it.
func TestOrgEndpointsRefuseUnknownFieldsAndQueries(t *testing.T) {
	h := newOrgHarness(t)
	acme := h.postOrg("alice", "Acme")
	base := "/v1/orgs/" + acme.ID
	for _, c := range []struct{ method, path string }{
		{"GET", "/v1/orgs"}, {"POST", "/v1/orgs"}, {"GET", base}, {"PATCH", base}, {"DELETE", base},
		{"POST", base + "/restore"}, {"PUT", base + "/plan"}, {"GET", base + "/members"},
		{"GET", base + "/members/alice"}, {"PUT", base + "/members/alice"}, {"DELETE", base + "/members/alice"},
		{"GET", base + "/audit"}, {"GET", "/v1/admin/orgs"},
	} {
		h.orgRefused(acme.ID, func() *resp { return h.do(c.method, c.path+"?bogus=1", h.token("root"), nil) }).invalid("bogus")
	}
	for _, c := range []struct{ method, path string }{
		{"POST", "/v1/orgs"}, {"PATCH", base}, {"PUT", base + "/plan"}, {"PUT", base + "/members/alice"},
	} {
		h.orgRefused(acme.ID, func() *resp {
			return h.do(c.method, c.path, h.token("alice"), map[string]any{"name": "N", "plan": "pro", "roles": []string{"owner"}, "extra": true})
		}).invalid("extra")
	}
}

// TestOrgAdminReadsNoWorkspaceData (decision 1): holding
// organization.admin gives nothing inside the organization's workspaces:
// the owner of the organization who is no member of a workspace gets its
// 404 from the API and no access from the gateway.
func TestOrgAdminReadsNoWorkspaceData(t *testing.T) {
	h := newOrgHarness(t)
	acme := h.postOrg("alice", "Acme")
	ws := h.newWorkspace("bob", "Ledger")
	h.intoOrg(ws.ID, acme.ID)
	for _, path := range []string{"", "/members", "/audit", "/api-keys", "/roles", "/me"} {
		h.do("GET", "/v1/workspaces/"+ws.Slug+path, h.token("alice"), nil).problem(http.StatusNotFound, "workspace_not_found")
	}
	if a := h.access("alice", ws.ID); a.Member {
		t.Errorf("the organization's owner reaches a workspace she is no member of: %+v", a)
	}
	h.do("GET", "/v1/workspaces/"+ws.Slug, h.token("bob"), nil).want(http.StatusOK)
}

// TestOrgCreateNeedsAnAdminRole: without an org_role holding
// organization.admin an organization could never keep an admin, so none
// is created (501 not_implemented, nothing written).
func TestOrgCreateNeedsAnAdminRole(t *testing.T) {
	cfg := orgAPIConfig()
	cfg.OrgRoles = []model.OrgRole{{Slug: "member", Name: "Member"}, {Slug: "billing", Name: "Billing", Permissions: []string{model.PermOrgBilling}}}
	h := newHarnessModel(t, cfg)
	h.do("POST", "/v1/orgs", h.token("alice"), map[string]any{"name": "Acme"}).problem(http.StatusNotImplemented, "not_implemented")
	var all page[orgJSON]
	h.do("GET", "/v1/admin/orgs", h.token("root"), nil).want(http.StatusOK).decode(&all)
	if len(all.Items) != 0 {
		t.Errorf("organizations %+v", all.Items)
	}
}
