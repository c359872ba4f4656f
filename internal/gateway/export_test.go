package gateway

import (
	"context"

	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// WaitCaches blocks until buffered cache fills are applied, so a test can
// measure a warm decision.
func (e *Engine) WaitCaches() {
	e.cache.Wait()
	e.keys.Wait()
}

// UnknownKeyEntries returns how many unknown API key ids e remembers, and
// the most it ever remembers.
func UnknownKeyEntries(e *Engine) (n, capacity int) {
	return e.unknownKeys.Len(), e.unknownKeys.Cap()
}

// AccessMiss is Engine.Access without the cache lookup: the whole cache
// miss (store read, model.Standing, cache fill), for benchmarks.
func AccessMiss(e *Engine, ctx context.Context, p authn.Principal, ref string) (*Access, error) {
	return e.accessMiss(ctx, p, ref)
}

// ApplyChange bumps e's cache counters for c, as the change feed does
// after a commit.
func ApplyChange(e *Engine, c store.Change) { e.versions.Apply(c) }

// MaxIdleReaders is how many reader goroutines an engine keeps waiting.
const MaxIdleReaders = maxIdleReaders
