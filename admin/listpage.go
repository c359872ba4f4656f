package admin

import (
	"net/http"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// respondPage answers one page of a list: read returns the records
// (checking the caller's standing inside the transaction first, when the
// list needs one), views turns them into the items shown.
func respondPage[M, V any](c *call, read func(tx store.Tx, cursor string, limit int) ([]M, string, error),
	views func(tx store.Tx, records []M) ([]V, error)) error {
	pg, err := c.page()
	if err != nil {
		return err
	}
	var (
		items []V
		next  string
	)
	err = c.view(func(tx store.Tx) error {
		// A backend may run fn again: only the last run counts.
		records, n, err := read(tx, pg.cursor, pg.limit)
		if err != nil {
			return err
		}
		next = n
		items, err = views(tx, records)
		return err
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, newList(items, next))
}

// eachView maps every record to its view, for respondPage.
func eachView[M, V any](view func(tx store.Tx, m M) (V, error)) func(store.Tx, []M) ([]V, error) {
	return func(tx store.Tx, records []M) ([]V, error) {
		out := make([]V, 0, len(records))
		for _, m := range records {
			v, err := view(tx, m)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
}

// respondMemberPage answers one page of an organization's or a project's
// members: each shown by view with its user's email, the emails read with
// one set-based UsersByID.
func respondMemberPage[M, V any](c *call, read func(tx store.Tx, cursor string, limit int) ([]M, string, error),
	userID func(M) string, view func(M, string) V) error {
	return respondPage(c, read, func(tx store.Tx, ms []M) ([]V, error) {
		ids := make([]string, len(ms))
		for i, m := range ms {
			ids[i] = userID(m)
		}
		users, err := tx.UsersByID(ids)
		if err != nil {
			return nil, err
		}
		out := make([]V, 0, len(ms))
		for _, m := range ms {
			out = append(out, view(m, users[userID(m)].Email))
		}
		return out, nil
	})
}
