package admin

import (
	"net/http"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Invariants (README "Management API"), checked inside the write transaction of the change
// they guard, so that concurrent requests cannot both pass a check that
// only one of them may pass.

// grantable returns the closure of what roles and patterns grant, before
// any deny: what assigning them hands out.
func (a *API) grantable(tx store.Tx, workspaceID string, roles, patterns []string) (authz.Set, error) {
	all := append([]string(nil), patterns...)
	for _, slug := range roles {
		p, _, err := a.engine.RolePatterns(tx, workspaceID, slug)
		if err != nil {
			return authz.Set{}, err
		}
		all = append(all, p...)
	}
	return a.catalog.Expand(all), nil
}

// noEscalation refuses to hand out permissions the caller does not hold
// (403 escalation, naming what is missing).
func (a *API) noEscalation(st *standing, granted authz.Set, what string) error {
	return a.holdsAll(st, granted, func(missing string) string {
		return "you cannot " + what + ": it grants " + missing + ", which you do not hold"
	})
}

// outranks refuses to let the caller change or remove a member who holds
// something the caller does not (403 escalation).
func (a *API) outranks(st *standing, target authz.Set, who string) error {
	return a.holdsAll(st, target, func(missing string) string {
		return "you cannot change " + who + ": they hold " + missing + ", which you do not"
	})
}

// holdsAll is the 403 escalation unless the caller holds all of want;
// detail words it from the list of what is missing.
func (a *API) holdsAll(st *standing, want authz.Set, detail func(missing string) string) error {
	if st.access.Permissions.Contains(want) {
		return nil
	}
	missing := a.missing(st.access.Permissions, want)
	p := problem.New(http.StatusForbidden, codeEscalation, detail(strings.Join(missing, ", ")))
	p.RequiredPermission = missing[0]
	p.Workspace = st.ws.Slug
	return p
}

// missing lists what want holds and have does not.
func (a *API) missing(have, want authz.Set) []string {
	var out []string
	for _, name := range want.Names(a.catalog) {
		if !a.catalog.HasName(have, name) {
			out = append(out, name)
		}
	}
	return out
}

// adminRemains answers 409 last_admin unless some member of ws, as tx now
// stands (the change already applied), holds workspace.admin. Callers run
// it only when the change could have removed the last one.
//
// The workspace's custom roles are read once and every member is compiled
// in memory: no store read per member. The roles and the members are read
// in the transaction that made the change, so on a serializable backend a
// concurrent change to either makes one of the two transactions fail (and
// retry) rather than both pass the check.
func (a *API) adminRemains(tx store.Tx, ws store.Workspace) error {
	roles, err := a.engine.WorkspaceRoles(tx, ws)
	if err != nil {
		return err
	}
	cursor := ""
	for {
		members, next, err := tx.Members(ws.ID, cursor, maxLimit)
		if err != nil {
			return err
		}
		for _, m := range members {
			if roles.Access(m).Permissions.Has(a.builtinIDs.admin) {
				return nil
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return conflict(codeLastAdmin, "workspace "+ws.Slug+" must keep at least one member holding "+authz.PermAdmin)
}

// holdsAdmin reports whether a set includes workspace.admin.
func (a *API) holdsAdmin(s authz.Set) bool { return s.Has(a.builtinIDs.admin) }
