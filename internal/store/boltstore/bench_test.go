package boltstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// The 1M-membership fixture is built once per test process, on first use by
// a benchmark (never by plain `go test`), and removed by TestMain.
const (
	fixtureWorkspaces = 100_000
	fixturePerWS      = 10
	fixtureUsers      = 100_000
	fixturePerTx      = 10_000 // records per Update while building
)

var fixture struct {
	once  sync.Once
	dir   string
	store *Store
	err   error
	built time.Duration
	size  int64
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture.store != nil {
		_ = fixture.store.Close()
	}
	if fixture.dir != "" {
		_ = os.RemoveAll(fixture.dir)
	}
	os.Exit(code)
}

// The workspaces belong to organizations and projects (issue 14): 1,000
// organizations of 10 projects each; workspace w is a ScopeProject
// workspace of organization w%1000 and its project (w/1000)%10, and its
// second member (j = 1) is also a member of that organization and
// project, so that a three-level cache miss finds a record at each level.
const (
	fixtureOrgs       = 1_000
	fixtureProjPerOrg = 10
)

func fixtureOrgID(w int) string { return fmt.Sprintf("org%04d", w%fixtureOrgs) }
func fixtureProjectID(w int) string {
	return fmt.Sprintf("prj%04d-%d", w%fixtureOrgs, (w/fixtureOrgs)%fixtureProjPerOrg)
}

func fixtureWSID(i int) string   { return fmt.Sprintf("ws%07d", i) }
func fixtureSlug(i int) string   { return fmt.Sprintf("team-%07d", i) }
func fixtureUserID(i int) string { return fmt.Sprintf("user%07d", i) }

// fixtureMember is the j-th member of workspace w: every user ends up in 10
// workspaces, spread over the key space.
func fixtureMember(w, j int) int { return (w + j*(fixtureUsers/fixturePerWS+7)) % fixtureUsers }

// lookupFixture returns a store with 100,000 workspaces, 10 members each
// (1,000,000 memberships), one custom role per workspace, in 1,000
// organizations of 10 projects, with 100,000 organization and project
// memberships each.
func lookupFixture(b *testing.B) *Store {
	fixture.once.Do(func() {
		start := time.Now()
		fixture.dir, fixture.err = os.MkdirTemp("", "boltstore-bench-")
		if fixture.err != nil {
			return
		}
		s, err := Open(filepath.Join(fixture.dir, "fixture.db"), Options{})
		if err != nil {
			fixture.err = err
			return
		}
		fixture.store = s
		ctx := context.Background()
		fixture.err = s.Update(ctx, func(tx store.Tx) error {
			for o := range fixtureOrgs {
				id := fixtureOrgID(o)
				if err := tx.PutOrganization(store.Organization{ID: id, Slug: "org-" + id, Name: "Org " + id, Plan: "pro", CreatedAt: t0, UpdatedAt: t0}); err != nil {
					return err
				}
				for p := range fixtureProjPerOrg {
					pid := fixtureProjectID(o + p*fixtureOrgs)
					if err := tx.PutProject(store.Project{ID: pid, OrganizationID: id, Slug: "p" + pid, Name: "Project " + pid, CreatedAt: t0, UpdatedAt: t0}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if fixture.err != nil {
			return
		}
		perTx := fixturePerTx / (fixturePerWS + 4) // records per workspace: itself, a role, 10 members, an org and a project member
		for lo := 0; lo < fixtureWorkspaces; lo += perTx {
			hi := min(lo+perTx, fixtureWorkspaces)
			err := s.Update(ctx, func(tx store.Tx) error {
				for w := lo; w < hi; w++ {
					id := fixtureWSID(w)
					if err := tx.PutWorkspace(store.Workspace{ID: id, Slug: fixtureSlug(w), Name: "Team " + id, CreatedAt: t0, UpdatedAt: t0,
						OrganizationID: fixtureOrgID(w), ProjectID: fixtureProjectID(w), Scope: store.ScopeProject}); err != nil {
						return err
					}
					user := fixtureUserID(fixtureMember(w, 1))
					if err := tx.PutOrgMember(store.OrgMember{OrganizationID: fixtureOrgID(w), UserID: user, Roles: []string{"member"}, JoinedAt: t0, UpdatedAt: t0}); err != nil {
						return err
					}
					if err := tx.PutProjectMember(store.ProjectMember{ProjectID: fixtureProjectID(w), OrganizationID: fixtureOrgID(w), UserID: user,
						Roles: []string{"developer"}, JoinedAt: t0, UpdatedAt: t0}); err != nil {
						return err
					}
					if err := tx.PutRole(store.Role{WorkspaceID: id, Slug: "agent", Name: "Agent", Permissions: []string{"message.read", "message.send", "contact.read"}, CreatedAt: t0, UpdatedAt: t0}); err != nil {
						return err
					}
					for j := 0; j < fixturePerWS; j++ {
						m := store.Membership{WorkspaceID: id, UserID: fixtureUserID(fixtureMember(w, j)), Roles: []string{"operator", "agent"}, JoinedAt: t0, UpdatedAt: t0}
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
			})
			if err != nil {
				fixture.err = err
				return
			}
		}
		fixture.built = time.Since(start)
		// Touch every page once, so that the benchmark measures steady-state
		// lookups on a warm server rather than the first-touch page faults
		// of a freshly mapped file (those add ~5 µs/op to a 1 s run).
		fixture.err = s.db.View(func(tx *bbolt.Tx) error {
			return tx.ForEach(func(_ []byte, b *bbolt.Bucket) error {
				return b.ForEach(func(k, v []byte) error { return nil })
			})
		})
		if fi, err := os.Stat(s.Path()); err == nil {
			fixture.size = fi.Size()
		}
		// Collect the build's garbage now rather than inside the timed loop.
		runtime.GC()
	})
	if fixture.err != nil {
		b.Fatalf("building the fixture: %v", fixture.err)
	}
	return fixture.store
}

// BenchmarkMemberLookup is the gateway's cache-miss read: one View doing
// WorkspaceBySlug + Member + Role, at random over 1,000,000 memberships.
func BenchmarkMemberLookup(b *testing.B) {
	s := lookupFixture(b)
	if b.N == 1 {
		b.Logf("fixture: %d workspaces × %d members, %d MiB, built in %v", fixtureWorkspaces, fixturePerWS, fixture.size>>20, fixture.built.Round(time.Millisecond))
	}
	type probe struct{ slug, user string }
	rng := rand.New(rand.NewPCG(1, 2))
	probes := make([]probe, 1<<16)
	for i := range probes {
		w := rng.IntN(fixtureWorkspaces)
		probes[i] = probe{fixtureSlug(w), fixtureUserID(fixtureMember(w, 1+rng.IntN(fixturePerWS-1)))}
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := probes[i&(len(probes)-1)]
		err := s.View(ctx, func(tx store.Tx) error {
			w, err := tx.WorkspaceBySlug(p.slug)
			if err != nil {
				return err
			}
			m, err := tx.Member(w.ID, p.user)
			if err != nil {
				return err
			}
			_, err = tx.Role(w.ID, m.Roles[len(m.Roles)-1])
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCacheMissThreeLevels is a cache miss through organization,
// project and workspace (spec §11: <= 40 µs at 1,000,000 memberships):
// one View doing what BenchmarkMemberLookup does (WorkspaceBySlug, Member,
// Role) and then the workspace's organization (its plan), the user's
// organization membership and project membership, for a random member
// who has a record at every level.
func BenchmarkCacheMissThreeLevels(b *testing.B) {
	s := lookupFixture(b)
	type probe struct{ slug, user string }
	rng := rand.New(rand.NewPCG(3, 4))
	probes := make([]probe, 1<<16)
	for i := range probes {
		w := rng.IntN(fixtureWorkspaces)
		probes[i] = probe{fixtureSlug(w), fixtureUserID(fixtureMember(w, 1))}
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := probes[i&(len(probes)-1)]
		err := s.View(ctx, func(tx store.Tx) error {
			w, err := tx.WorkspaceBySlug(p.slug)
			if err != nil {
				return err
			}
			m, err := tx.Member(w.ID, p.user)
			if err != nil {
				return err
			}
			if _, err = tx.Role(w.ID, m.Roles[len(m.Roles)-1]); err != nil {
				return err
			}
			if _, err := tx.Organization(w.OrganizationID); err != nil {
				return err
			}
			if _, err := tx.OrgMember(w.OrganizationID, p.user); err != nil {
				return err
			}
			_, err = tx.ProjectMember(w.ProjectID, p.user)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutMember: one fsync'd Update replacing a membership.
func BenchmarkPutMember(b *testing.B) {
	s, _ := openT(b, Options{})
	ctx := context.Background()
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.PutWorkspace(ws("w1", "one")) }); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := member("w1", fmt.Sprint("u", i%1000), "operator")
		if err := s.Update(ctx, func(tx store.Tx) error { return tx.PutMember(m) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutMemberParallel: fsync'd Updates from many goroutines. bbolt
// serializes writers, so this measures throughput under contention, not
// parallel speed-up.
func BenchmarkPutMemberParallel(b *testing.B) {
	s, _ := openT(b, Options{})
	ctx := context.Background()
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.PutWorkspace(ws("w1", "one")) }); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m := member("w1", fmt.Sprint("u", n.Add(1)%1000), "operator")
			if err := s.Update(ctx, func(tx store.Tx) error { return tx.PutMember(m) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
