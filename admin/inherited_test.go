package admin_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// TestProjectWorkspacesAreListed: a project member is a member of the
// project's PROJECT workspaces (spec §11), so GET /v1/workspaces and
// GET /v1/me list them, with the mapped roles, after the explicit
// memberships and across pages; never a PRIVATE workspace of the same
// project; never once the project membership is gone.
func TestProjectWorkspacesAreListed(t *testing.T) {
	t.Parallel()
	h := newHarnessModel(t, orgConfig())
	org := h.newOrg("acme", "pro", map[string][]string{"olive": {"owner"}, "dev": {"member"}})
	web := h.newProject("olive", org, "Web")
	h.putProjectMember("olive", org, web, "dev", "developer")
	prod := h.newOrgWorkspace("olive", org, &web, "project", "Prod")
	staging := h.newOrgWorkspace("olive", org, &web, "project", "Staging")
	private := h.newOrgWorkspace("olive", org, &web, "private", "Secrets")
	own := h.newOrgWorkspace("olive", org, nil, "", "Shared")
	// dev is an explicit member of one workspace and of the project.
	h.do("PUT", "/v1/workspaces/"+own.Slug+"/members/dev", h.token("olive"), map[string]any{"roles": []string{"member"}}).want(http.StatusCreated)
	// An explicit membership in a PROJECT workspace is listed once.
	h.do("PUT", "/v1/workspaces/"+staging.Slug+"/members/dev", h.token("olive"), map[string]any{"roles": []string{"member"}}).want(http.StatusCreated)

	for _, limit := range []string{"1", "2", "50"} {
		seen := map[string][]string{}
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
			q := url.Values{"limit": {limit}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			var p page[wsView]
			h.do("GET", "/v1/workspaces?"+q.Encode(), h.token("dev"), nil).want(http.StatusOK).decode(&p)
			for _, ws := range p.Items {
				if _, dup := seen[ws.Slug]; dup {
					t.Errorf("limit %s: %s listed twice", limit, ws.Slug)
				}
				seen[ws.Slug] = ws.Roles
			}
			if p.NextCursor == nil {
				break
			}
			cursor = *p.NextCursor
		}
		if len(seen) != 3 || seen[prod.Slug] == nil || seen[staging.Slug] == nil || seen[own.Slug] == nil {
			t.Fatalf("limit %s: listed %v, want %s, %s and %s (not %s)", limit, seen, prod.Slug, staging.Slug, own.Slug, private.Slug)
		}
		wantStrings(t, "roles in "+prod.Slug, seen[prod.Slug], []string{"operator"})
	}

	var me struct {
		Workspaces []struct {
			Slug        string   `json:"slug"`
			Roles       []string `json:"roles"`
			Permissions []string `json:"permissions"`
		} `json:"workspaces"`
	}
	h.do("GET", "/v1/me", h.token("dev"), nil).want(http.StatusOK).decode(&me)
	var slugs []string
	for _, w := range me.Workspaces {
		slugs = append(slugs, w.Slug)
		if w.Slug == prod.Slug && !slices.Contains(w.Permissions, "message.send") {
			t.Errorf("/v1/me %s: permissions %v lack the operator's message.send", w.Slug, w.Permissions)
		}
	}
	slices.Sort(slugs)
	want := []string{own.Slug, prod.Slug, staging.Slug}
	slices.Sort(want)
	if !slices.Equal(slugs, want) {
		t.Errorf("/v1/me workspaces %v, want %v", slugs, want)
	}

	h.do("DELETE", "/v1/orgs/acme/projects/web/members/dev", h.token("olive"), nil).want(http.StatusNoContent)
	var p page[wsView]
	h.do("GET", "/v1/workspaces", h.token("dev"), nil).want(http.StatusOK).decode(&p)
	for _, ws := range p.Items {
		if ws.Slug == prod.Slug {
			t.Errorf("%s still listed after leaving the project", prod.Slug)
		}
	}
}
