package gateway_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/changefeed"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
)

// The 1,000,000-membership fixture of the cache-miss benchmark, built by
// the benchmark (never by plain `go test`) in a temp dir: the shape of internal/store/boltstore's BenchmarkCacheMissThreeLevels
// fixture. 100,000 PROJECT workspaces of 10 members each, in 1,000
// organizations (plan pro) of 10 projects; member j=1 of workspace w is
// also a member of its organization and a project developer, so a miss
// for them reads every level.
const (
	missWorkspaces  = 100_000
	missPerWS       = 10
	missUsers       = 100_000
	missOrgs        = 1_000
	missProjPerOrg  = 10
	missWSPerUpdate = 10_000 // ~140,000 records per write transaction: fewer, larger commits build faster
)

func missOrgID(w int) string { return fmt.Sprintf("org%04d", w%missOrgs) }
func missProjectID(w int) string {
	return fmt.Sprintf("prj%04d-%d", w%missOrgs, (w/missOrgs)%missProjPerOrg)
}
func missWSID(w int) string   { return fmt.Sprintf("ws%07d", w) }
func missSlug(w int) string   { return fmt.Sprintf("team-%07d", w) }
func missUserID(i int) string { return fmt.Sprintf("user%07d", i) }
func missMember(w, j int) int { return (w + j*(missUsers/missPerWS+7)) % missUsers }

// missConfig is the model of the benchmark: the fixture's roles, a
// project role developer → operator, and the spec plans.
func missConfig() model.Config {
	cfg := testConfig()
	cfg.ProjectRoles = []model.ProjectRole{{Slug: "developer", Name: "Developer", WorkspaceRoles: []string{"operator"}}}
	cfg.Plans = testPlans
	cfg.DefaultPlan = "free"
	return cfg
}

// missFixture is the fixture, built once per test process on first use
// (so -count runs time the same file) and removed by TestMain.
var missFixture struct {
	once  sync.Once
	dir   string
	store *boltstore.Store
	built time.Duration
	err   error
}

// missStore returns the fixture, building it on first use.
func missStore(b *testing.B) (*boltstore.Store, time.Duration) {
	missFixture.once.Do(func() {
		start := time.Now()
		if missFixture.dir, missFixture.err = os.MkdirTemp("", "gateway-miss-"); missFixture.err != nil {
			return
		}
		s, err := boltstore.Open(filepath.Join(missFixture.dir, "fixture.db"), boltstore.Options{})
		if err != nil {
			missFixture.err = err
			return
		}
		missFixture.store = s
		if err := buildMissFixture(s); err != nil {
			missFixture.err = fmt.Errorf("building the fixture: %w", err)
			return
		}
		runtime.GC() // the build's garbage, collected outside the timed loop
		missFixture.built = time.Since(start)
	})
	if missFixture.err != nil {
		b.Fatal(missFixture.err)
	}
	return missFixture.store, missFixture.built
}

// removeMissFixture closes and removes the fixture, if one was built.
func removeMissFixture() {
	if missFixture.store != nil {
		_ = missFixture.store.Close()
	}
	if missFixture.dir != "" {
		_ = os.RemoveAll(missFixture.dir)
	}
}

func buildMissFixture(s *boltstore.Store) error {
	ctx := context.Background()
	now := time.Now().UTC()
	err := s.Update(ctx, func(tx store.Tx) error {
		for o := range missOrgs {
			id := missOrgID(o)
			if err := tx.PutOrganization(store.Organization{ID: id, Slug: "org-" + id, Name: id, Plan: "pro", CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
			for p := range missProjPerOrg {
				pid := missProjectID(o + p*missOrgs)
				if err := tx.PutProject(store.Project{ID: pid, OrganizationID: id, Slug: "p" + pid, Name: pid, CreatedAt: now, UpdatedAt: now}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for lo := 0; lo < missWorkspaces; lo += missWSPerUpdate {
		hi := min(lo+missWSPerUpdate, missWorkspaces)
		if err := s.Update(ctx, func(tx store.Tx) error { return putMissWorkspaces(tx, lo, hi, now) }); err != nil {
			return err
		}
	}
	return nil
}

// putMissWorkspaces writes workspaces [lo, hi) with their custom role,
// members and the j=1 member's organization and project memberships.
func putMissWorkspaces(tx store.Tx, lo, hi int, now time.Time) error {
	for w := lo; w < hi; w++ {
		id := missWSID(w)
		ws := store.Workspace{ID: id, Slug: missSlug(w), Name: id, OrganizationID: missOrgID(w), ProjectID: missProjectID(w),
			Scope: store.ScopeProject, CreatedAt: now, UpdatedAt: now}
		if err := tx.PutWorkspace(ws); err != nil {
			return err
		}
		user := missUserID(missMember(w, 1))
		if err := tx.PutOrgMember(store.OrgMember{OrganizationID: ws.OrganizationID, UserID: user, Roles: []string{"member"}, JoinedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		if err := tx.PutProjectMember(store.ProjectMember{ProjectID: ws.ProjectID, OrganizationID: ws.OrganizationID, UserID: user,
			Roles: []string{"developer"}, JoinedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		if err := tx.PutRole(store.Role{WorkspaceID: id, Slug: "agent", Name: "Agent", Permissions: []string{"message.read", "message.send", "contact.read"}}); err != nil {
			return err
		}
		for j := range missPerWS {
			m := store.Membership{WorkspaceID: id, UserID: missUserID(missMember(w, j)), Roles: []string{"member", "agent"}, JoinedAt: now, UpdatedAt: now}
			if j == 0 {
				m.Roles = []string{"owner"}
			}
			if j%3 == 1 {
				m.Grants = []string{"campaign.read"}
				m.Restrictions = map[string][]string{"instance": {"i1", "i2"}}
			}
			if err := tx.PutMember(m); err != nil {
				return err
			}
		}
	}
	return nil
}

// BenchmarkAccessMissThreeLevels is a whole gateway cache miss (spec
// §11: <= 40 µs at 1,000,000 memberships on bbolt): Engine.Access with
// the cache lookup skipped, so every iteration reads the store — slug,
// workspace, organization (deleted? its plan), membership, custom roles,
// project membership — and runs model.Standing (project roles mapped,
// plan ceiling applied) and fills the cache, for a random member who has
// a record at every level.
func BenchmarkAccessMissThreeLevels(b *testing.B) {
	raw, built := missStore(b)
	b.Logf("fixture: %d workspaces × %d members, built in %v", missWorkspaces, missPerWS, built.Round(time.Millisecond))
	live, err := changefeed.New(noClose{raw}, changefeed.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer live.Close()
	e, err := gateway.NewEngine(gateway.Options{Model: newModel(b, missConfig()), Live: live, Authenticator: staticAuth{}})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	type probe struct {
		p    authn.Principal
		slug string
	}
	rng := rand.New(rand.NewPCG(5, 6))
	probes := make([]probe, 1<<16)
	for i := range probes {
		w := rng.IntN(missWorkspaces)
		probes[i] = probe{authn.Principal{Subject: missUserID(missMember(w, 1))}, missSlug(w)}
	}
	ctx := context.Background()
	// One probe checked in full: a member through both sources, under pro.
	a, err := gateway.AccessMiss(e, ctx, probes[0].p, probes[0].slug)
	if err != nil || !a.Member || a.Plan == nil || a.Plan.Slug != "pro" || len(a.Roles) != 3 {
		b.Fatalf("probe: %+v, %v", a, err)
	}
	// Every probe once before timing: the file was just written, and its
	// pages are not yet mapped into the process; a long-running gateway
	// has them mapped (internal/store/boltstore's benchmarks touch every
	// page for the same reason).
	for i := range probes {
		if _, err := gateway.AccessMiss(e, ctx, probes[i].p, probes[i].slug); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		pr := &probes[i&(len(probes)-1)]
		if _, err := gateway.AccessMiss(e, ctx, pr.p, pr.slug); err != nil {
			b.Fatal(err)
		}
	}
}
