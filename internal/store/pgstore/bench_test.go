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
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"workspaces"}, []string{"id", "slug", "data"},
		pgx.CopyFromSlice(benchWorkspaces, func(i int) ([]any, error) {
			raw, err := json.Marshal(ws(benchWSID(i), fmt.Sprintf("bench-%d", i)))
			return []any{benchWSID(i), fmt.Sprintf("bench-%d", i), string(raw)}, err
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
