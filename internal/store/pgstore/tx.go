package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// MaxIDLen is the longest id or slug (in bytes) the store accepts, as in
// boltstore.
const MaxIDLen = 512

// tx implements store.Tx on a pgx transaction. Like the transaction under
// it, it is used by one goroutine at a time.
type tx struct {
	ctx      context.Context
	ptx      pgx.Tx
	writable bool
	done     bool
	ch       *changes // nil in View
	// doomed is the first error that left the transaction unusable: a
	// failed write (other than ErrNotFound) or a failed statement.
	// Every later call returns it (the contract's doom rule).
	doomed error
}

var _ store.Tx = (*tx)(nil)

func (t *tx) readable() error {
	if t.done {
		return ErrTxDone
	}
	return t.doomed
}

func (t *tx) writableErr() error {
	if err := t.readable(); err != nil {
		return err
	}
	if !t.writable {
		return ErrTxReadOnly
	}
	return nil
}

// fail dooms the transaction with err unless it is ErrNotFound, and
// returns it.
func (t *tx) fail(err error) error {
	if err != nil && t.doomed == nil && !errors.Is(err, store.ErrNotFound) {
		t.doomed = err
	}
	return err
}

// dbErr wraps a database error of a statement; the statement failed, so
// PostgreSQL has aborted the transaction: it is doomed.
func (t *tx) dbErr(what string, err error) error {
	if t.ctx.Err() != nil && !retryable(err) {
		err = fmt.Errorf("%w (%v)", t.ctx.Err(), err)
	}
	return t.fail(fmt.Errorf("pgstore: %s: %w", what, err))
}

// validKey reports whether s may be (part of) a key: boltstore's rule,
// plus valid UTF-8 (PostgreSQL text holds nothing else).
func validKey(s string) bool {
	return s != "" && len(s) <= MaxIDLen && strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

// checkKey returns a store.ErrInvalid error describing why s is not a
// valid key, or nil.
func checkKey(what, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("pgstore: %s is empty: %w", what, store.ErrInvalid)
	case len(s) > MaxIDLen:
		return fmt.Errorf("pgstore: %s is %d bytes long (max %d): %w", what, len(s), MaxIDLen, store.ErrInvalid)
	case strings.IndexByte(s, 0) >= 0:
		return fmt.Errorf("pgstore: %s %s contains a NUL byte: %w", what, quote(s), store.ErrInvalid)
	case !utf8.ValidString(s):
		return fmt.Errorf("pgstore: %s %s is not valid UTF-8: %w", what, quote(s), store.ErrInvalid)
	}
	return nil
}

// checkKeys is checkKey over (what, value) pairs.
func checkKeys(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := checkKey(pairs[i], pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// quote is store.QuoteID, short for the many error messages here.
func quote(s string) string { return store.QuoteID(s) }

func notFound(what, id string) error {
	return fmt.Errorf("pgstore: %s %s: %w", what, quote(id), store.ErrNotFound)
}

func notFound2(what, ws, id string) error {
	return fmt.Errorf("pgstore: %s %s in workspace %s: %w", what, quote(id), quote(ws), store.ErrNotFound)
}

// ---- generic reads

// getOne reads the JSON record of one row into dst: ErrNotFound (made by
// nf) when there is none.
func getOne[T any](t *tx, nf func() error, what, sql string, args ...any) (T, error) {
	var v T
	if err := t.readable(); err != nil {
		return v, err
	}
	var raw []byte
	err := t.ptx.QueryRow(t.ctx, sql, args...).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, nf()
	}
	if err != nil {
		return v, t.dbErr("reading "+what, err)
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, t.fail(fmt.Errorf("pgstore: decoding %s: %w", what, err))
	}
	return v, nil
}

// page reads a page of (key, data) rows: sql must select the key and the
// JSON record, ordered, with `LIMIT $n` as its last parameter (which page
// passes as limit+1, or NULL for no limit). It returns the items and the
// next cursor (the key of the page's last item when another row follows).
func page[T any](t *tx, what string, limit int, sql string, args ...any) ([]T, string, error) {
	if err := t.readable(); err != nil {
		return nil, "", err
	}
	var lim any // NULL: LIMIT ALL
	if limit > 0 {
		lim = limit + 1
	}
	rows, err := t.ptx.Query(t.ctx, sql, append(args, lim)...)
	if err != nil {
		return nil, "", t.dbErr("listing "+what, err)
	}
	defer rows.Close()
	items := make([]T, 0, listCap(limit))
	var keys []string
	for rows.Next() {
		var (
			key string
			raw []byte
		)
		if err := rows.Scan(&key, &raw); err != nil {
			return nil, "", t.dbErr("listing "+what, err)
		}
		if limit > 0 && len(items) == limit {
			// A further row exists: the page's last key is the cursor.
			rows.Close()
			return items, keys[len(keys)-1], nil
		}
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, "", t.fail(fmt.Errorf("pgstore: decoding %s %s: %w", what, quote(key), err))
		}
		items = append(items, v)
		keys = append(keys, key)
	}
	if err := rows.Err(); err != nil {
		return nil, "", t.dbErr("listing "+what, err)
	}
	return items, "", nil
}

// listCap is the initial capacity of a page.
func listCap(limit int) int {
	if limit <= 0 || limit > 64 {
		return 16
	}
	return limit
}

// exists runs a `SELECT EXISTS(...)`.
func (t *tx) exists(what, sql string, args ...any) (bool, error) {
	var ok bool
	if err := t.ptx.QueryRow(t.ctx, sql, args...).Scan(&ok); err != nil {
		return false, t.dbErr("checking "+what, err)
	}
	return ok, nil
}

// workspaceExists reports ErrNotFound (not dooming) when workspace id is
// missing: a backend checks existence before it writes.
func (t *tx) workspaceExists(id string) error {
	ok, err := t.exists("the workspace", `SELECT EXISTS (SELECT 1 FROM workspaces WHERE id = $1)`, id)
	if err != nil {
		return err
	}
	if !ok {
		return notFound("workspace", id)
	}
	return nil
}

// encode is json.Marshal for a record, as the text the json column takes.
func (t *tx) encode(what string, v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", t.fail(fmt.Errorf("pgstore: encoding %s: %w", what, err))
	}
	return string(data), nil
}

// exec runs a write statement.
func (t *tx) exec(what, sql string, args ...any) error {
	if _, err := t.ptx.Exec(t.ctx, sql, args...); err != nil {
		return t.dbErr(what, err)
	}
	return nil
}

// ---- users

func (t *tx) User(id string) (store.User, error) {
	nf := func() error { return notFound("user", id) }
	if !validKey(id) {
		if err := t.readable(); err != nil {
			return store.User{}, err
		}
		return store.User{}, nf()
	}
	return getOne[store.User](t, nf, "user", `SELECT data FROM users WHERE id = $1`, id)
}

func (t *tx) PutUser(u store.User) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKey("user id", u.ID); err != nil {
		return t.fail(err)
	}
	data, err := t.encode("user", u)
	if err != nil {
		return err
	}
	// Users carry no access decision: no store.Change.
	return t.exec("writing user", `INSERT INTO users (id, data) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data`, u.ID, data)
}

// TouchUser records that user id was seen at `at` (the contract's touch
// write): a missing user is created; an existing one gets LastSeen = at
// when later, and Email = email when not empty. No store.Change.
func (t *tx) TouchUser(id, email string, at time.Time) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKey("user id", id); err != nil {
		return t.fail(err)
	}
	u, err := t.User(id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		u = store.User{ID: id, Email: email, FirstSeen: at, LastSeen: at}
	case err != nil:
		return err
	default:
		changed := false
		if at.After(u.LastSeen) {
			u.LastSeen, changed = at, true
		}
		if email != "" && email != u.Email {
			u.Email, changed = email, true
		}
		if !changed {
			return nil
		}
	}
	return t.PutUser(u)
}

func (t *tx) Users(cursor string, limit int) ([]store.User, string, error) {
	return page[store.User](t, "users", limit, `SELECT id, data FROM users WHERE id > $1 ORDER BY id LIMIT $2`, cursor)
}

// UsersByID returns the users among ids that exist, keyed by id.
func (t *tx) UsersByID(ids []string) (map[string]store.User, error) {
	return byID[store.User](t, "users", `SELECT id, data FROM users WHERE id = ANY($1)`, ids)
}

// byID reads the records among ids (valid keys only: another can name no
// record) with one `= ANY($1)` query.
func byID[T any](t *tx, what, sql string, ids []string) (map[string]T, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(ids))
	for _, id := range ids {
		if validKey(id) {
			keys = append(keys, id)
		}
	}
	out := make(map[string]T, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := t.ptx.Query(t.ctx, sql, keys)
	if err != nil {
		return nil, t.dbErr("reading "+what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id  string
			raw []byte
			v   T
		)
		if err := rows.Scan(&id, &raw); err != nil {
			return nil, t.dbErr("reading "+what, err)
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, t.fail(fmt.Errorf("pgstore: decoding %s %s: %w", what, quote(id), err))
		}
		out[id] = v
	}
	if err := rows.Err(); err != nil {
		return nil, t.dbErr("reading "+what, err)
	}
	return out, nil
}

// ---- workspaces

func (t *tx) Workspace(id string) (store.Workspace, error) {
	nf := func() error { return notFound("workspace", id) }
	if !validKey(id) {
		if err := t.readable(); err != nil {
			return store.Workspace{}, err
		}
		return store.Workspace{}, nf()
	}
	return getOne[store.Workspace](t, nf, "workspace", `SELECT data FROM workspaces WHERE id = $1`, id)
}

func (t *tx) WorkspaceBySlug(slug string) (store.Workspace, error) {
	nf := func() error { return notFound("workspace slug", slug) }
	if !validKey(slug) {
		if err := t.readable(); err != nil {
			return store.Workspace{}, err
		}
		return store.Workspace{}, nf()
	}
	return getOne[store.Workspace](t, nf, "workspace", `SELECT data FROM workspaces WHERE slug = $1`, slug)
}

func (t *tx) PutWorkspace(w store.Workspace) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKeys("workspace id", w.ID, "workspace slug", w.Slug); err != nil {
		return t.fail(err)
	}
	data, err := t.encode("workspace", w)
	if err != nil {
		return err
	}
	// One read for the checks: the slug's owner, and this workspace's
	// old slug and deletion (for the store.Change's Slugs).
	rows, err := t.ptx.Query(t.ctx, `SELECT id, slug, data->>'deleted_at' IS NOT NULL FROM workspaces WHERE id = $1 OR slug = $2`, w.ID, w.Slug)
	if err != nil {
		return t.dbErr("reading the workspace", err)
	}
	var (
		existed    bool
		oldSlug    string
		oldDeleted bool
		owner      string
	)
	for rows.Next() {
		var id, slug string
		var deleted bool
		if err := rows.Scan(&id, &slug, &deleted); err != nil {
			rows.Close()
			return t.dbErr("reading the workspace", err)
		}
		if id == w.ID {
			existed, oldSlug, oldDeleted = true, slug, deleted
		}
		if slug == w.Slug {
			owner = id
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return t.dbErr("reading the workspace", err)
	}
	if err := t.checkWorkspaceOrg(w); err != nil {
		return err
	}
	if owner != "" && owner != w.ID {
		return t.fail(fmt.Errorf("pgstore: slug %s: %w", quote(w.Slug), store.ErrSlugTaken))
	}
	slugChanged := !existed || oldSlug != w.Slug
	t.ch.workspace(w.ID, slugChanged || oldDeleted != w.Deleted())
	org, project, scope, localOwner := workspaceColumns(w)
	return t.exec("writing workspace", `INSERT INTO workspaces (id, slug, data, organization_id, project_id, scope, owner_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET slug = EXCLUDED.slug, data = EXCLUDED.data, organization_id = EXCLUDED.organization_id,
			project_id = EXCLUDED.project_id, scope = EXCLUDED.scope, owner_id = EXCLUDED.owner_id`,
		w.ID, w.Slug, data, org, project, scope, localOwner)
}

func (t *tx) Workspaces(cursor string, limit int) ([]store.Workspace, string, error) {
	return page[store.Workspace](t, "workspaces", limit, `SELECT id, data FROM workspaces WHERE id > $1 ORDER BY id LIMIT $2`, cursor)
}

// WorkspacesByID is UsersByID for workspaces (deleted ones included).
func (t *tx) WorkspacesByID(ids []string) (map[string]store.Workspace, error) {
	return byID[store.Workspace](t, "workspaces", `SELECT id, data FROM workspaces WHERE id = ANY($1)`, ids)
}

// ---- members

func (t *tx) Member(workspaceID, userID string) (store.Membership, error) {
	nf := func() error { return notFound2("member", workspaceID, userID) }
	if !validKey(workspaceID) || !validKey(userID) {
		if err := t.readable(); err != nil {
			return store.Membership{}, err
		}
		return store.Membership{}, nf()
	}
	return getOne[store.Membership](t, nf, "membership", `SELECT data FROM memberships WHERE workspace_id = $1 AND user_id = $2`, workspaceID, userID)
}

func (t *tx) PutMember(m store.Membership) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKeys("membership workspace id", m.WorkspaceID, "membership user id", m.UserID); err != nil {
		return t.fail(err)
	}
	if err := t.workspaceExists(m.WorkspaceID); err != nil {
		return err
	}
	data, err := t.encode("membership", m)
	if err != nil {
		return err
	}
	t.ch.member(m.WorkspaceID, m.UserID)
	return t.exec("writing membership", `INSERT INTO memberships (workspace_id, user_id, data) VALUES ($1, $2, $3)
		ON CONFLICT (workspace_id, user_id) DO UPDATE SET data = EXCLUDED.data`, m.WorkspaceID, m.UserID, data)
}

func (t *tx) DeleteMember(workspaceID, userID string) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKeys("membership workspace id", workspaceID, "membership user id", userID); err != nil {
		return t.fail(err)
	}
	tag, err := t.ptx.Exec(t.ctx, `DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2`, workspaceID, userID)
	if err != nil {
		return t.dbErr("deleting membership", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound2("member", workspaceID, userID)
	}
	t.ch.member(workspaceID, userID)
	return nil
}

func (t *tx) Members(workspaceID, cursor string, limit int) ([]store.Membership, string, error) {
	if !validKey(workspaceID) {
		if err := t.readable(); err != nil {
			return nil, "", err
		}
		return []store.Membership{}, "", nil
	}
	return page[store.Membership](t, "members", limit, `SELECT user_id, data FROM memberships
		WHERE workspace_id = $1 AND user_id > $2 ORDER BY user_id LIMIT $3`, workspaceID, cursor)
}

func (t *tx) UserMemberships(userID, cursor string, limit int) ([]store.Membership, string, error) {
	if !validKey(userID) {
		if err := t.readable(); err != nil {
			return nil, "", err
		}
		return []store.Membership{}, "", nil
	}
	return page[store.Membership](t, "memberships", limit, `SELECT workspace_id, data FROM memberships
		WHERE user_id = $1 AND workspace_id > $2 ORDER BY workspace_id LIMIT $3`, userID, cursor)
}

// ---- roles

func (t *tx) Role(workspaceID, slug string) (store.Role, error) {
	nf := func() error { return notFound2("role", workspaceID, slug) }
	if !validKey(workspaceID) || !validKey(slug) {
		if err := t.readable(); err != nil {
			return store.Role{}, err
		}
		return store.Role{}, nf()
	}
	return getOne[store.Role](t, nf, "role", `SELECT data FROM roles WHERE workspace_id = $1 AND slug = $2`, workspaceID, slug)
}

func (t *tx) PutRole(r store.Role) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKeys("role workspace id", r.WorkspaceID, "role slug", r.Slug); err != nil {
		return t.fail(err)
	}
	if err := t.workspaceExists(r.WorkspaceID); err != nil {
		return err
	}
	data, err := t.encode("role", r)
	if err != nil {
		return err
	}
	t.ch.workspace(r.WorkspaceID, false)
	return t.exec("writing role", `INSERT INTO roles (workspace_id, slug, data) VALUES ($1, $2, $3)
		ON CONFLICT (workspace_id, slug) DO UPDATE SET data = EXCLUDED.data`, r.WorkspaceID, r.Slug, data)
}

func (t *tx) DeleteRole(workspaceID, slug string) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKeys("role workspace id", workspaceID, "role slug", slug); err != nil {
		return t.fail(err)
	}
	tag, err := t.ptx.Exec(t.ctx, `DELETE FROM roles WHERE workspace_id = $1 AND slug = $2`, workspaceID, slug)
	if err != nil {
		return t.dbErr("deleting role", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound2("role", workspaceID, slug)
	}
	t.ch.workspace(workspaceID, false)
	return nil
}

func (t *tx) Roles(workspaceID string) ([]store.Role, error) {
	if !validKey(workspaceID) {
		if err := t.readable(); err != nil {
			return nil, err
		}
		return []store.Role{}, nil
	}
	items, _, err := page[store.Role](t, "roles", 0, `SELECT slug, data FROM roles WHERE workspace_id = $1 ORDER BY slug LIMIT $2`, workspaceID)
	return items, err
}

// ---- signing keys

func (t *tx) SigningKeys() ([]store.SigningKey, error) {
	items, _, err := page[store.SigningKey](t, "signing keys", 0, `SELECT id, data FROM signing_keys ORDER BY id LIMIT $1`)
	if err == nil && len(items) == 0 {
		items = nil // as boltstore: no keys is a nil list
	}
	return items, err
}

// PutSigningKey implements store.Tx. Two replicas that each find no key
// and create one ("list, none, put") cannot both commit: SERIALIZABLE
// fails one, whose retry then finds the other's key.
func (t *tx) PutSigningKey(k store.SigningKey) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKey("signing key id", k.ID); err != nil {
		return t.fail(err)
	}
	data, err := t.encode("signing key", k)
	if err != nil {
		return err
	}
	return t.exec("writing signing key", `INSERT INTO signing_keys (id, data) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data`, k.ID, data)
}
