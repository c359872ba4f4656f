package admin

import (
	"net/http"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// respondMemberPage answers one page of an organization's or a project's
// members: read returns the page (after the caller's standing is
// checked inside it), each member shown by view with its user's email,
// the emails read with one set-based UsersByID.
func respondMemberPage[M, V any](c *call, read func(tx store.Tx, cursor string, limit int) ([]M, string, error),
	userID func(M) string, view func(M, string) V) error {
	pg, err := c.page()
	if err != nil {
		return err
	}
	var (
		items []V
		next  string
	)
	err = c.view(func(tx store.Tx) error {
		items = items[:0] // a backend may run fn again: only the last run counts
		ms, n, err := read(tx, pg.cursor, pg.limit)
		if err != nil {
			return err
		}
		next = n
		ids := make([]string, len(ms))
		for i, m := range ms {
			ids[i] = userID(m)
		}
		users, err := tx.UsersByID(ids)
		if err != nil {
			return err
		}
		for _, m := range ms {
			items = append(items, view(m, users[userID(m)].Email))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, newList(items, next))
}
