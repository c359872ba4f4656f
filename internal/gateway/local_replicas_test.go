package gateway_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/changefeed"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore/pgtest"
)

// localReplica is one gateway with local_workspaces on, on the shared
// PostgreSQL database dbURL: its own pgstore, Live and engine.
func (f *fixture) localReplica(t *testing.T, dbURL string) (*gateway.Policy, *changefeed.Live) {
	t.Helper()
	pg, err := pgstore.Open(context.Background(), dbURL, pgstore.Options{})
	if err != nil {
		t.Fatalf("opening PostgreSQL: %v", err)
	}
	live, err := changefeed.New(pg, changefeed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = live.Close() })
	cfg := testConfig()
	cfg.LocalWorkspaces = true
	e := f.newEngineWith(func(o *gateway.Options) { o.Live, o.Model = live, newModel(t, cfg) })
	p, err := e.NewPolicy(testRules, gateway.DefaultWorkspaceSource)
	if err != nil {
		t.Fatal(err)
	}
	return p, live
}

// Two gateways on one PostgreSQL, each answering concurrent first
// requests of the same user (every request with a token of its own):
// exactly one local workspace, and every request reaches it.
func TestLocalWorkspaceOnceAcrossReplicas(t *testing.T) {
	f := newFixture(t)
	dbURL := pgtest.NewDatabase(t)
	a, liveA := f.localReplica(t, dbURL)
	b, _ := f.localReplica(t, dbURL)
	slug := model.LocalSlug("zoe", 0)
	var wg sync.WaitGroup
	for i := range 12 {
		p := a
		if i%2 == 1 {
			p = b
		}
		tok := f.tokenWithID("zoe", fmt.Sprint("t", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if d := decide(p, request("GET", "/w/"+slug+"/messages", tok)); !d.Allowed {
				t.Errorf("first request %d denied: %+v", i, d.Problem)
			}
		}()
	}
	wg.Wait()
	var local []string
	err := liveA.View(context.Background(), func(tx store.Tx) error {
		local = nil
		all, _, err := tx.Workspaces("", 0)
		for _, w := range all {
			if w.Scope == store.ScopeLocal && w.OwnerID == "zoe" {
				local = append(local, w.ID)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(local) != 1 {
		t.Fatalf("local workspaces of zoe across two gateways: %v, want one", local)
	}
}
