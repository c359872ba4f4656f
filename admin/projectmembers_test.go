package admin_test

import (
	"net/http"
	"slices"
	"testing"
)

// TestProjectMembers: adding, changing and removing project members, with
// no escalation across levels (decision 3) and the last project admin
// kept (decision 4).
func TestProjectMembers(t *testing.T) {
	t.Parallel()
	projectMemberFlow(t, newHarnessModel(t, orgConfig()))
}

// projectMemberFlow is TestProjectMembers on h (the PostgreSQL run uses
// it too).
func projectMemberFlow(t *testing.T, h *harness) {
	org := h.newOrg("acme", "pro", map[string][]string{
		"olive": {"owner"}, "paul": {"pm"}, "ada": {"member"}, "dev": {"member"}, "vic": {"member"}})
	h.known("stranger")
	p := h.newProject("olive", org, "Web") // olive: project admin
	base := "/v1/orgs/acme/projects/web/members/"

	// A project admin adds organization members with any role within
	// theirs; the view shows what the roles map to.
	var m projMemberView
	h.do("PUT", base+"ada", h.token("olive"), map[string]any{"roles": []string{"admin"}}).want(http.StatusCreated).decode(&m)
	if !slices.Equal(m.WorkspaceRoles, []string{"owner"}) || m.Email != "ada@example.com" {
		t.Fatalf("ada: %+v", m)
	}
	h.do("PUT", base+"dev", h.token("ada"), map[string]any{"roles": []string{"developer"}}).want(http.StatusCreated).decode(&m)
	if !slices.Equal(m.WorkspaceRoles, []string{"operator"}) {
		t.Fatalf("dev: %+v", m)
	}
	h.do("PUT", base+"dev", h.token("ada"), map[string]any{"roles": []string{"developer", "viewer"}}).want(http.StatusOK).decode(&m)
	if !slices.Equal(m.WorkspaceRoles, []string{"operator", "member"}) {
		t.Fatalf("dev: %+v", m)
	}

	// Validation: roles must be declared project roles; the user an
	// organization member (an outsider is an unknown user: one answer).
	h.do("PUT", base+"vic", h.token("olive"), map[string]any{"roles": []string{"owner"}}).invalid("roles")
	h.do("PUT", base+"vic", h.token("olive"), map[string]any{"roles": []string{}}).invalid("roles")
	h.do("PUT", base+"vic", h.token("olive"), map[string]any{"roles": []string{"viewer", "viewer"}}).invalid("roles")
	outsider := h.do("PUT", base+"stranger", h.token("olive"), map[string]any{"roles": []string{"viewer"}}).
		problem(http.StatusNotFound, "user_not_found")
	nobody := h.do("PUT", base+"nobody", h.token("olive"), map[string]any{"roles": []string{"viewer"}}).
		problem(http.StatusNotFound, "user_not_found")
	if string(outsider.raw) != string(nobody.raw) {
		t.Errorf("an outsider and an unknown id answer differently:\n%s\n%s", outsider.raw, nobody.raw)
	}

	// Who may manage: a developer may not; organization.projects may,
	// but only hand out what their own project roles map to (paul holds
	// none), unless they hold organization.admin.
	h.do("PUT", base+"vic", h.token("dev"), map[string]any{"roles": []string{"viewer"}}).forbidden("organization.projects")
	h.do("DELETE", base+"ada", h.token("dev"), nil).forbidden("organization.projects")
	r := h.do("PUT", base+"vic", h.token("paul"), map[string]any{"roles": []string{"viewer"}}).problem(http.StatusForbidden, "escalation")
	if r.body["required_permission"] != "message.read" {
		t.Errorf("escalation names %v", r.body["required_permission"])
	}
	h.putProjectMember("olive", org, p, "paul", "developer")
	h.do("PUT", base+"vic", h.token("paul"), map[string]any{"roles": []string{"viewer"}}).want(http.StatusCreated)
	h.do("PUT", base+"vic", h.token("paul"), map[string]any{"roles": []string{"admin"}}).problem(http.StatusForbidden, "escalation")
	// Nor change or remove a member holding more than they do.
	h.do("PUT", base+"ada", h.token("paul"), map[string]any{"roles": []string{"viewer"}}).problem(http.StatusForbidden, "escalation")
	h.do("DELETE", base+"ada", h.token("paul"), nil).problem(http.StatusForbidden, "escalation")
	if got, _ := h.projectMember(p.ID, "ada"); !slices.Equal(got.Roles, []string{"admin"}) {
		t.Fatalf("ada after refused changes: %+v", got)
	}

	// Listing and reading: any organization member; outsiders get 404.
	var list page[projMemberView]
	h.do("GET", base[:len(base)-1], h.token("vic"), nil).want(http.StatusOK).decode(&list)
	var ids []string
	for _, it := range list.Items {
		ids = append(ids, it.UserID)
	}
	wantStrings(t, "project members", ids, []string{"ada", "dev", "olive", "paul", "vic"})
	h.do("GET", base+"dev", h.token("vic"), nil).want(http.StatusOK).decode(&m)
	if !slices.Equal(m.Roles, []string{"developer", "viewer"}) {
		t.Fatalf("GET dev: %+v", m)
	}
	h.do("GET", base+"stranger", h.token("vic"), nil).problem(http.StatusNotFound, "member_not_found")
	h.do("GET", base+"dev", h.token("stranger"), nil).problem(http.StatusNotFound, "organization_not_found")

	// Last admin: with olive and ada admins, ada may step down; then
	// olive, the last, may neither step down nor leave.
	h.do("PUT", base+"ada", h.token("ada"), map[string]any{"roles": []string{"developer"}}).want(http.StatusOK)
	h.do("PUT", base+"olive", h.token("olive"), map[string]any{"roles": []string{"developer"}}).problem(http.StatusConflict, "last_admin")
	h.do("DELETE", base+"olive", h.token("olive"), nil).problem(http.StatusConflict, "last_admin")
	if got, err := h.projectMember(p.ID, "olive"); err != nil || !slices.Equal(got.Roles, []string{"admin"}) {
		t.Fatalf("olive after refused changes: %+v %v", got, err)
	}

	// Anyone may leave; a project admin removes within their standing.
	h.do("DELETE", base+"vic", h.token("vic"), nil).want(http.StatusNoContent)
	h.do("DELETE", base+"dev", h.token("olive"), nil).want(http.StatusNoContent)
	h.do("DELETE", base+"dev", h.token("olive"), nil).problem(http.StatusNotFound, "member_not_found")
	if _, err := h.projectMember(p.ID, "vic"); err == nil {
		t.Error("vic is still a project member")
	}
	// An organization admin assigns any project role, project member or not.
	h.putProjectMember("olive", org, p, "ada", "admin")
	h.do("DELETE", base+"olive", h.token("olive"), nil).want(http.StatusNoContent)
	h.do("PUT", base+"olive", h.token("olive"), map[string]any{"roles": []string{"admin"}}).want(http.StatusCreated)
}
