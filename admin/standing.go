package admin

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/ident"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// standing is the caller's standing in the request's workspace, read in
// the handler's own transaction so that checks and changes agree.
type standing struct {
	ws store.Workspace
	// member is the explicit membership (zero for a member through the
	// project only): what /me shows as grants, denies and restrictions.
	// What a PUT replaces, what leaving removes and what the last-admin
	// count reads are read from the store where they are needed (only
	// explicit members count: decision 4).
	member store.Membership
	// access is model.Standing: the explicit membership and the roles a
	// project role maps to in a PROJECT workspace, under the workspace's
	// plan. Every permission check and every invariant judges by it, as
	// the gateway does.
	access *model.Access
	// raw is the same before the plan (model.WorkspaceAccess). The
	// invariants also check it, so that nothing handed out on a small
	// plan exceeds the caller once an upgrade brings the gated part back.
	raw *model.Access
	// plan governs the workspace (nil when config declares none).
	plan *model.Plan
	// org is set when the caller acts as the workspace's organization
	// (workspaceManager): then access and raw are empty.
	org *orgStanding
}

// view runs fn in a read transaction of the request.
func (c *call) view(fn func(tx store.Tx) error) error {
	return c.api.store.View(c.r.Context(), fn)
}

// update runs fn in a write transaction of the request: a returned error
// (a problem included) rolls everything back. Once it has committed, each
// audit event it appended is logged.
//
// Every mutation of the API goes through here, so this is where its
// answer gets Gatehouse-Revision: the token of this commit (README "Consistency tokens").
// c.fail removes it again if the request fails after all.
func (c *call) update(fn func(tx store.Tx) error) error {
	var events []store.AuditEvent
	rev, err := c.api.store.UpdateRev(c.r.Context(), func(tx store.Tx) error {
		events = events[:0] // a backend may run fn again: only the last run counts
		return fn(recordingTx{Tx: tx, events: &events})
	})
	if err == nil {
		c.api.logChanges(events)
		c.w.Header().Set(gateway.HeaderRevisionToken, store.FormatToken(c.api.store.ID(), rev))
	}
	return err
}

// lookupWorkspace finds a workspace, deleted or not, by id or slug.
func lookupWorkspace(tx store.Tx, ref string) (store.Workspace, error) {
	var (
		ws  store.Workspace
		err error
	)
	if ident.IsWorkspaceID(ref) {
		ws, err = tx.Workspace(ref)
	} else {
		ws, err = tx.WorkspaceBySlug(ref)
	}
	if errors.Is(err, store.ErrNotFound) {
		return ws, workspaceNotFound(ref)
	}
	return ws, err
}

// standing returns the caller's standing in the workspace named by the
// {ws} parameter: 404 unless it is live and the caller is a member of it,
// explicitly or through its project.
func (c *call) standing(tx store.Tx) (*standing, error) {
	ref := c.param("ws")
	ws, err := c.liveWorkspace(tx, ref)
	if err != nil {
		return nil, err
	}
	st, found, err := c.api.userStanding(tx, ws, c.user())
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, workspaceNotFound(ref)
	}
	return st, nil
}

// liveWorkspace finds a workspace by id or slug: 404 unless it and its
// organization are live.
func (c *call) liveWorkspace(tx store.Tx, ref string) (store.Workspace, error) {
	ws, err := lookupWorkspace(tx, ref)
	if err != nil {
		return ws, err
	}
	if ws.Deleted() {
		return ws, workspaceNotFound(ref)
	}
	// A soft-deleted organization hides its workspaces here as at the
	// gateway (spec §11): the API answers as for a deleted workspace.
	if gone, err := c.api.model.OrganizationDeleted(tx, ws); err != nil || gone {
		if err == nil {
			err = workspaceNotFound(ref)
		}
		return ws, err
	}
	return ws, nil
}

// userStanding is user's standing in the live workspace ws (see
// standing); found is false when the user is a member by no source. It
// is model.StandingDetail, what model.Standing (the gateway's cache fill)
// is built on, so the API can never judge otherwise.
func (a *API) userStanding(tx store.Tx, ws store.Workspace, user string) (*standing, bool, error) {
	d, found, err := a.model.StandingDetail(tx, ws, user)
	if err != nil || !found {
		return nil, false, err
	}
	return &standing{ws: ws, member: d.Member, access: d.Access, raw: d.Raw, plan: d.Plan}, true, nil
}

// standingWith is standing plus a required permission.
func (c *call) standingWith(tx store.Tx, perm authz.PermID) (*standing, error) {
	st, err := c.standing(tx)
	if err != nil {
		return nil, err
	}
	if !st.access.Permissions.Has(perm) {
		return nil, missingPermission(c.api.catalog.Name(perm), st.ws.Slug)
	}
	return st, nil
}

// requireGlobalAdmin answers 403 unless the caller is a global admin.
func (c *call) requireGlobalAdmin() error {
	if c.isGlobalAdmin() {
		return nil
	}
	return forbidden(problem.CodeForbidden, "this endpoint is reserved to global admins")
}

// audit appends an event for a change made in tx by the caller.
func (c *call) audit(tx store.Tx, workspaceID, action, target string, summary any) error {
	raw, err := json.Marshal(summary)
	if err != nil {
		return err
	}
	_, err = tx.AppendAudit(store.AuditEvent{
		WorkspaceID: workspaceID,
		Actor:       c.user(),
		Action:      action,
		Target:      target,
		Time:        c.api.now().UTC(),
		Summary:     raw,
	})
	return err
}

// Page sizes (README "Management API": limit 1-500, default 50).
const (
	defaultLimit = 50
	maxLimit     = 500
)

// page is a list request's position.
type page struct {
	cursor string // the store's cursor, decoded
	limit  int
}

// page reads ?limit= and ?cursor=. Cursors are opaque to clients: the
// store's key, base64url-encoded.
func (c *call) page() (page, error) {
	q := c.r.URL.Query()
	p := page{limit: defaultLimit}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			return p, invalid("limit", "limit must be a whole number from 1 to 500")
		}
		p.limit = n
	}
	if s := q.Get("cursor"); s != "" {
		raw, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(raw) == 0 {
			return p, invalid("cursor", "cursor is not one this API returned")
		}
		p.cursor = string(raw)
	}
	return p, nil
}

// list is the shape of every list response.
type list[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// newList wraps items and the store's next cursor ("" at the end).
func newList[T any](items []T, next string) list[T] {
	l := list[T]{Items: items}
	if l.Items == nil {
		l.Items = []T{}
	}
	if next != "" {
		s := base64.RawURLEncoding.EncodeToString([]byte(next))
		l.NextCursor = &s
	}
	return l
}
