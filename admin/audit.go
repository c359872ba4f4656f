package admin

import (
	"net/http"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// maxFilterLen bounds the action and actor filters (user ids are at most
// this long in practice; anything longer matches nothing anyway).
const maxFilterLen = 512

// GET /v1/workspaces/{ws}/audit: the workspace's audit events, newest
// first, optionally filtered by ?action=, ?actor= (exact) and a time range
// ?since= (inclusive) and ?until= (exclusive), both RFC 3339.
func (a *API) listAudit(c *call) error {
	return c.respondAudit(func(tx store.Tx) (string, error) {
		st, err := c.standingWith(tx, a.builtinIDs.admin)
		if err != nil {
			return "", err
		}
		return st.ws.ID, nil
	})
}

// respondAudit answers an audit list: the events stored under the id that
// owner returns (a workspace's, or an organization's: README
// "Organizations API"), paginated and filtered as listAudit documents.
// owner runs in the read transaction and checks the caller's standing.
func (c *call) respondAudit(owner func(tx store.Tx) (string, error)) error {
	pg, err := c.page()
	if err != nil {
		return err
	}
	f, err := c.auditFilter()
	if err != nil {
		return err
	}
	var (
		items []store.AuditEvent
		next  string
	)
	err = c.view(func(tx store.Tx) error {
		id, err := owner(tx)
		if err != nil {
			return err
		}
		items, next, err = tx.FindAudit(id, f, pg.cursor, pg.limit)
		return err
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, newList(items, next))
}

// auditFilter reads and checks the filters of listAudit.
func (c *call) auditFilter() (store.AuditFilter, error) {
	q := c.r.URL.Query()
	var f store.AuditFilter
	for _, p := range []struct {
		name string
		dst  *string
	}{{"action", &f.Action}, {"actor", &f.Actor}} {
		v, given := q[p.name]
		if !given {
			continue
		}
		if v[0] == "" || len(v[0]) > maxFilterLen || hasControl(v[0]) {
			return f, invalid(p.name, p.name+" must be 1 to 512 characters without control characters")
		}
		*p.dst = v[0]
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		v, given := q[p.name]
		if !given {
			continue
		}
		t, err := time.Parse(time.RFC3339, v[0])
		if err != nil {
			return f, invalid(p.name, p.name+" must be an RFC 3339 time such as 2026-12-01T09:30:00Z")
		}
		*p.dst = t
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, invalid("until", "until must be after since")
	}
	return f, nil
}
