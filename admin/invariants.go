package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Invariants (README "Management API"): the rules are the model's
// (internal/model); here they become the API's problems. Each is checked
// inside the write transaction of the change it guards, so that
// concurrent requests cannot both pass a check that only one of them may
// pass.

// grantable returns the closure of what roles and patterns grant, before
// any deny: what assigning them hands out.
func (a *API) grantable(tx store.Tx, workspaceID string, roles, patterns []string) (authz.Set, error) {
	return a.model.Grantable(tx, workspaceID, roles, patterns)
}

// noEscalation refuses to hand out permissions the caller does not hold
// (403 escalation, naming what is missing). It judges twice, by the
// compiled standing (project roles included): under the workspace's plan
// (what granted gives now, within the plan's ceiling, against what the
// caller holds now), and before it (granted whole against the caller's
// access without the plan), so that an upgrade later can never make what
// was handed out on a small plan exceed its giver.
func (a *API) noEscalation(st *standing, granted authz.Set, what string) error {
	detail := func(missing string) string {
		return "you cannot " + what + ": it grants " + missing + ", which you do not hold"
	}
	now := granted
	if st.plan != nil {
		now = granted.Intersect(st.plan.Ceiling())
	}
	if err := escalation(st, a.model.NoEscalation(st.access.Permissions, now), detail); err != nil {
		return err
	}
	return escalation(st, a.model.NoEscalation(st.raw.Permissions, granted), detail)
}

// outranks refuses to let the caller change or remove a member who holds
// something the caller does not (403 escalation), comparing like with
// like: the target's standing under the plan with the caller's, and the
// two before the plan.
func (a *API) outranks(st, target *standing, who string) error {
	detail := func(missing string) string {
		return "you cannot change " + who + ": they hold " + missing + ", which you do not"
	}
	if err := escalation(st, a.model.Outranks(st.access.Permissions, target.access.Permissions), detail); err != nil {
		return err
	}
	return escalation(st, a.model.Outranks(st.raw.Permissions, target.raw.Permissions), detail)
}

// escalation turns the model's *EscalationError into the 403 escalation;
// detail words it from the list of what is missing.
func escalation(st *standing, err error, detail func(missing string) string) error {
	var esc *model.EscalationError
	if !errors.As(err, &esc) {
		return err
	}
	p := problem.New(http.StatusForbidden, codeEscalation, detail(strings.Join(esc.Missing, ", ")))
	p.RequiredPermission = esc.Missing[0]
	p.Workspace = st.ws.Slug
	return p
}

// adminRemains answers 409 last_admin unless some member of ws, as tx now
// stands (the change already applied), holds workspace.admin
// (model.AdminRemains). Callers run it only when the change could have
// removed the last one.
func (a *API) adminRemains(tx store.Tx, ws store.Workspace) error {
	err := a.model.AdminRemains(tx, ws)
	var last *model.LastAdminError
	if errors.As(err, &last) {
		return conflict(codeLastAdmin, last.Error())
	}
	return err
}

// holdsAdmin reports whether a set includes workspace.admin.
func (a *API) holdsAdmin(s authz.Set) bool { return a.model.HoldsAdmin(s) }
