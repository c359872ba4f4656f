package admin_test

import (
	"context"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore/pgtest"
)

// newPGOrgHarness is the harness of orgAPIConfig on a fresh PostgreSQL
// database (a real server: pgtest).
func newPGOrgHarness(t *testing.T) *harness {
	t.Helper()
	dbURL := pgtest.NewDatabase(t)
	return newHarnessOn(t, orgAPIConfig(), func(string) store.Store {
		pg, err := pgstore.Open(context.Background(), dbURL, pgstore.Options{})
		must(t, err)
		return pg
	})
}

// TestOrgFlowsOnPostgres: the organization flows answer on PostgreSQL as
// on bbolt: no escalation, last admin, the two races (where PostgreSQL's
// serializable transactions retry instead of bbolt's single writer), the
// plan change reaching the gateway, and the soft delete and restore.
func TestOrgFlowsOnPostgres(t *testing.T) {
	t.Parallel()
	for name, flow := range map[string]func(*testing.T, *harness){
		"no escalation":  orgNoEscalationFlow,
		"last admin":     orgLastAdminFlow,
		"demote race":    orgDemoteRaceFlow,
		"leave race":     orgLeaveRaceFlow,
		"plan":           orgPlanFlow,
		"delete restore": orgDeleteRestoreFlow,
	} {
		t.Run(name, func(t *testing.T) { flow(t, newPGOrgHarness(t)) })
	}
}
