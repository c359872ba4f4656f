package admin_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// TestOrgMemberRemovalLeavesItsProjects: the gateway grants project roles
// by the project membership alone, so removing someone from an
// organization must remove them from its projects, or they would keep
// reaching its PROJECT workspaces. The last admin of a project cannot be
// removed from the organization until the project has another.
func TestOrgMemberRemovalLeavesItsProjects(t *testing.T) {
	t.Parallel()
	h := newHarnessModel(t, orgConfig())
	org := h.newOrg("acme", "pro", map[string][]string{"olive": {"owner"}, "otto": {"owner"}, "dev": {"member"}})
	web := h.newProject("olive", org, "Web") // olive: its only project admin
	h.putProjectMember("olive", org, web, "dev", "developer")
	prod := h.newOrgWorkspace("olive", org, &web, "project", "Prod")

	h.do("GET", "/v1/workspaces/"+prod.Slug, h.token("dev"), nil).want(http.StatusOK)
	if a := h.access("dev", prod.Slug); !a.Member {
		t.Fatal("dev has no standing at the gateway in the project workspace before removal")
	}

	h.do("DELETE", "/v1/orgs/acme/members/dev", h.token("otto"), nil).want(http.StatusNoContent)
	if _, err := h.projectMember(web.ID, "dev"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("dev's project membership after leaving the organization: err %v, want not found", err)
	}
	h.do("GET", "/v1/workspaces/"+prod.Slug, h.token("dev"), nil).problem(http.StatusNotFound, "workspace_not_found")
	if a := h.access("dev", prod.Slug); a.Member {
		t.Error("dev still reaches the project workspace at the gateway after leaving the organization")
	}
	if audit := h.orgAudit(org.ID); !slices.ContainsFunc(audit, func(ev string) bool { return strings.HasPrefix(ev, "project_member.delete") }) {
		t.Errorf("no project_member.delete in the organization's audit: %v", audit)
	}

	// olive is web's last admin: she cannot leave the organization (nor
	// be removed) until the project has another admin.
	h.do("DELETE", "/v1/orgs/acme/members/olive", h.token("otto"), nil).problem(http.StatusConflict, "last_admin")
	if _, err := h.projectMember(web.ID, "olive"); err != nil {
		t.Fatalf("a refused removal changed olive's project membership: %v", err)
	}
	h.putProjectMember("olive", org, web, "otto", "admin")
	h.do("DELETE", "/v1/orgs/acme/members/olive", h.token("otto"), nil).want(http.StatusNoContent)
}
