package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// orgMemberView is an organization membership in responses.
type orgMemberView struct {
	UserID      string    `json:"user_id"`
	Email       string    `json:"email,omitempty"`
	Roles       []string  `json:"roles"`
	Permissions []string  `json:"permissions"`
	JoinedAt    time.Time `json:"joined_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func (a *API) newOrgMemberView(m store.OrgMember, email string) orgMemberView {
	return orgMemberView{UserID: m.UserID, Email: email, Roles: nonNil(m.Roles),
		Permissions: a.orgPermissionNames(a.model.OrgPermissions(m.Roles)), JoinedAt: m.JoinedAt, UpdatedAt: m.UpdatedAt}
}

// GET /v1/orgs/{org}/members: any member (and global admins).
func (a *API) listOrgMembers(c *call) error {
	pg, err := c.page()
	if err != nil {
		return err
	}
	var (
		items []orgMemberView
		next  string
	)
	err = c.view(func(tx store.Tx) error {
		items = items[:0] // a backend may run fn again: only the last run counts
		st, err := c.orgStanding(tx)
		if err != nil {
			return err
		}
		ms, n, err := tx.OrgMembers(st.org.ID, pg.cursor, pg.limit)
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
			items = append(items, a.newOrgMemberView(m, users[m.UserID].Email))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, newList(items, next))
}

// GET /v1/orgs/{org}/members/{user}: any member (the list shows as much).
func (a *API) getOrgMember(c *call) error {
	var view orgMemberView
	err := c.view(func(tx store.Tx) error {
		st, err := c.orgStanding(tx)
		if err != nil {
			return err
		}
		m, err := orgMember(tx, st.org.ID, c.param("user"))
		if err != nil {
			return err
		}
		email, err := userEmail(tx, m.UserID)
		view = a.newOrgMemberView(m, email)
		return err
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, view)
}

// orgMember returns an organization membership or 404 member_not_found.
func orgMember(tx store.Tx, orgID, user string) (store.OrgMember, error) {
	m, err := tx.OrgMember(orgID, user)
	if errors.Is(err, store.ErrNotFound) {
		return m, notFound(codeMemberNotFound, "user "+quote(user)+" is not a member of this organization")
	}
	return m, err
}

type putOrgMemberRequest struct {
	Roles []string `json:"roles"`
}

// checkOrgRoles validates organization roles: at least one, at most
// maxRoles, each a configured org_role, none twice. Field is "roles"
// (the detail names the entry), with a did-you-mean for a near miss.
func (a *API) checkOrgRoles(roles []string) error {
	if len(roles) == 0 {
		return invalid("roles", "roles must name at least one organization role")
	}
	if len(roles) > maxRoles {
		return invalid("roles", fmt.Sprintf("roles may hold at most %d roles", maxRoles))
	}
	declared := make([]string, 0, len(a.model.OrgRoles()))
	for _, r := range a.model.OrgRoles() {
		declared = append(declared, r.Slug)
	}
	seen := make(map[string]bool, len(roles))
	for i, slug := range roles {
		if seen[slug] {
			return invalid("roles", fmt.Sprintf("roles[%d]: role %s is listed twice", i, quote(slug)))
		}
		seen[slug] = true
		if _, ok := a.model.OrgRole(slug); ok {
			continue
		}
		msg := fmt.Sprintf("roles[%d]: unknown organization role %s (roles: %s)", i, quote(slug), strings.Join(declared, ", "))
		if hint := authz.DidYouMean(slug, declared); hint != "" {
			msg += "; " + hint
		}
		return invalid("roles", msg)
	}
	return nil
}

// PUT /v1/orgs/{org}/members/{user}: organization.members. The caller must
// hold every organization permission the roles give, and everything the
// member held before (no escalation); the organization keeps a member
// holding organization.admin (409 last_admin).
func (a *API) putOrgMember(c *call) error {
	var req putOrgMemberRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if err := a.checkOrgRoles(req.Roles); err != nil {
		return err
	}
	user := c.param("user")
	var (
		view    orgMemberView
		created bool
		orgID   string
	)
	err := c.update(func(tx store.Tx) error {
		st, err := c.orgStandingWith(tx, model.PermOrgMembers)
		if err != nil {
			return err
		}
		before, err := tx.OrgMember(st.org.ID, user)
		// Assigned on every run: a retried run may find the member a
		// concurrent writer added.
		created = errors.Is(err, store.ErrNotFound)
		if err != nil && !created {
			return err
		}
		var email string
		if created {
			if email, err = orgVisibleUser(c, tx, user); err != nil {
				return err
			}
		} else if email, err = userEmail(tx, user); err != nil {
			return err
		}
		if err := a.orgNoEscalation(st, a.model.OrgPermissions(req.Roles), "assign these roles: they grant"); err != nil {
			return err
		}
		now := a.now().UTC()
		next := store.OrgMember{OrganizationID: st.org.ID, UserID: user, Roles: req.Roles, JoinedAt: now, UpdatedAt: now}
		if !created {
			next.JoinedAt = before.JoinedAt
			if err := a.orgNoEscalation(st, a.model.OrgPermissions(before.Roles), "change member "+user+": they hold"); err != nil {
				return err
			}
		}
		if err := tx.PutOrgMember(next); err != nil {
			return err
		}
		if !created {
			if err := a.keepOrgAdmin(tx, st.org, before); err != nil {
				return err
			}
		}
		view, orgID = a.newOrgMemberView(next, email), st.org.ID
		summary := map[string]any{"after": map[string]any{"roles": next.Roles}}
		if !created {
			summary["before"] = map[string]any{"roles": nonNil(before.Roles)}
		}
		return c.audit(tx, st.org.ID, "org_member.put", "user:"+user, summary)
	})
	if err != nil {
		return err
	}
	if created {
		return c.created("/v1/orgs/"+orgID+"/members/"+url.PathEscape(user), view)
	}
	return c.respond(http.StatusOK, view)
}

// DELETE /v1/orgs/{org}/members/{user}: organization.members (holding
// everything the member holds), or the user themself (leaving); never the
// last holder of organization.admin.
func (a *API) deleteOrgMember(c *call) error {
	user := c.param("user")
	self := user == c.user()
	err := c.update(func(tx store.Tx) error {
		var (
			st  *orgStanding
			err error
		)
		if self {
			st, err = c.orgStanding(tx)
		} else {
			st, err = c.orgStandingWith(tx, model.PermOrgMembers)
		}
		if err != nil {
			return err
		}
		before, err := orgMember(tx, st.org.ID, user)
		if err != nil {
			return err
		}
		if !self {
			if err := a.orgNoEscalation(st, a.model.OrgPermissions(before.Roles), "remove member "+user+": they hold"); err != nil {
				return err
			}
		}
		if err := tx.DeleteOrgMember(st.org.ID, user); err != nil {
			return err
		}
		if err := a.keepOrgAdmin(tx, st.org, before); err != nil {
			return err
		}
		return c.audit(tx, st.org.ID, "org_member.delete", "user:"+user, map[string]any{"before": map[string]any{"roles": nonNil(before.Roles)}})
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

// orgNoEscalation refuses (403 escalation) unless the caller holds every
// organization permission in want. what words the refusal: "you cannot
// <what> <missing>, which you do not hold".
func (a *API) orgNoEscalation(st *orgStanding, want authz.Set, what string) error {
	if st.perms.Contains(want) {
		return nil
	}
	cat := a.model.OrgCatalog()
	var missing []string
	for _, name := range want.Names(cat) {
		if !cat.HasName(st.perms, name) {
			missing = append(missing, name)
		}
	}
	p := problem.New(http.StatusForbidden, codeEscalation,
		"you cannot "+what+" "+strings.Join(missing, ", ")+", which you do not hold")
	p.RequiredPermission = missing[0]
	return p
}

// keepOrgAdmin runs the last-admin check after a change to (or removal
// of) a member who held organization.admin before it.
func (a *API) keepOrgAdmin(tx store.Tx, org store.Organization, before store.OrgMember) error {
	if !a.holdsOrgAdmin(before.Roles) {
		return nil
	}
	return a.orgAdminRemains(tx, org)
}

func (a *API) holdsOrgAdmin(roles []string) bool {
	return a.model.OrgCatalog().HasName(a.model.OrgPermissions(roles), model.PermOrgAdmin)
}

// orgAdminRemains answers 409 last_admin unless some member of org, as tx
// now stands (the change already applied), holds organization.admin. The
// members are read in the transaction that made the change, so two
// concurrent demotions cannot both pass (the store serializes writers).
func (a *API) orgAdminRemains(tx store.Tx, org store.Organization) error {
	cursor := ""
	for {
		ms, next, err := tx.OrgMembers(org.ID, cursor, maxLimit)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if a.holdsOrgAdmin(m.Roles) {
				return nil
			}
		}
		if next == "" {
			return conflict(codeLastAdmin, "organization "+org.Slug+" must keep at least one member holding "+model.PermOrgAdmin)
		}
		cursor = next
	}
}

// orgVisibleUser returns the email of a user the caller may add to an
// organization, or the 404 user_not_found of an unknown id: as for a
// workspace (README "Adding members"), only a user who shares a live
// workspace with the caller, or any known user for a global admin. An
// existing member's roles are replaced without it.
func orgVisibleUser(c *call, tx store.Tx, id string) (string, error) {
	u, err := tx.User(id)
	if errors.Is(err, store.ErrNotFound) {
		return "", userNotFound()
	}
	if err != nil {
		return "", err
	}
	if c.isGlobalAdmin() {
		return u.Email, nil
	}
	shared, err := sharesWorkspace(tx, c.user(), id)
	if err != nil || !shared {
		if err == nil {
			err = userNotFound()
		}
		return "", err
	}
	return u.Email, nil
}
