package admin

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Project members (README "Projects"). Every organization member may list
// them; adding, changing and removing needs organization.projects or
// project-admin standing, within the no-escalation rule of decision 3
// (noProjectEscalation); a member may always leave; a project keeps a
// project admin (last_admin). Only organization members can be project
// members: anyone else is the 404 user_not_found of an unknown user.

// projectMemberView is a project membership in responses.
type projectMemberView struct {
	UserID string   `json:"user_id"`
	Email  string   `json:"email,omitempty"`
	Roles  []string `json:"roles"`
	// WorkspaceRoles are what the roles map to in the project's PROJECT
	// workspaces.
	WorkspaceRoles []string  `json:"workspace_roles"`
	JoinedAt       time.Time `json:"joined_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func (a *API) newProjectMemberView(m store.ProjectMember, email string) projectMemberView {
	return projectMemberView{UserID: m.UserID, Email: email, Roles: nonNil(m.Roles),
		WorkspaceRoles: nonNil(a.model.ProjectWorkspaceRoles(m.Roles)), JoinedAt: m.JoinedAt, UpdatedAt: m.UpdatedAt}
}

// GET /v1/orgs/{org}/projects/{project}/members
func (a *API) listProjectMembers(c *call) error {
	pg, err := c.page()
	if err != nil {
		return err
	}
	var (
		items []projectMemberView
		next  string
	)
	err = c.view(func(tx store.Tx) error {
		items = items[:0] // a backend may run fn again: only the last run counts
		st, err := c.projectStanding(tx)
		if err != nil {
			return err
		}
		ms, n, err := tx.ProjectMembers(st.project.ID, pg.cursor, pg.limit)
		if err != nil {
			return err
		}
		next = n
		ids := make([]string, len(ms))
		for i, m := range ms {
			ids[i] = m.UserID
		}
		users, err := tx.UsersByID(ids)
		if err != nil {
			return err
		}
		for _, m := range ms {
			items = append(items, a.newProjectMemberView(m, users[m.UserID].Email))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, newList(items, next))
}

// GET /v1/orgs/{org}/projects/{project}/members/{user}
func (a *API) getProjectMember(c *call) error {
	var view projectMemberView
	err := c.view(func(tx store.Tx) error {
		st, err := c.projectStanding(tx)
		if err != nil {
			return err
		}
		m, err := projectMember(tx, st.project.ID, c.param("user"))
		if err != nil {
			return err
		}
		email, err := userEmail(tx, m.UserID)
		view = a.newProjectMemberView(m, email)
		return err
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, view)
}

// projectMember returns a project membership or 404 member_not_found.
func projectMember(tx store.Tx, projectID, user string) (store.ProjectMember, error) {
	m, err := tx.ProjectMember(projectID, user)
	if errors.Is(err, store.ErrNotFound) {
		return m, notFound(codeMemberNotFound, "user "+quote(user)+" is not a member of this project")
	}
	return m, err
}

type putProjectMemberRequest struct {
	Roles []string `json:"roles"`
}

// validate checks the roles against config: at least one, each a
// declared project role, none twice.
func (a *API) validatePutProjectMember(r *putProjectMemberRequest) error {
	if len(r.Roles) == 0 {
		return invalid("roles", "roles must list at least one project role (to remove the member, DELETE them)")
	}
	for i, slug := range r.Roles {
		if _, ok := a.model.ProjectRole(slug); !ok {
			return invalid("roles", "unknown project role "+quote(slug)+": see project_roles in GET /v1/permissions")
		}
		if slices.Contains(r.Roles[:i], slug) {
			return invalid("roles", "project role "+quote(slug)+" is listed twice")
		}
	}
	return nil
}

// PUT /v1/orgs/{org}/projects/{project}/members/{user}: add or replace a
// project membership of an organization member.
func (a *API) putProjectMember(c *call) error {
	var req putProjectMemberRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if err := a.validatePutProjectMember(&req); err != nil {
		return err
	}
	user := c.param("user")
	var (
		view    projectMemberView
		created bool
		path    string
	)
	err := c.update(func(tx store.Tx) error {
		st, err := c.projectStanding(tx)
		if err != nil {
			return err
		}
		if err := c.requireManageProject(st); err != nil {
			return err
		}
		email, err := orgMemberEmail(tx, st.org.org.ID, user)
		if err != nil {
			return err
		}
		if err := a.noProjectEscalation(st, req.Roles, "assign these project roles"); err != nil {
			return err
		}
		now := a.now().UTC()
		next := store.ProjectMember{ProjectID: st.project.ID, OrganizationID: st.project.OrganizationID,
			UserID: user, Roles: req.Roles, JoinedAt: now, UpdatedAt: now}
		before, err := tx.ProjectMember(st.project.ID, user)
		// Assigned on every run (a retried run may find the member a
		// concurrent writer added).
		created = errors.Is(err, store.ErrNotFound)
		switch {
		case created:
		case err != nil:
			return err
		default:
			next.JoinedAt = before.JoinedAt
			if err := a.noProjectEscalation(st, before.Roles, "change member "+user); err != nil {
				return err
			}
		}
		if err := tx.PutProjectMember(next); err != nil {
			return err
		}
		if !created && a.isProjectAdmin(before.Roles) {
			if err := a.projectAdminRemains(tx, st.project); err != nil {
				return err
			}
		}
		view = a.newProjectMemberView(next, email)
		path = "/v1/orgs/" + st.project.OrganizationID + "/projects/" + st.project.ID + "/members/" + url.PathEscape(user)
		summary := map[string]any{"user": user, "after": map[string]any{"roles": next.Roles}}
		if !created {
			summary["before"] = map[string]any{"roles": nonNil(before.Roles)}
		}
		return c.projectAudit(tx, st.project, "project_member.put", summary)
	})
	if err != nil {
		return err
	}
	if created {
		return c.created(path, view)
	}
	return c.respond(http.StatusOK, view)
}

// orgMemberEmail returns the email of a user who is a member of the
// organization, or 404 user_not_found: one answer for an unknown user and
// a user outside the organization, so a project admin learns nothing
// about users beyond the organization (its members they may list).
func orgMemberEmail(tx store.Tx, orgID, user string) (string, error) {
	_, err := tx.OrgMember(orgID, user)
	if errors.Is(err, store.ErrNotFound) {
		return "", notFound(codeUserNotFound, "no member of this organization has this id: add them to the organization first")
	}
	if err != nil {
		return "", err
	}
	return userEmail(tx, user)
}

// DELETE /v1/orgs/{org}/projects/{project}/members/{user}: a project
// manager within decision 3, or the member themself (leaving). The
// history stays in the organization's audit log.
func (a *API) deleteProjectMember(c *call) error {
	user := c.param("user")
	err := c.update(func(tx store.Tx) error {
		st, err := c.projectStanding(tx)
		if err != nil {
			return err
		}
		self := user == c.user()
		if !self {
			if err := c.requireManageProject(st); err != nil {
				return err
			}
		}
		before, err := projectMember(tx, st.project.ID, user)
		if err != nil {
			return err
		}
		if !self {
			if err := a.noProjectEscalation(st, before.Roles, "remove member "+user); err != nil {
				return err
			}
		}
		if err := tx.DeleteProjectMember(st.project.ID, user); err != nil {
			return err
		}
		if a.isProjectAdmin(before.Roles) {
			if err := a.projectAdminRemains(tx, st.project); err != nil {
				return err
			}
		}
		return c.projectAudit(tx, st.project, "project_member.delete", map[string]any{
			"user": user, "before": map[string]any{"roles": nonNil(before.Roles)}})
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

// leaveOrgProjects removes user from every project of organization orgID,
// in tx, with a project_member.delete event for each: what removing a
// member from the organization must do, since project members must be
// organization members and the gateway grants project roles by the
// project membership alone. It refuses (409 last_admin) when user is the
// last project admin of one of them, so that no project is left without
// an admin: reassign it first.
func (a *API) leaveOrgProjects(c *call, tx store.Tx, orgID, user string) error {
	var mine []store.ProjectMember
	cursor := ""
	for {
		pms, next, err := tx.UserProjectMemberships(user, cursor, maxLimit)
		if err != nil {
			return err
		}
		for _, pm := range pms {
			if pm.OrganizationID == orgID {
				mine = append(mine, pm)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	for _, pm := range mine {
		p, err := tx.Project(pm.ProjectID)
		if err != nil {
			return err
		}
		if err := tx.DeleteProjectMember(pm.ProjectID, user); err != nil {
			return err
		}
		if a.isProjectAdmin(pm.Roles) {
			if err := a.projectAdminRemains(tx, p); err != nil {
				return err
			}
		}
		if err := c.projectAudit(tx, p, "project_member.delete", map[string]any{
			"user": user, "before": map[string]any{"roles": nonNil(pm.Roles)}, "why": "left the organization"}); err != nil {
			return err
		}
	}
	return nil
}
