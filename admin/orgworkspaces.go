package admin

import (
	"errors"
	"net/http"
	"slices"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// An organization's workspaces (README "Organizations, projects and
// plans", decision 1): organization.workspaces lists them, creates them
// in the organization, renames and soft-deletes them — and nothing else:
// reading their data or managing their members, roles, keys or audit
// takes a workspace permission, as for anyone.

// orgWorkspaceQuery: the query parameters of GET /v1/orgs/{org}/workspaces.
var orgWorkspaceQuery = []string{"limit", "cursor", "project"}

// placeWorkspace resolves a create request's organization and project,
// checks the caller may create a workspace there, and fills nw. It
// returns the caller's organization standing (nil for a workspace outside
// any organization). Who may:
//
//   - in an organization: organization.workspaces;
//   - a PROJECT workspace of a project: also a project admin of it.
func (c *call) placeWorkspace(tx store.Tx, req *createWorkspaceRequest, nw *model.NewWorkspace) (*orgStanding, error) {
	if req.Organization == "" {
		if req.Scope != "" {
			nw.Scope = store.Scope(req.Scope)
		}
		return nil, nil
	}
	org, err := lookupOrganization(tx, req.Organization)
	if err == nil && org.Deleted() {
		err = organizationNotFound()
	}
	if err != nil {
		return nil, err
	}
	ost, err := c.api.orgStandingIn(tx, org, c.user(), c.isGlobalAdmin())
	if err != nil {
		return nil, err
	}
	nw.OrganizationID, nw.Scope = org.ID, store.ScopePrivate
	if req.Scope != "" {
		nw.Scope = store.Scope(req.Scope)
	}
	allowed := ost.holds(c.api, model.PermOrgWorkspaces)
	if req.Project != "" {
		p, err := lookupProject(tx, org.ID, req.Project)
		if err != nil {
			return nil, err
		}
		nw.ProjectID = p.ID
		if !allowed && nw.Scope == store.ScopeProject {
			roles, err := projectRolesOf(tx, p.ID, c.user())
			if err != nil {
				return nil, err
			}
			allowed = c.api.isProjectAdmin(roles)
		}
	}
	if !allowed {
		return nil, missingOrgPermission(model.PermOrgWorkspaces, org.Slug)
	}
	return ost, nil
}

// workspaceManager is standingWith(perm) for the endpoints an
// organization's workspace managers share with the workspace's own
// (PATCH and DELETE of the workspace): when the caller lacks perm in the
// workspace, or is no member of it, but the workspace belongs to a live
// organization where they hold organization.workspaces, they may act, as
// the organization: the standing then carries no workspace access at all
// (org set). Global admins get no such pass: the organization permission
// must be their own.
func (c *call) workspaceManager(tx store.Tx, perm authz.PermID) (*standing, error) {
	st, err := c.standingWith(tx, perm)
	var p *problem.Problem
	if err == nil || !errors.As(err, &p) || (p.Code != problem.CodeWorkspaceNotFound && p.Code != problem.CodeForbidden) {
		return st, err
	}
	ws, lerr := c.liveWorkspace(tx, c.param("ws"))
	if lerr != nil || ws.OrganizationID == "" {
		return nil, err
	}
	org, oerr := tx.Organization(ws.OrganizationID)
	if oerr != nil {
		if errors.Is(oerr, store.ErrNotFound) {
			return nil, err
		}
		return nil, oerr
	}
	ost, oerr := c.api.orgStandingIn(tx, org, c.user(), false)
	var op *problem.Problem
	switch {
	case errors.As(oerr, &op):
		return nil, err
	case oerr != nil:
		return nil, oerr
	case !ost.holds(c.api, model.PermOrgWorkspaces):
		return nil, err
	}
	none := &model.Access{}
	plan, perr := c.api.model.WorkspacePlan(tx, ws)
	if perr != nil {
		return nil, perr
	}
	return &standing{ws: ws, access: none, raw: none, plan: plan, org: ost}, nil
}

// workspaceAudit records a change to the workspace in its audit log and,
// when the caller acted as the organization (st.org), in the
// organization's too: they cannot read the workspace's.
func (c *call) workspaceAudit(tx store.Tx, st *standing, action string, summary any) error {
	if err := c.audit(tx, st.ws.ID, action, "workspace:"+st.ws.ID, summary); err != nil {
		return err
	}
	if st.org == nil {
		return nil
	}
	return c.audit(tx, st.org.org.ID, action, "workspace:"+st.ws.ID, summary)
}

// GET /v1/orgs/{org}/workspaces?project=: the organization's live
// workspaces (of one project with ?project=, id or slug). Holders of
// organization.workspaces see all of them; anyone else of the
// organization those they are a member of, explicitly or through the
// project. Roles are the caller's in each. A page may hold fewer than
// limit items: follow next_cursor to the end.
func (a *API) listOrgWorkspaces(c *call) error {
	pg, err := c.page()
	if err != nil {
		return err
	}
	var (
		items []workspaceView
		next  string
	)
	err = c.view(func(tx store.Tx) error {
		items = items[:0] // a backend may run fn again: only the last run counts
		org, err := c.orgStanding(tx)
		if err != nil {
			return err
		}
		projectID := ""
		if ref := c.r.URL.Query().Get("project"); ref != "" {
			p, err := lookupProject(tx, org.org.ID, ref)
			if err != nil {
				return err
			}
			projectID = p.ID
		}
		all := org.holds(a, model.PermOrgWorkspaces)
		wss, n, err := tx.OrgWorkspaces(org.org.ID, projectID, pg.cursor, pg.limit)
		if err != nil {
			return err
		}
		next = n
		mine, err := a.myOrgRoles(tx, c.user())
		if err != nil {
			return err
		}
		plans := map[string]*model.Plan{}
		for _, ws := range wss {
			if ws.Deleted() || ws.EffectiveScope() == store.ScopeLocal {
				continue
			}
			roles, member := mine.workspaceRoles(a, ws)
			if !member && !all {
				continue
			}
			v, err := a.workspaceView(tx, ws, roles, plans)
			if err != nil {
				return err
			}
			items = append(items, v)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, newList(items, next))
}

// myRoles are a user's explicit workspace roles and project roles, read
// with one list call per kind (not a read per workspace listed).
type myRoles struct {
	workspace map[string][]string // workspace id → explicit roles
	project   map[string][]string // project id → project roles
}

// myOrgRoles reads user's memberships of workspaces and projects.
func (a *API) myOrgRoles(tx store.Tx, user string) (*myRoles, error) {
	r := &myRoles{workspace: map[string][]string{}, project: map[string][]string{}}
	if err := eachMembershipPage(tx, user, func(ms []store.Membership) error {
		for _, m := range ms {
			r.workspace[m.WorkspaceID] = m.Roles
		}
		return nil
	}); err != nil {
		return nil, err
	}
	cursor := ""
	for {
		pms, next, err := tx.UserProjectMemberships(user, cursor, maxLimit)
		if err != nil {
			return nil, err
		}
		for _, pm := range pms {
			r.project[pm.ProjectID] = pm.Roles
		}
		if next == "" {
			return r, nil
		}
		cursor = next
	}
}

// workspaceRoles is the user's roles in ws as model.WorkspaceAccess
// names them (explicit ones, then those the project roles map to in a
// PROJECT workspace), and whether the user is a member by either source.
func (r *myRoles) workspaceRoles(a *API, ws store.Workspace) ([]string, bool) {
	roles, explicit := r.workspace[ws.ID]
	roles = slices.Clone(roles)
	var inherited []string
	if ws.EffectiveScope() == store.ScopeProject && ws.ProjectID != "" {
		inherited = a.model.ProjectWorkspaceRoles(r.project[ws.ProjectID])
	}
	for _, slug := range inherited {
		if !slices.Contains(roles, slug) {
			roles = append(roles, slug)
		}
	}
	return roles, explicit || len(inherited) > 0
}
