package storeopen

import (
	"context"

	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore"
)

// openPostgres opens the PostgreSQL store at url (already parsed by Open),
// migrating its schema. ReadOnly and Timeout are bbolt's: a PostgreSQL
// store has no file lock to wait for, and its Views are read-only
// transactions already. Open wraps the error with the redacted URL and
// scrubs the password from it.
func openPostgres(ctx context.Context, url string, _ Options) (store.Store, error) {
	return pgstore.Open(ctx, url, pgstore.Options{})
}
