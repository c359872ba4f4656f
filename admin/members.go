package admin

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// memberView is a membership in responses.
type memberView struct {
	UserID       string              `json:"user_id"`
	Email        string              `json:"email,omitempty"`
	Roles        []string            `json:"roles"`
	Grants       []string            `json:"grants"`
	Denies       []string            `json:"denies"`
	Restrictions map[string][]string `json:"restrictions"`
	Permissions  []string            `json:"permissions,omitempty"`
	JoinedAt     time.Time           `json:"joined_at"`
	UpdatedAt    time.Time           `json:"updated_at"`
}

func newMemberView(m store.Membership, email string) memberView {
	return memberView{UserID: m.UserID, Email: email, Roles: nonNil(m.Roles), Grants: nonNil(m.Grants),
		Denies: nonNil(m.Denies), Restrictions: nonNilMap(m.Restrictions), JoinedAt: m.JoinedAt, UpdatedAt: m.UpdatedAt}
}

// userEmails returns the recorded emails of the members' users, with one
// set-based read (a missing user is absent: no email).
func userEmails(tx store.Tx, ms []store.Membership) (map[string]string, error) {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.UserID
	}
	users, err := tx.UsersByID(ids)
	if err != nil {
		return nil, err
	}
	emails := make(map[string]string, len(users))
	for id, u := range users {
		emails[id] = u.Email
	}
	return emails, nil
}

// userEmail is the recorded email of a user, "" when unknown.
func userEmail(tx store.Tx, id string) (string, error) {
	u, err := tx.User(id)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return u.Email, err
}

// GET /v1/workspaces/{ws}/members
func (a *API) listMembers(c *call) error {
	pg, err := c.page()
	if err != nil {
		return err
	}
	if email, given := c.r.URL.Query()["email"]; given {
		return a.findMembers(c, pg, email[0])
	}
	var (
		items []memberView
		next  string
	)
	err = c.view(func(tx store.Tx) error {
		items = items[:0] // a backend may run fn again: only the last run counts
		st, err := c.standingWith(tx, a.builtinIDs.members)
		if err != nil {
			return err
		}
		ms, n, err := tx.Members(st.ws.ID, pg.cursor, pg.limit)
		if err != nil {
			return err
		}
		next = n
		emails, err := userEmails(tx, ms)
		if err != nil {
			return err
		}
		items = make([]memberView, 0, len(ms))
		for _, m := range ms {
			items = append(items, newMemberView(m, emails[m.UserID]))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, newList(items, next))
}

// GET /v1/workspaces/{ws}/members?email=: the members of this workspace
// whose recorded email is email (ASCII case-insensitive, exact). It looks
// only among the workspace's members, so it tells the caller nothing about
// users outside it: not whether one with that email exists.
func (a *API) findMembers(c *call, pg page, email string) error {
	if _, err := normalizeEmail("email", email); err != nil {
		return err
	}
	items := []memberView{}
	var next string
	err := c.view(func(tx store.Tx) error {
		items, next = items[:0], "" // a backend may run fn again: only the last run counts
		st, err := c.standingWith(tx, a.builtinIDs.members)
		if err != nil {
			return err
		}
		cursor := pg.cursor
		for {
			ms, n, err := tx.Members(st.ws.ID, cursor, maxLimit)
			if err != nil {
				return err
			}
			emails, err := userEmails(tx, ms)
			if err != nil {
				return err
			}
			for _, m := range ms {
				recorded := emails[m.UserID]
				if !asciiEqualFold(recorded, email) {
					continue
				}
				if len(items) == pg.limit {
					// Another match follows: the page's last member is the cursor.
					next = items[len(items)-1].UserID
					return nil
				}
				items = append(items, newMemberView(m, recorded))
			}
			if n == "" {
				return nil
			}
			cursor = n
		}
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, newList(items, next))
}

// asciiEqualFold compares two strings ignoring the case of ASCII letters
// only, the way email domains (and, in practice, local parts) compare.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// GET /v1/workspaces/{ws}/members/{user}: workspace.members, or oneself.
func (a *API) getMember(c *call) error {
	var view memberView
	err := c.view(func(tx store.Tx) error {
		st, err := c.standingForMember(tx)
		if err != nil {
			return err
		}
		m, err := a.member(tx, st.ws.ID, c.param("user"))
		if err != nil {
			return err
		}
		// What the member may do, as the gateway decides it: project
		// roles and plan included.
		ms, _, err := a.userStanding(tx, st.ws, m.UserID)
		if err != nil {
			return err
		}
		email, err := userEmail(tx, m.UserID)
		view = newMemberView(m, email)
		if ms != nil {
			view.Permissions = a.permissionNames(ms.access.Permissions)
		}
		return err
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, view)
}

// standingForMember requires workspace.members, unless the {user} of the
// request is the caller.
func (c *call) standingForMember(tx store.Tx) (*standing, error) {
	if c.param("user") == c.user() {
		return c.standing(tx)
	}
	return c.standingWith(tx, c.api.builtinIDs.members)
}

// member returns a membership or 404 member_not_found.
func (a *API) member(tx store.Tx, workspaceID, user string) (store.Membership, error) {
	m, err := tx.Member(workspaceID, user)
	if errors.Is(err, store.ErrNotFound) {
		return m, notFound(codeMemberNotFound, "user "+quote(user)+" is not a member of this workspace")
	}
	return m, err
}

type putMemberRequest struct {
	Roles        []string            `json:"roles"`
	Grants       []string            `json:"grants"`
	Denies       []string            `json:"denies"`
	Restrictions map[string][]string `json:"restrictions"`
}

// validate checks what needs no transaction.
func (a *API) validatePutMember(req *putMemberRequest) error {
	if err := a.checkPatterns("grants", req.Grants); err != nil {
		return err
	}
	if err := a.checkPatterns("denies", req.Denies); err != nil {
		return err
	}
	return checkRestrictions("restrictions", req.Restrictions)
}

// PUT /v1/workspaces/{ws}/members/{user}: add or replace a membership of a
// known user.
func (a *API) putMember(c *call) error {
	var req putMemberRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if err := a.validatePutMember(&req); err != nil {
		return err
	}
	user := c.param("user")
	var (
		view    memberView
		created bool
		wsID    string
	)
	err := c.update(func(tx store.Tx) error {
		st, err := c.standingWith(tx, a.builtinIDs.members)
		if err != nil {
			return err
		}
		if err := a.checkRoles(tx, st.ws.ID, "roles", req.Roles, true); err != nil {
			return err
		}
		if err := a.memberFeatures(tx, st, user, &req); err != nil {
			return err
		}
		email, err := a.visibleUser(c, tx, st.ws, user)
		if err != nil {
			return err
		}
		granted, err := a.grantable(tx, st.ws.ID, req.Roles, req.Grants)
		if err != nil {
			return err
		}
		if err := a.noEscalation(st, granted, "assign these roles and grants"); err != nil {
			return err
		}
		if err := a.noWiderRestrictions(st, req.Restrictions, "assign these restrictions"); err != nil {
			return err
		}
		now := a.now().UTC()
		next := store.Membership{WorkspaceID: st.ws.ID, UserID: user, Roles: req.Roles, Grants: req.Grants,
			Denies: req.Denies, Restrictions: req.Restrictions, JoinedAt: now, UpdatedAt: now}
		before, err := tx.Member(st.ws.ID, user)
		// Assigned on every run, never only set: a retried run (store
		// "Transactions") may find the member a concurrent writer added.
		created = errors.Is(err, store.ErrNotFound)
		switch {
		case created:
		case err != nil:
			return err
		default:
			next.JoinedAt = before.JoinedAt
			if err := a.guardChange(tx, st, before, "member "+user); err != nil {
				return err
			}
		}
		if err := tx.PutMember(next); err != nil {
			return err
		}
		if !created {
			if err := a.keepAdmin(tx, st, before); err != nil {
				return err
			}
		}
		view, wsID = newMemberView(next, email), st.ws.ID
		summary := map[string]any{"after": newMemberView(next, "")}
		if !created {
			summary["before"] = newMemberView(before, "")
		}
		return c.audit(tx, st.ws.ID, "member.put", "user:"+user, summary)
	})
	if err != nil {
		return err
	}
	if created {
		return c.created("/v1/workspaces/"+wsID+"/members/"+url.PathEscape(user), view)
	}
	return c.respond(http.StatusOK, view)
}

// visibleUser returns the email of a user the caller may add directly to
// ws, or 404 user_not_found. A caller may only learn that a user exists
// (and read their email) when they already share a live workspace with
// that user, both are members of ws's organization, or they are a global
// admin; anyone else is added through an invite. The answer for a user
// the caller may not see is byte for byte the answer for an unknown id,
// so it tells nothing about who exists.
func (a *API) visibleUser(c *call, tx store.Tx, ws store.Workspace, id string) (string, error) {
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
	if both, err := bothOrgMembers(tx, ws.OrganizationID, c.user(), id); err != nil || both {
		return u.Email, err
	}
	shared, err := sharesWorkspace(tx, c.user(), id)
	if err != nil {
		return "", err
	}
	if !shared {
		return "", userNotFound()
	}
	return u.Email, nil
}

// userNotFound is the one answer for an unknown user and for a user the
// caller may not see.
func userNotFound() error {
	return notFound(codeUserNotFound, "no user you share a workspace with has this id: invite them by email instead")
}

// bothOrgMembers reports whether users a and b are both members of
// organization orgID ("": no organization, false). The organization is
// live: ws's standing was checked, and a deleted organization hides its
// workspaces.
func bothOrgMembers(tx store.Tx, orgID, a, b string) (bool, error) {
	if orgID == "" {
		return false, nil
	}
	for _, u := range []string{a, b} {
		_, err := tx.OrgMember(orgID, u)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
	return true, nil
}

// sharesWorkspace reports whether users a and b are both members of some
// workspace that is not deleted. It reads both users' memberships and the
// workspaces they have in common with set-based reads: no store read per
// membership.
func sharesWorkspace(tx store.Tx, a, b string) (bool, error) {
	ofA := map[string]bool{}
	if err := eachMembershipPage(tx, a, func(ms []store.Membership) error {
		for _, m := range ms {
			ofA[m.WorkspaceID] = true
		}
		return nil
	}); err != nil {
		return false, err
	}
	shared := false
	errShared := errors.New("shared") // stops the walk at the first live shared workspace
	err := eachMembershipPage(tx, b, func(ms []store.Membership) error {
		var common []string
		for _, m := range ms {
			if ofA[m.WorkspaceID] {
				common = append(common, m.WorkspaceID)
			}
		}
		if len(common) == 0 {
			return nil
		}
		wss, err := tx.WorkspacesByID(common)
		if err != nil {
			return err
		}
		for _, ws := range wss {
			if !ws.Deleted() {
				shared = true
				return errShared
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errShared) {
		return false, err
	}
	return shared, nil
}

// eachMembershipPage calls fn with each page of user's memberships.
func eachMembershipPage(tx store.Tx, user string, fn func([]store.Membership) error) error {
	cursor := ""
	for {
		ms, next, err := tx.UserMemberships(user, cursor, maxLimit)
		if err != nil {
			return err
		}
		if err := fn(ms); err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

// guardChange lets the caller change or remove a member only when the
// caller holds everything that member holds, by the same compiled standing
// the caller is judged by (project roles and plan included), and the
// member's restrictions are within the caller's.
func (a *API) guardChange(tx store.Tx, st *standing, target store.Membership, who string) error {
	ts, found, err := a.userStanding(tx, st.ws, target.UserID)
	if err != nil {
		return err
	}
	if !found {
		// Cannot happen for a stored membership; fail closed.
		return errors.New("admin: no standing for member " + target.UserID)
	}
	if err := a.outranks(st, ts, who); err != nil {
		return err
	}
	// A member restricted less than the caller reaches resources the
	// caller cannot: they outrank the caller there.
	return a.noWiderRestrictions(st, target.Restrictions, "change "+who)
}

// keepAdmin runs the last-admin check after a change to (or removal of) a
// member who held workspace.admin before it.
func (a *API) keepAdmin(tx store.Tx, st *standing, before store.Membership) error {
	access, err := a.model.MemberAccess(tx, st.ws, before)
	if err != nil || !a.holdsAdmin(access.Permissions) {
		return err
	}
	return a.adminRemains(tx, st.ws)
}

// DELETE /v1/workspaces/{ws}/members/{user}: workspace.members, or the
// user themself (leaving). The history stays in the audit log.
func (a *API) deleteMember(c *call) error {
	user := c.param("user")
	err := c.update(func(tx store.Tx) error {
		st, err := c.standingForMember(tx)
		if err != nil {
			return err
		}
		before, err := a.member(tx, st.ws.ID, user)
		if err != nil {
			return err
		}
		if err := a.guardChange(tx, st, before, "member "+user); err != nil {
			return err
		}
		if err := tx.DeleteMember(st.ws.ID, user); err != nil {
			return err
		}
		if err := a.keepAdmin(tx, st, before); err != nil {
			return err
		}
		return c.audit(tx, st.ws.ID, "member.delete", "user:"+user, map[string]any{"before": newMemberView(before, "")})
	})
	if err != nil {
		return err
	}
	return c.noContent()
}
