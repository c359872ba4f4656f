package storeopen

import (
	"context"
	"errors"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// ErrNoPostgres is what openPostgres answers in a build without the
// PostgreSQL backend.
var ErrNoPostgres = errors.New("gatehouse: this build has no PostgreSQL store backend yet")

// openPostgres opens the PostgreSQL store at url (already parsed by Open).
//
// MERGE (lead): replace the body with
//
//	return pgstore.Open(ctx, url, pgstore.Options{MaxStaleness: opts.MaxStaleness, ConsistencyWait: opts.ConsistencyWait, ...})
//
// once internal/store/pgstore (h-pg) is on the branch. Open wraps the
// error with the redacted URL and scrubs the password from it.
func openPostgres(ctx context.Context, url string, opts Options) (store.Store, error) {
	return nil, ErrNoPostgres
}
