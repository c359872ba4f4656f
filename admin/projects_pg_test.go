package admin_test

import (
	"context"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore/pgtest"
)

// newPGHarness is the harness of orgConfig on a fresh PostgreSQL database
// (a real server: pgtest).
func newPGHarness(t *testing.T) *harness {
	t.Helper()
	dbURL := pgtest.NewDatabase(t)
	return newHarnessOn(t, orgConfig(), func(string) store.Store {
		pg, err := pgstore.Open(context.Background(), dbURL, pgstore.Options{})
		must(t, err)
		return pg
	})
}

// TestProjectFlowsOnPostgres: the project-member flow (escalation across
// levels, last project admin, leaving) and the project standing in
// PROJECT and PRIVATE workspaces answer on PostgreSQL exactly as on bbolt.
func TestProjectFlowsOnPostgres(t *testing.T) {
	t.Parallel()
	t.Run("members", func(t *testing.T) { projectMemberFlow(t, newPGHarness(t)) })
	t.Run("standing", func(t *testing.T) { projectStandingFlow(t, newPGHarness(t)) })
}
