// Package boltstore is Gatehouse's embedded store: an implementation of
// store.Store on a single bbolt file.
//
// # Layout
//
// Every record is a JSON-encoded model struct in its own bucket; secondary
// indexes live in their own buckets and are written in the same transaction
// as the record they index:
//
//	meta           schema_version → decimal ASCII
//	users          userID → User
//	workspaces     wsID → Workspace
//	slugs          slug → wsID                  (index; deleted workspaces keep theirs)
//	members        wsID \x00 userID → Membership
//	user_ws        userID \x00 wsID → ""        (index for UserMemberships)
//	roles          wsID \x00 roleSlug → Role
//	signing_keys   keyID → SigningKey
//	invites        inviteID → Invite
//	invite_ws      wsID \x00 inviteID → ""      (index for Invites)
//	invite_tokens  tokenHash → inviteID         (index for InviteByTokenHash; unique)
//	invite_emails  email \x00 inviteID → ""     (index for InvitesForEmail)
//	api_keys       keyID → APIKey
//	api_keys_ws    wsID \x00 keyID → ""         (index for APIKeys)
//	audit          wsID \x00 eventID → AuditEvent   (ids: ev_ + a per-workspace sequence)
//	orgs           orgID → Organization
//	org_slugs      slug → orgID                 (index; deleted organizations keep theirs)
//	org_members    orgID \x00 userID → OrgMember
//	user_orgs      userID \x00 orgID → ""       (index for UserOrgMemberships)
//	projects       projectID → Project
//	org_projects   orgID \x00 projectID → ""    (index for Projects)
//	project_slugs  orgID \x00 slug → projectID  (index; unique within the organization)
//	project_members projectID \x00 userID → ProjectMember
//	user_projects  userID \x00 projectID → ""   (index for UserProjectMemberships)
//	org_ws         orgID \x00 wsID → ""         (index for OrgWorkspaces)
//	project_ws     projectID \x00 wsID → ""     (index for OrgWorkspaces of a project)
//	local_ws       userID → wsID                (index for LocalWorkspace; unique)
//
// The organization buckets were added within schema version 1: the first
// read-write open of an older file creates them empty, which is exactly
// its state (no workspace of it has an organization or a local scope:
// such records decode as private, outside any organization).
//
// Ids, slugs, invite emails and token hashes are therefore forbidden to
// contain NUL, must not be empty and are at most MaxIDLen bytes, and so is
// an API key's secret hash, although no index holds it: writes violating
// this fail with store.ErrInvalid. Reads of such keys simply find
// nothing (store.ErrNotFound or an empty list), because a read key usually
// comes straight from a request and "no such workspace" is the right answer
// to a malformed one.
//
// Invites are keyed by their id alone, because Invite and InviteByTokenHash
// (the accept path) know no workspace; the three invite indexes are kept
// alike: PutInvite moves each entry whose indexed field changed. API keys
// likewise live under their id alone (a presented key names its id, not
// its workspace), with one workspace index that PutAPIKey keeps alike. Audit
// events are only ever read per workspace, newest first, so the workspace
// leads their key; their ids are "ev_" and 16 hex digits of a sequence of
// their workspace alone (see audit.go), so that key order is append order
// and an id reveals nothing about other workspaces. PurgeWorkspace deletes
// everything keyed or indexed by a workspace (see purge.go).
//
// # Durability and concurrency
//
// Every Update is one bbolt read-write transaction committed with fsync
// (never Batch, never NoSync): when Update returns nil the write survives a
// crash. Updates are serialized by bbolt; Views run concurrently with each
// other and with one Update.
package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// SchemaVersion is the layout version this package reads and writes. It is
// stored in the meta bucket; Open refuses a file with a newer version.
const SchemaVersion = 1

// MaxIDLen is the longest id or slug (in bytes) the store accepts.
const MaxIDLen = 512

// DefaultTimeout is the file-lock wait used when Options.Timeout is zero.
const DefaultTimeout = time.Second

var (
	// ErrSchemaTooNew: the file was written by a newer Gatehouse.
	ErrSchemaTooNew = errors.New("store schema version is newer than this Gatehouse supports; upgrade Gatehouse")
	// ErrNotGatehouseStore: the file is a bbolt database, but not ours.
	ErrNotGatehouseStore = errors.New("not a Gatehouse store")
	// ErrReadOnly: Update on a store opened with Options.ReadOnly.
	ErrReadOnly = errors.New("store is opened read-only")
	// ErrClosed: the store has been closed.
	ErrClosed = errors.New("store is closed")
	// ErrTxDone: a Tx was used after its View or Update function returned.
	ErrTxDone = errors.New("transaction used after its function returned")
	// ErrTxReadOnly: a write method was called inside View.
	ErrTxReadOnly = errors.New("write in a read-only transaction (View)")
	// ErrLocked: another handle (in this process or another) holds the
	// store file's lock.
	ErrLocked = errors.New("store is locked by another process — is Gatehouse running? use `gatehouse reload` or stop it first")
)

// Bucket and key names.
var (
	bucketMeta       = []byte("meta")
	bucketUsers      = []byte("users")
	bucketWorkspaces = []byte("workspaces")
	bucketSlugs      = []byte("slugs")
	bucketMembers    = []byte("members")
	bucketUserWS     = []byte("user_ws")
	bucketRoles      = []byte("roles")
	bucketKeys       = []byte("signing_keys")
	bucketInvites    = []byte("invites")
	bucketInviteWS   = []byte("invite_ws")
	bucketInviteTok  = []byte("invite_tokens")
	bucketInviteMail = []byte("invite_emails")
	bucketAPIKeys    = []byte("api_keys")
	bucketAPIKeyWS   = []byte("api_keys_ws")
	bucketAudit      = []byte("audit")

	// Organizations, projects and workspace scopes (orgs.go).
	bucketOrgs           = []byte("orgs")
	bucketOrgSlugs       = []byte("org_slugs")
	bucketOrgMembers     = []byte("org_members")
	bucketUserOrgs       = []byte("user_orgs")
	bucketProjects       = []byte("projects")
	bucketOrgProjects    = []byte("org_projects")
	bucketProjectSlugs   = []byte("project_slugs")
	bucketProjectMembers = []byte("project_members")
	bucketUserProjects   = []byte("user_projects")
	bucketOrgWS          = []byte("org_ws")
	bucketProjectWS      = []byte("project_ws")
	bucketLocalWS        = []byte("local_ws")

	allBuckets = [][]byte{bucketMeta, bucketUsers, bucketWorkspaces, bucketSlugs, bucketMembers, bucketUserWS, bucketRoles, bucketKeys,
		bucketInvites, bucketInviteWS, bucketInviteTok, bucketInviteMail, bucketAPIKeys, bucketAPIKeyWS, bucketAudit,
		bucketOrgs, bucketOrgSlugs, bucketOrgMembers, bucketUserOrgs, bucketProjects, bucketOrgProjects, bucketProjectSlugs,
		bucketProjectMembers, bucketUserProjects, bucketOrgWS, bucketProjectWS, bucketLocalWS}

	keySchemaVersion = []byte("schema_version")
	// keyRevision is the store's revision (store.Store.Revision), 8 bytes
	// big-endian, written by every committed Update in its own
	// transaction; absent = 0.
	keyRevision = []byte("revision")
	// keyStoreID is the store's random id (store.Store.ID), written once
	// when the file is created (or first opened read-write by a build
	// that knows it).
	keyStoreID = []byte("store_id")
)

// Options configures Open.
type Options struct {
	// Timeout for acquiring the file lock; default 1s. bbolt's ErrTimeout
	// becomes ErrLocked wrapped with the path.
	Timeout time.Duration
	// ChangeRetention is how many of the latest commits the change log
	// (Store.Changes) keeps; older entries are pruned by later writes.
	// Zero: DefaultChangeRetention. A consumer further behind than this
	// gets store.ErrChangesTruncated and flushes its caches.
	ChangeRetention int
	// ReadOnly opens the file read-only (for `gatehouse store stats/export`).
	// The file must exist. Several read-only opens may share a file; a
	// read-write open excludes all others.
	ReadOnly bool

	// boltOptions lets tests adjust the bbolt options (e.g. MaxSize to
	// provoke a commit failure).
	boltOptions func(*bbolt.Options)
}

// Store is a store.Store on a bbolt file. It is safe for concurrent use.
type Store struct {
	db        *bbolt.DB
	path      string
	retention int
	readOnly  bool
	subs      subscribers

	// id and rev mirror keyStoreID and keyRevision: id is set by Open,
	// rev after every commit, so Revision and ID need no transaction.
	id  string
	rev atomic.Uint64

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open opens (read-write: creating if missing) the store file at path.
//
// A new file is created with mode 0600 (its parent directory with 0700 if
// missing) and initialized with the buckets and the schema version. A file
// that another handle holds — in this process or another — makes Open fail
// after Options.Timeout with an error satisfying errors.Is(err,
// ErrLocked).
func Open(path string, opts Options) (*Store, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if !opts.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("store %s: %w", path, err)
		}
	}
	bopts := &bbolt.Options{
		Timeout:  timeout,
		ReadOnly: opts.ReadOnly,
		// The default freelist type; stated so nobody "optimizes" durability
		// away here: NoSync, NoGrowSync and NoFreelistSync stay false.
		FreelistType: bbolt.FreelistArrayType,
		// bbolt's statistics take a global mutex at the start and end of
		// every transaction, which serializes concurrent readers; nothing
		// here reads db.Stats.
		NoStatistics: true,
	}
	if opts.boltOptions != nil {
		opts.boltOptions(bopts)
	}
	db, err := bbolt.Open(path, 0o600, bopts)
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("store %s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	retention := opts.ChangeRetention
	if retention <= 0 {
		retention = DefaultChangeRetention
	}
	s := &Store{db: db, path: path, retention: retention, readOnly: opts.ReadOnly}
	if err := s.init(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	return s, nil
}

// init checks (read-only) or creates (read-write) the buckets and the
// schema version.
func (s *Store) init() error {
	check := func(tx *bbolt.Tx) (fresh bool, err error) {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			// A fresh file has no bucket at all; any other bucket means
			// the file belongs to someone else (e.g. Caddy's ACME db).
			empty := true
			_ = tx.ForEach(func([]byte, *bbolt.Bucket) error {
				empty = false
				return errStopIteration
			})
			if !empty {
				return false, fmt.Errorf("%w (no meta bucket)", ErrNotGatehouseStore)
			}
			return true, nil
		}
		raw := meta.Get(keySchemaVersion)
		v, perr := strconv.Atoi(string(raw))
		if perr != nil || v < 1 {
			return false, fmt.Errorf("%w (bad schema version %q)", ErrNotGatehouseStore, raw)
		}
		if v > SchemaVersion {
			return false, fmt.Errorf("%w: file has version %d, this build supports up to %d", ErrSchemaTooNew, v, SchemaVersion)
		}
		// v < SchemaVersion would be migrated here; there is no older
		// version yet. A bucket added within a version (a new kind of
		// record) is created by the next read-write open, so only a
		// read-only open can meet one missing.
		if s.readOnly {
			for _, name := range allBuckets {
				if tx.Bucket(name) == nil {
					return false, fmt.Errorf("%w (bucket %q missing; open it once read-write to upgrade)", ErrNotGatehouseStore, name)
				}
			}
		}
		return false, nil
	}

	if s.readOnly {
		return s.db.View(func(tx *bbolt.Tx) error {
			fresh, err := check(tx)
			if err == nil && fresh {
				err = fmt.Errorf("%w (empty file)", ErrNotGatehouseStore)
			}
			if err == nil {
				s.loadMeta(tx)
			}
			return err
		})
	}

	var fresh, complete bool
	if err := s.db.View(func(tx *bbolt.Tx) (err error) {
		fresh, err = check(tx)
		complete = hasAllBuckets(tx) && tx.Bucket(bucketMeta).Get(keyStoreID) != nil
		if complete {
			s.loadMeta(tx)
		}
		return err
	}); err != nil || complete {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if meta.Get(keyStoreID) == nil {
			id, err := store.NewStoreID()
			if err != nil {
				return err
			}
			if err := meta.Put(keyStoreID, []byte(id)); err != nil {
				return err
			}
		}
		s.loadMeta(tx)
		if !fresh {
			return nil
		}
		return meta.Put(keySchemaVersion, []byte(strconv.Itoa(SchemaVersion)))
	})
}

// loadMeta copies the store id and the revision into s. A file from a
// build before store ids, opened read-only, has none: its id is "" and
// no token matches it.
func (s *Store) loadMeta(tx *bbolt.Tx) {
	meta := tx.Bucket(bucketMeta)
	s.id = string(meta.Get(keyStoreID))
	s.rev.Store(readRevision(meta))
}

// readRevision decodes keyRevision; absent (or, defensively, not 8 bytes)
// is 0.
func readRevision(meta *bbolt.Bucket) uint64 {
	raw := meta.Get(keyRevision)
	if len(raw) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(raw)
}

// ID implements store.Store.
func (s *Store) ID() string { return s.id }

// Revision implements store.Store.
func (s *Store) Revision() uint64 { return s.rev.Load() }

// publishRevision raises the mirrored revision to rev. Commit handlers of
// two transactions may run concurrently (bbolt runs them after releasing
// the writer lock), so the later revision must win whatever the order.
func (s *Store) publishRevision(rev uint64) { store.RaiseRevision(&s.rev, rev) }

func hasAllBuckets(tx *bbolt.Tx) bool {
	for _, name := range allBuckets {
		if tx.Bucket(name) == nil {
			return false
		}
	}
	return true
}

var errStopIteration = errors.New("stop")

// Path returns the file path the store was opened with.
func (s *Store) Path() string { return s.path }

// View implements store.Store.
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return ErrClosed
	}
	err := s.db.View(func(btx *bbolt.Tx) error {
		t := newTx(btx, false, nil)
		defer t.finish()
		return fn(t)
	})
	return s.mapErr(err)
}

// Update implements store.Store.
//
// fn runs once (bbolt serializes writers, so it never needs a retry), in a
// bbolt read-write transaction. If it returns an error the transaction is
// rolled back and that error is returned as is. If a write method failed
// with anything but ErrNotFound (doom.go), the transaction is rolled back
// and that failure is returned whatever fn returned (fn's own error when
// it wraps the failure, for its context). Otherwise the next revision and
// its entry in the change log are written in the same transaction, which
// is committed with fsync; then subscribers are woken and Update returns
// nil.
//
// fn must use only the Tx it is given: a nested Update deadlocks (bbolt
// has one writer), and a nested View would not see fn's uncommitted writes.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	_, err := s.UpdateRev(ctx, fn)
	return err
}

// UpdateRev implements store.Store: Update, returning the revision of the
// commit. The revision is incremented inside the transaction, after fn,
// so it commits (durably, in commit order) or rolls back with fn's
// writes, and it is published to Revision before UpdateRev returns.
//
// Why the change log is written in the transaction and not told to anyone
// from a commit hook: a consumer (internal/changefeed) reads the log from
// its own cursor, so whatever it reads is exactly what committed, in order,
// from this process or any other; and an entry is visible exactly when the
// data it describes is (same bbolt meta page), never before.
func (s *Store) UpdateRev(ctx context.Context, fn func(store.Tx) error) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if s.readOnly {
		return 0, fmt.Errorf("store %s: %w", s.path, ErrReadOnly)
	}
	if s.closed.Load() {
		return 0, ErrClosed
	}
	var (
		rev       uint64
		committed bool
		entered   bool // the transaction began
		fnOK      bool // fn returned nil
	)
	ch := new(changes)
	err := s.db.Update(func(btx *bbolt.Tx) error {
		entered = true
		// The caller may have given up while we waited for the writer
		// lock: do not start work nobody waits for. fn has not run.
		if err := ctx.Err(); err != nil {
			return err
		}
		t := newTx(btx, true, ch)
		defer t.finish() // also when fn panics: a leaked Tx must not reach bbolt
		err := fn(updateTx{t})
		if t.doomed != nil && !errors.Is(err, t.doomed) {
			// A write failed (the failed-statement rule, doom.go): that
			// failure is the Update's, whatever fn made of it (nil, or
			// an error of its own), and nothing commits.
			return t.doomed
		}
		if err != nil {
			return err
		}
		fnOK = true
		meta := btx.Bucket(bucketMeta)
		rev = readRevision(meta) + 1
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], rev)
		if err := meta.Put(keyRevision, buf[:]); err != nil {
			return err
		}
		if err := appendCommit(btx, ch.commit(rev), s.retention); err != nil {
			return err
		}
		btx.OnCommit(func() {
			committed = true
			s.publishRevision(rev)
		})
		return nil
	})
	if entered && !fnOK {
		// fn's own error (or ctx's), unchanged, so that errors.Is/As on
		// the caller's types and identity comparisons keep working.
		return 0, err
	}
	if fnOK {
		// Also after a failed commit: bbolt may have written the new meta
		// page to the shared mmap before failing (a failed fsync after a
		// successful write), so the commit may be visible; a spurious
		// wake-up only makes a consumer read the log.
		s.wake()
	}
	if err == nil && committed {
		return rev, nil
	}
	// Begin or Commit failed.
	return 0, s.mapErr(err)
}

// mapErr turns bbolt's lifecycle errors into this package's.
func (s *Store) mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, berrors.ErrDatabaseNotOpen):
		return ErrClosed
	case errors.Is(err, berrors.ErrDatabaseReadOnly):
		return fmt.Errorf("store %s: %w", s.path, ErrReadOnly)
	}
	return err
}

// Stats implements store.Store.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	var st store.Stats
	if err := ctx.Err(); err != nil {
		return st, err
	}
	if s.closed.Load() {
		return st, ErrClosed
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		st.Users = tx.Bucket(bucketUsers).Stats().KeyN
		st.Memberships = tx.Bucket(bucketMembers).Stats().KeyN
		st.Roles = tx.Bucket(bucketRoles).Stats().KeyN
		st.Invites = tx.Bucket(bucketInvites).Stats().KeyN
		st.APIKeys = tx.Bucket(bucketAPIKeys).Stats().KeyN
		st.AuditEvents = tx.Bucket(bucketAudit).Stats().KeyN
		st.SigningKeys = tx.Bucket(bucketKeys).Stats().KeyN
		st.Organizations = tx.Bucket(bucketOrgs).Stats().KeyN
		st.OrgMembers = tx.Bucket(bucketOrgMembers).Stats().KeyN
		st.Projects = tx.Bucket(bucketProjects).Stats().KeyN
		st.ProjectMembers = tx.Bucket(bucketProjectMembers).Stats().KeyN
		// Deleted workspaces need a look at each record. Stats is an
		// offline/admin operation; honour cancellation on big stores.
		var n int
		err := tx.Bucket(bucketWorkspaces).ForEach(func(k, v []byte) error {
			if n++; n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			var w store.Workspace
			if err := decodeWorkspace(v, &w, bucketWorkspaces, k); err != nil {
				return err
			}
			if w.Deleted() {
				st.DeletedWorkspaces++
			} else {
				st.Workspaces++
			}
			return nil
		})
		if err != nil {
			return err
		}
		// bbolt's measure of its storage: the file size.
		st.SizeBytes = tx.Size()
		if fi, err := os.Stat(s.db.Path()); err == nil {
			st.SizeBytes = fi.Size()
		}
		return nil
	})
	return st, s.mapErr(err)
}

// Close implements store.Store. It waits for running transactions to end.
// It is safe to call more than once; later calls return the first call's
// result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}
