package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore/pgtest"
)

// Fixture size of the cache-miss benchmark (issue 13 item 7): 1,000,000
// memberships in 10,000 workspaces of 100 members.
const (
	benchWorkspaces = 10_000
	benchPerWS      = 100
)

// BenchmarkCacheMissAt1MMemberships is what a gateway's cache miss costs
// against PostgreSQL at 1,000,000 memberships: the reads of
// gateway.Engine.readAccess (workspace, membership, custom roles) in one
// read transaction, for a random member. Target: <= 1 ms per miss. The
// fixture is bulk-loaded with COPY (the store's own writes would take
// minutes), then ANALYZEd.
func BenchmarkCacheMissAt1MMemberships(b *testing.B) {
	ctx := context.Background()
	u := missFixture(b)
	s, err := Open(ctx, u, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		i := rng.IntN(benchWorkspaces * benchPerWS)
		w, user := benchWSID(i/benchPerWS), fmt.Sprintf("user%07d", i)
		err := s.View(ctx, func(tx store.Tx) error {
			if _, err := tx.Workspace(w); err != nil {
				return err
			}
			if _, err := tx.Member(w, user); err != nil {
				return err
			}
			_, err := tx.Roles(w)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func benchWSID(i int) string { return fmt.Sprintf("ws_bench%06d", i) }

// The fixture's workspaces belong to organizations and projects (issue
// 14): 100 organizations of 10 projects; workspace w is a ScopeProject
// workspace of organization w%100 and its project (w/100)%10. The member
// of index 1 of every workspace is also a member of that organization and
// project (10,000 of each), so a three-level miss finds every record.
const (
	benchOrgs       = 100
	benchProjPerOrg = 10
)

func benchOrgID(w int) string { return fmt.Sprintf("org_bench%03d", w%benchOrgs) }
func benchProjectID(w int) string {
	return fmt.Sprintf("prj_bench%03d-%d", w%benchOrgs, (w/benchOrgs)%benchProjPerOrg)
}

func benchWorkspace(i int) store.Workspace {
	w := ws(benchWSID(i), fmt.Sprintf("bench-%d", i))
	w.OrganizationID, w.ProjectID, w.Scope = benchOrgID(i), benchProjectID(i), store.ScopeProject
	return w
}

// BenchmarkCacheMissThreeLevels is a cache miss through organization,
// project and workspace against PostgreSQL: the reads of
// BenchmarkCacheMissAt1MMemberships, then the workspace's organization,
// the user's organization membership and project membership, in one read
// transaction, for a random member with a record at every level.
func BenchmarkCacheMissThreeLevels(b *testing.B) {
	ctx := context.Background()
	u := missFixture(b)
	s, err := Open(ctx, u, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		wi := rng.IntN(benchWorkspaces)
		w, user := benchWSID(wi), fmt.Sprintf("user%07d", wi*benchPerWS+1)
		err := s.View(ctx, func(tx store.Tx) error {
			ws, err := tx.Workspace(w)
			if err != nil {
				return err
			}
			if _, err := tx.Member(w, user); err != nil {
				return err
			}
			if _, err := tx.Roles(w); err != nil {
				return err
			}
			if _, err := tx.Organization(ws.OrganizationID); err != nil {
				return err
			}
			if _, err := tx.OrgMember(ws.OrganizationID, user); err != nil {
				return err
			}
			_, err = tx.ProjectMember(ws.ProjectID, user)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// The fixture is loaded once per test binary: the benchmark function runs
// several times (b.N rising), and a load takes tens of seconds. Its
// database lives as long as the shared server (pgtest.Main removes it).
var (
	missOnce sync.Once
	missURL  string
	missErr  error
)

func missFixture(b *testing.B) string {
	srv := pgtest.Shared(b)
	missOnce.Do(func() { missURL, missErr = loadMissFixture(srv) })
	if missErr != nil {
		b.Fatal(missErr)
	}
	return missURL
}

func loadMissFixture(srv *pgtest.Server) (string, error) {
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, srv.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE gh_bench_miss"); err != nil {
		return "", err
	}
	u := srv.URL("gh_bench_miss")
	s, err := Open(ctx, u, Options{}) // migrates the schema
	if err != nil {
		return "", err
	}
	s.Close()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"organizations"}, []string{"id", "slug", "data"},
		pgx.CopyFromSlice(benchOrgs, func(i int) ([]any, error) {
			o := store.Organization{ID: benchOrgID(i), Slug: benchOrgID(i), Name: "Org", Plan: "pro", CreatedAt: t0, UpdatedAt: t0}
			raw, err := json.Marshal(o)
			return []any{o.ID, o.Slug, string(raw)}, err
		})); err != nil {
		return "", err
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"projects"}, []string{"id", "organization_id", "slug", "data"},
		pgx.CopyFromSlice(benchOrgs*benchProjPerOrg, func(i int) ([]any, error) {
			p := store.Project{ID: benchProjectID(i), OrganizationID: benchOrgID(i), Slug: benchProjectID(i), Name: "Project", CreatedAt: t0, UpdatedAt: t0}
			raw, err := json.Marshal(p)
			return []any{p.ID, p.OrganizationID, p.Slug, string(raw)}, err
		})); err != nil {
		return "", err
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"workspaces"}, []string{"id", "slug", "data", "organization_id", "project_id", "scope"},
		pgx.CopyFromSlice(benchWorkspaces, func(i int) ([]any, error) {
			w := benchWorkspace(i)
			raw, err := json.Marshal(w)
			return []any{w.ID, w.Slug, string(raw), w.OrganizationID, w.ProjectID, string(w.Scope)}, err
		})); err != nil {
		return "", err
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"org_members"}, []string{"organization_id", "user_id", "data"},
		pgx.CopyFromSlice(benchWorkspaces, func(i int) ([]any, error) {
			m := store.OrgMember{OrganizationID: benchOrgID(i), UserID: fmt.Sprintf("user%07d", i*benchPerWS+1), Roles: []string{"member"}, JoinedAt: t0, UpdatedAt: t0}
			raw, err := json.Marshal(m)
			return []any{m.OrganizationID, m.UserID, string(raw)}, err
		})); err != nil {
		return "", err
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"project_members"}, []string{"project_id", "organization_id", "user_id", "data"},
		pgx.CopyFromSlice(benchWorkspaces, func(i int) ([]any, error) {
			m := store.ProjectMember{ProjectID: benchProjectID(i), OrganizationID: benchOrgID(i), UserID: fmt.Sprintf("user%07d", i*benchPerWS+1),
				Roles: []string{"developer"}, JoinedAt: t0, UpdatedAt: t0}
			raw, err := json.Marshal(m)
			return []any{m.ProjectID, m.OrganizationID, m.UserID, string(raw)}, err
		})); err != nil {
		return "", err
	}
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"memberships"}, []string{"workspace_id", "user_id", "data"},
		pgx.CopyFromSlice(benchWorkspaces*benchPerWS, func(i int) ([]any, error) {
			w, user := benchWSID(i/benchPerWS), fmt.Sprintf("user%07d", i)
			raw, err := json.Marshal(member(w, user))
			return []any{w, user, string(raw)}, err
		}))
	if err != nil {
		return "", err
	}
	if n != benchWorkspaces*benchPerWS {
		return "", fmt.Errorf("COPY memberships: %d rows", n)
	}
	_, err = conn.Exec(ctx, "ANALYZE")
	return u, err
}
