package admin

import (
	"errors"
	"net/http"
	"sort"

	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/route"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

type explainRequest struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	// User is whom to explain for (default: the caller); APIKey a key id
	// of the workspace instead.
	User   string `json:"user"`
	APIKey string `json:"api_key"`
}

// POST /v1/workspaces/{ws}/explain: why the gateway would allow or deny
// a request, computed from the store in one read transaction (never from
// the caches) against the live rule tables.
func (a *API) explain(c *call) error {
	var req explainRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	switch {
	case req.Method == "":
		return invalid("method", "method is required")
	case !route.ValidRequestMethod(req.Method):
		return invalid("method", "the method must be an upper-case token (GET, POST, ...)")
	case req.Path == "":
		return invalid("path", "path is required")
	case len(req.Path) > 8192:
		return invalid("path", "path is longer than 8192 bytes")
	case req.User != "" && req.APIKey != "":
		return invalid("api_key", "give user or api_key, not both")
	}
	var ex *gateway.Explanation
	err := c.view(func(tx store.Tx) error {
		st, err := c.standing(tx)
		if err != nil {
			return err
		}
		in := gateway.ExplainInput{Method: req.Method, Path: req.Path, Subject: req.User, KeyID: req.APIKey, Workspace: st.ws}
		if in.Subject == "" && in.KeyID == "" {
			in.Subject = c.user()
		}
		if in.KeyID != "" || in.Subject != c.user() {
			if !st.access.Permissions.Has(a.builtinIDs.members) {
				return missingPermission(a.catalog.Name(a.builtinIDs.members), st.ws.Slug)
			}
		}
		if in.KeyID != "" {
			if _, err := a.workspaceKey(tx, st, in.KeyID); err != nil {
				return err
			}
		}
		policy, err := a.ruleTableFor(req.Path)
		if err != nil {
			return err
		}
		ex, err = policy.Explain(tx, in)
		if errors.Is(err, gateway.ErrOtherWorkspace) {
			return invalid("path", "the path names another workspace: explain it in that workspace")
		}
		if err == nil && in.KeyID == "" && in.Subject != c.user() && ex.Requirement != nil &&
			ex.Requirement.Kind == gateway.KeywordGlobalAdmin && !c.isGlobalAdmin() {
			// The answer would say whether another user is a global admin:
			// workspace.members is about this workspace's members, not that.
			return problem.New(http.StatusForbidden, problem.CodeForbidden,
				"only a global admin may explain a global_admin rule for another user: the answer would tell whether they are one")
		}
		return err
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, ex)
}

// ruleTableFor picks the rule table of the gatehouse directive serving
// path: the one table whose rules match it; the first when none does (the
// answer is then no_rule). Several directives matching the same path are
// ambiguous: explain refuses rather than guess.
func (a *API) ruleTableFor(path string) (*gateway.Policy, error) {
	var tables []*gateway.Policy
	if a.ruleTables != nil {
		tables = a.ruleTables()
	}
	if len(tables) == 0 {
		return nil, problem.New(http.StatusServiceUnavailable, problem.CodeUnavailable,
			"no gatehouse directive is configured: there is no rule table to explain against")
	}
	var match *gateway.Policy
	for _, t := range tables {
		if !t.Matches(path) {
			continue
		}
		if match != nil {
			return nil, invalid("path", "several gatehouse directives have rules for this path: explain cannot tell which site serves it")
		}
		match = t
	}
	if match == nil {
		match = tables[0]
	}
	return match, nil
}

// GET /v1/workspaces/{ws}/members/{user}/effective: every effective
// permission of the member with its provenance, read from the store.
func (a *API) getEffective(c *call) error {
	pg, err := c.page()
	if err != nil {
		return err
	}
	var items []gateway.Provenance
	next := ""
	err = c.view(func(tx store.Tx) error {
		next = "" // a backend may run fn again: only the last run counts
		st, err := c.standingForMember(tx)
		if err != nil {
			return err
		}
		// What the gateway reads (readAccess): a workspace of a deleted
		// organization grants nothing, and a member is one explicitly or
		// through a project role in a PROJECT workspace.
		user := c.param("user")
		orgGone, err := a.model.OrganizationDeleted(tx, st.ws)
		if err != nil {
			return err
		}
		all := []gateway.Provenance{}
		if !orgGone {
			var found bool
			all, found, err = a.model.EffectivePermissionsOf(tx, st.ws, user)
			if err != nil {
				return err
			}
			if !found {
				return notFound(codeMemberNotFound, "user "+quote(user)+" is not a member of this workspace")
			}
		} else if _, err := a.member(tx, st.ws.ID, user); err != nil {
			// Its explicit members learn it grants nothing (the gateway
			// tells them workspace_deleted); nobody else is a member.
			return err
		}
		// Sorted by name; the cursor is the last name of a page.
		start := sort.Search(len(all), func(i int) bool { return all[i].Permission > pg.cursor })
		if pg.cursor == "" {
			start = 0
		}
		end := min(start+pg.limit, len(all))
		items = all[start:end]
		if end < len(all) {
			next = all[end-1].Permission
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, newList(items, next))
}
