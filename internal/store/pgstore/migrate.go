package pgstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// migrations are the schema versions, applied in order: NNNN_name.sql is
// version NNNN. A released file is never edited; a change is a new file.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the key of the session advisory lock that Open holds
// while migrating, so that replicas starting at once migrate one after the
// other (CREATE TABLE IF NOT EXISTS alone is not safe under concurrency:
// two sessions can both find the table missing).
const migrationLock int64 = 0x6761746568736531 // "gatehse1"

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, f := range files {
		base := strings.TrimPrefix(f, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration file %s is not named NNNN_name.sql", base)
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: versions must be 1, 2, 3, ... without gaps", m.name)
		}
	}
	return out, nil
}

// SchemaVersion is the schema version this build writes: its newest
// migration.
func SchemaVersion() int {
	ms, err := loadMigrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// migrate brings the schema to this build's version and creates the meta
// row (with a new store id) when there is none, holding migrationLock on
// one connection throughout. Each migration runs in its own transaction
// with the row that records it, so a crash leaves a version either applied
// or not.
func (s *Store) migrate(ctx context.Context) error { return s.migrateTo(ctx, 0) }

// migrateTo is migrate up to schema version upTo (<= 0: this build's),
// so that a test can build a database at an older version.
func (s *Store) migrateTo(ctx context.Context, upTo int) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	if upTo > 0 && upTo < len(ms) {
		ms = ms[:upTo]
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("taking the migration lock: %w", err)
	}
	defer func() {
		// Unlocked also when ctx is done: the connection returns to the
		// pool, and a session lock would outlive this call there.
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock); err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx)) // drops the lock with the session
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS gatehouse_schema (
		version     integer PRIMARY KEY,
		name        text NOT NULL,
		applied_at  timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("creating the schema version table: %w", err)
	}
	var current int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM gatehouse_schema`).Scan(&current); err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("%w: the database has version %d, this build supports up to %d", ErrSchemaTooNew, current, len(ms))
	}
	for _, m := range ms[current:] {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			_ = tx.Rollback(ctx)
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO gatehouse_schema (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
			_ = tx.Rollback(ctx)
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	id, err := store.NewStoreID()
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `INSERT INTO meta (store_id) VALUES ($1) ON CONFLICT (only_row) DO NOTHING`, id); err != nil {
		return fmt.Errorf("creating the store id: %w", err)
	}
	return nil
}
