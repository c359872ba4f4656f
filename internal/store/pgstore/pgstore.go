// Package pgstore is Gatehouse's PostgreSQL store: an implementation of
// store.Store that several Gatehouse processes (replicas) share.
//
// # Schema
//
// migrations/*.sql, embedded in the binary and applied by Open in order
// (see migrate.go) under a session advisory lock, so that replicas starting
// at once migrate once. Every record is its model's JSON (the encoding
// boltstore keeps) beside its key and index columns; keys are text COLLATE
// "C", so orderings and cursors are boltstore's byte order.
//
// # Transactions
//
// Every Update is a SERIALIZABLE transaction; a serialization failure or a
// deadlock (SQLSTATE 40001, 40P01), in fn or at commit, runs fn again in a
// fresh transaction after a short jittered backoff, up to
// Options.MaxAttempts times (then ErrContended). fn may therefore run more
// than once (the store contract allows it). Views are SERIALIZABLE READ
// ONLY transactions, retried the same way. The first error of a write
// method other than store.ErrNotFound dooms the transaction (PostgreSQL
// aborts a transaction on a failed statement): later calls return it and
// Update returns it and commits nothing.
//
// # Revisions and the change feed
//
// The last statements of a committing Update raise meta.revision (a row
// lock: revisions are gapless and in commit order), insert the store.Commit
// into the changes table and pg_notify the revision. Changes reads that
// table; Subscribe wakes on the notifications, heard by one dedicated
// connection per Store (listen.go).
package pgstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Defaults of Options.
const (
	DefaultChangeRetention = 10000
	DefaultMaxAttempts     = 50
	// DefaultChangesLimit is the page of Changes for limit <= 0.
	DefaultChangesLimit = 1000
	// maxChangesLimit bounds one Changes page.
	maxChangesLimit = 10000
	// maxPruneEvery bounds pruneEvery.
	maxPruneEvery = 64
)

// pruneEvery: a commit whose revision is a multiple of it prunes the
// change log (one range DELETE), so that pruning costs nothing on the
// other commits: at most 64, and a 16th of the retention, so that the log
// holds at most about 6% more than the retention.
func pruneEvery(retention int) int64 {
	return int64(max(1, min(maxPruneEvery, retention/16)))
}

// notifyChannel is the LISTEN/NOTIFY channel; notifications are per
// database, so stores on other databases of the server never hear them.
const notifyChannel = "gatehouse_changes"

var (
	// ErrClosed: the store has been closed.
	ErrClosed = errors.New("store is closed")
	// ErrTxDone: a Tx was used after its View or Update function returned.
	ErrTxDone = errors.New("transaction used after its function returned")
	// ErrTxReadOnly: a write method was called inside View.
	ErrTxReadOnly = errors.New("write in a read-only transaction (View)")
	// ErrContended: Update gave up after Options.MaxAttempts serialization
	// failures in a row.
	ErrContended = errors.New("the store is contended: the transaction kept conflicting with concurrent ones; try again")
	// ErrSchemaTooNew: the database was migrated by a newer Gatehouse.
	ErrSchemaTooNew = errors.New("store schema version is newer than this Gatehouse supports; upgrade Gatehouse")
)

// Options configures Open.
type Options struct {
	// ChangeRetention is how many of the latest commits the change log
	// keeps at least; older ones are pruned by later commits. Default
	// DefaultChangeRetention.
	ChangeRetention int
	// MaxAttempts bounds how many times Update (or View) runs fn when
	// transactions keep failing to serialize. Default DefaultMaxAttempts.
	MaxAttempts int
	// MaxConns is the connection pool's size (0: pgxpool's default, the
	// larger of 4 and the number of CPUs). The change listener holds one
	// more connection of its own.
	MaxConns int32
}

// Store is a store.Store on a PostgreSQL database. It is safe for
// concurrent use.
type Store struct {
	pool     *pgxpool.Pool
	redacted string // the URL without its password, for errors
	opts     Options
	id       string
	rev      atomic.Uint64

	subsMu sync.Mutex
	subs   map[chan struct{}]struct{}

	listener *listener

	// retries and contended count transactions run again after a
	// serialization failure, and Updates that gave up (TxStats).
	retries, contended atomic.Uint64

	closed    atomic.Bool
	closeOnce sync.Once
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (postgres:// or postgresql://, or
// a key=value connection string), migrates its schema to this build's
// version, creates the store id on a new database, and starts the change
// listener. Errors never hold the URL's password.
func Open(ctx context.Context, dbURL string, opts Options) (*Store, error) {
	if opts.ChangeRetention <= 0 {
		opts.ChangeRetention = DefaultChangeRetention
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	redacted := redact(dbURL)
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		// pgx's parse errors redact the password; ours names the URL
		// redacted.
		return nil, fmt.Errorf("store %s: %w", redacted, err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", redacted, err)
	}
	s := &Store{pool: pool, redacted: redacted, opts: opts, subs: make(map[chan struct{}]struct{})}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store %s: %w", redacted, err)
	}
	var rev int64
	if err := pool.QueryRow(ctx, `SELECT store_id, revision FROM meta`).Scan(&s.id, &rev); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store %s: reading the store id: %w", redacted, err)
	}
	s.rev.Store(uint64(rev))
	s.listener = startListener(s, cfg.ConnConfig.Copy())
	return s, nil
}

// redact returns the URL with its password replaced, or, when it is not a
// URL, a fixed text (a key=value string may hold password=...).
func redact(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "(PostgreSQL connection string)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// ID implements store.Store.
func (s *Store) ID() string { return s.id }

// Revision implements store.Store: the latest revision this value
// committed or saw (at Open, in Changes reads, in notifications).
func (s *Store) Revision() uint64 { return s.rev.Load() }

// seeRevision raises Revision to rev; concurrent callers may come in any
// order, the greatest wins.
func (s *Store) seeRevision(rev uint64) { store.RaiseRevision(&s.rev, rev) }

// ---- transactions

// View implements store.Store: fn runs in a SERIALIZABLE READ ONLY
// transaction (retried like Update's on a serialization failure).
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	_, err := s.run(ctx, false, fn)
	return err
}

// Update implements store.Store.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	_, err := s.UpdateRev(ctx, fn)
	return err
}

// UpdateRev implements store.Store. fn may run more than once (see the
// package doc); the revision is taken as the transaction's last write.
func (s *Store) UpdateRev(ctx context.Context, fn func(store.Tx) error) (uint64, error) {
	rev, err := s.run(ctx, true, fn)
	if err != nil {
		return 0, err
	}
	s.seeRevision(rev)
	// Our own commit: subscribers of this value hear of it at once, not
	// only when the notification comes back.
	s.wake()
	return rev, nil
}

// run runs fn in a transaction, again after a serialization failure.
func (s *Store) run(ctx context.Context, write bool, fn func(store.Tx) error) (uint64, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	var lastErr error
	for attempt := 0; attempt < s.opts.MaxAttempts; attempt++ {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return 0, err
			}
		}
		rev, err, retry := s.attempt(ctx, write, fn)
		if !retry {
			return rev, err
		}
		s.retries.Add(1)
		lastErr = err
	}
	s.contended.Add(1)
	return 0, fmt.Errorf("pgstore: %w (%d attempts; last: %v)", ErrContended, s.opts.MaxAttempts, lastErr)
}

// TxStats are the transaction counters, for metrics.
type TxStats struct {
	// Retries counts transactions run again after a serialization
	// failure or deadlock.
	Retries uint64
	// Contended counts Updates and Views that gave up with ErrContended.
	Contended uint64
}

// TxStats returns the transaction counters.
func (s *Store) TxStats() TxStats {
	return TxStats{Retries: s.retries.Load(), Contended: s.contended.Load()}
}

// backoff sleeps a random time in [0, min(2ms·2^attempt, 128ms)): full
// jitter, so that transactions that conflicted do not meet again. Every
// writer updates the revision row, so concurrent writers always conflict
// and all but one run again: the ceiling grows with the attempts so that
// a crowd of writers spreads out.
func backoff(ctx context.Context, attempt int) error {
	ceil := 2 * time.Millisecond << min(attempt, 6)
	n, err := rand.Int(rand.Reader, big.NewInt(int64(ceil)))
	if err != nil {
		return err
	}
	t := time.NewTimer(time.Duration(n.Int64()))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryable reports whether err is a serialization failure or a deadlock.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// attempt is one run of fn in one transaction. retry: the transaction
// failed to serialize and fn should run again.
func (s *Store) attempt(ctx context.Context, write bool, fn func(store.Tx) error) (rev uint64, err error, retry bool) {
	mode := pgx.ReadOnly
	if write {
		mode = pgx.ReadWrite
	}
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable, AccessMode: mode})
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err(), false
		}
		if s.closed.Load() {
			return 0, ErrClosed, false
		}
		return 0, fmt.Errorf("pgstore: beginning a transaction: %w", err), retryable(err)
	}
	t := &tx{ctx: ctx, ptx: ptx, writable: write}
	if write {
		t.ch = new(changes)
	}
	committed := false
	defer func() {
		t.done = true
		if !committed {
			// After a failure, and when fn panics: the connection goes
			// back to the pool only once its transaction is over. A
			// rollback error changes nothing: the transaction is over
			// either way (a broken connection is dropped by the pool).
			_ = ptx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	fnErr := fn(t)
	if t.doomed != nil {
		// Whatever fn returned: a failed statement left the transaction
		// unusable (doom rule). fn's own error only when it wraps the
		// failure (it adds context to it).
		if fnErr != nil && errors.Is(fnErr, t.doomed) {
			return 0, fnErr, retryable(t.doomed)
		}
		return 0, t.doomed, retryable(t.doomed)
	}
	if fnErr != nil {
		return 0, fnErr, retryable(fnErr)
	}
	if !write {
		committed = true // ended either way
		if err := ptx.Commit(ctx); err != nil {
			return 0, s.txErr(ctx, "ending a read transaction", err), retryable(err)
		}
		return 0, nil, false
	}
	rev, err = s.finish(ctx, ptx, t.ch.list())
	if err != nil {
		return 0, s.txErr(ctx, "committing", err), retryable(err)
	}
	committed = true
	return rev, nil, false
}

// finish raises the revision, logs the store.Commit, notifies and commits. The
// counter update is the transaction's last write to meta: its row lock is
// held from there to the commit, so commits get their revisions in
// commit order.
func (s *Store) finish(ctx context.Context, ptx pgx.Tx, chs []store.Change) (uint64, error) {
	var rev int64
	if err := ptx.QueryRow(ctx, `UPDATE meta SET revision = revision + 1 RETURNING revision`).Scan(&rev); err != nil {
		return 0, err
	}
	if chs == nil {
		chs = []store.Change{}
	}
	raw, err := json.Marshal(chs)
	if err != nil {
		return 0, err
	}
	batch := &pgx.Batch{}
	batch.Queue(`INSERT INTO changes (revision, changes) VALUES ($1, $2)`, rev, string(raw))
	if rev%pruneEvery(s.opts.ChangeRetention) == 0 {
		batch.Queue(`DELETE FROM changes WHERE revision <= $1`, rev-int64(s.opts.ChangeRetention))
	}
	batch.Queue(`SELECT pg_notify($1, $2)`, notifyChannel, fmt.Sprint(rev))
	if err := ptx.SendBatch(ctx, batch).Close(); err != nil {
		return 0, err
	}
	if err := ptx.Commit(ctx); err != nil {
		return 0, err
	}
	return uint64(rev), nil
}

// txErr wraps a database error of the transaction machinery; a cancelled
// context comes back as the context's error.
func (s *Store) txErr(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil && !retryable(err) {
		return ctx.Err()
	}
	return fmt.Errorf("pgstore: %s: %w", what, err)
}

// ---- Stats, Backup, Close

// Stats implements store.Store. SizeBytes (FileSizeBytes until the
// contract's rename is merged) is pg_database_size.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	var st store.Stats
	if err := ctx.Err(); err != nil {
		return st, err
	}
	if s.closed.Load() {
		return st, ErrClosed
	}
	err := s.View(ctx, func(stx store.Tx) error {
		t := stx.(*tx)
		return t.ptx.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM users),
			(SELECT count(*) FROM workspaces WHERE data->>'deleted_at' IS NULL),
			(SELECT count(*) FROM workspaces WHERE data->>'deleted_at' IS NOT NULL),
			(SELECT count(*) FROM memberships),
			(SELECT count(*) FROM roles),
			(SELECT count(*) FROM invites),
			(SELECT count(*) FROM api_keys),
			(SELECT count(*) FROM audit_events),
			(SELECT count(*) FROM signing_keys),
			(SELECT count(*) FROM organizations),
			(SELECT count(*) FROM org_members),
			(SELECT count(*) FROM projects),
			(SELECT count(*) FROM project_members),
			pg_database_size(current_database())`).Scan(&st.Users, &st.Workspaces, &st.DeletedWorkspaces, &st.Memberships,
			&st.Roles, &st.Invites, &st.APIKeys, &st.AuditEvents, &st.SigningKeys,
			&st.Organizations, &st.OrgMembers, &st.Projects, &st.ProjectMembers, &st.SizeBytes)
	})
	return st, err
}

// Backup implements store.Store: the portable snapshot (store.Export's
// JSON, what `gatehouse store import` reads), taken in one read
// transaction and held in memory, so that no transaction is open while fn
// reads it. Like the store, the snapshot holds the gateway's private
// signing keys.
func (s *Store) Backup(ctx context.Context, fn func(size int64, r io.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var snap store.Snapshot
	if err := s.View(ctx, func(tx store.Tx) (err error) {
		snap, err = store.Export(tx)
		return err
	}); err != nil {
		return fmt.Errorf("pgstore: backup: %w", err)
	}
	data, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("pgstore: backup: %w", err)
	}
	return fn(int64(len(data)), bytes.NewReader(data))
}

// Close implements store.Store: it stops the listener, wakes and releases
// the subscribers' channels' senders, and closes the pool (waiting for
// running transactions). It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.listener.stop()
		s.pool.Close()
	})
	return nil
}
