package model

import (
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// The invariants every write keeps (README "Management API"). Callers
// check them inside the write transaction of the change they guard, so
// that concurrent requests cannot both pass a check only one of them may
// pass. They answer with the errors below; the management API turns them
// into its 403 and 409 problems.

// EscalationError is a refused escalation: the caller lacks Missing
// (sorted, never empty), which what they tried to hand out or change holds.
type EscalationError struct {
	Missing []string
}

func (e *EscalationError) Error() string {
	return "escalation: the caller does not hold " + strings.Join(e.Missing, ", ")
}

// LastAdminError is a refused change that would leave workspace Workspace
// (its slug) without a member holding workspace.admin.
type LastAdminError struct {
	Workspace string
}

func (e *LastAdminError) Error() string {
	return "workspace " + e.Workspace + " must keep at least one member holding " + authz.PermAdmin
}

// Grantable returns the closure of what roles and patterns grant in a
// workspace, before any deny: what assigning them hands out. A role the
// workspace does not have grants nothing.
func (m *Model) Grantable(tx store.Tx, workspaceID string, roles, patterns []string) (authz.Set, error) {
	all := append([]string(nil), patterns...)
	for _, slug := range roles {
		p, _, err := m.RolePatterns(tx, workspaceID, slug)
		if err != nil {
			return authz.Set{}, err
		}
		all = append(all, p...)
	}
	return m.catalog.Expand(all), nil
}

// NoEscalation is nil when a holder of have may hand out granted (create
// or assign roles, grants, invites or API keys granting it): only what
// they hold themselves. Otherwise an *EscalationError.
func (m *Model) NoEscalation(have, granted authz.Set) error { return m.holdsAll(have, granted) }

// Outranks is nil when a holder of have may change or remove a member who
// holds target: only a member holding everything the target holds.
// Otherwise an *EscalationError.
func (m *Model) Outranks(have, target authz.Set) error { return m.holdsAll(have, target) }

func (m *Model) holdsAll(have, want authz.Set) error {
	if have.Contains(want) {
		return nil
	}
	return &EscalationError{Missing: m.Missing(have, want)}
}

// Missing lists, sorted, what want holds and have does not.
func (m *Model) Missing(have, want authz.Set) []string {
	var out []string
	for _, name := range want.Names(m.catalog) {
		if !m.catalog.HasName(have, name) {
			out = append(out, name)
		}
	}
	return out
}

// adminScanPage is how many members AdminRemains reads per store call.
const adminScanPage = 500

// AdminRemains is nil when some member of ws, as tx now stands (the change
// already applied), holds workspace.admin, else a *LastAdminError. Callers
// run it only when the change could have removed the last one.
//
// The workspace's custom roles are read once and every member is compiled
// in memory: no store read per member. The roles and the members are read
// in the transaction that made the change, so on a serializable backend a
// concurrent change to either makes one of the two transactions fail (and
// retry) rather than both pass the check.
func (m *Model) AdminRemains(tx store.Tx, ws store.Workspace) error {
	roles, err := m.WorkspaceRoles(tx, ws)
	if err != nil {
		return err
	}
	cursor := ""
	for {
		members, next, err := tx.Members(ws.ID, cursor, adminScanPage)
		if err != nil {
			return err
		}
		for _, mem := range members {
			if m.HoldsAdmin(roles.Access(mem).Permissions) {
				return nil
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return &LastAdminError{Workspace: ws.Slug}
}
