package admin

import (
	"net/http"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// GET /v1/workspaces/{ws}/audit: the workspace's audit events, newest first.
func (a *API) listAudit(c *call) error {
	pg, err := c.page()
	if err != nil {
		return err
	}
	var (
		items []store.AuditEvent
		next  string
	)
	err = c.view(func(tx store.Tx) error {
		st, err := c.standingWith(tx, a.builtinIDs.admin)
		if err != nil {
			return err
		}
		items, next, err = tx.Audit(st.ws.ID, pg.cursor, pg.limit)
		return err
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, newList(items, next))
}
