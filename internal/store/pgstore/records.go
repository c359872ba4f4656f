package pgstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-authz/gatehouse/internal/ident"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// ---- invites
//
// Keyed by id (the accept path knows no workspace), with a unique token
// hash and the workspace and email indexes as columns. Invites carry no
// access decision: no store.Change.

func (t *tx) Invite(id string) (store.Invite, error) {
	nf := func() error { return notFound("invite", id) }
	if !validKey(id) {
		if err := t.readable(); err != nil {
			return store.Invite{}, err
		}
		return store.Invite{}, nf()
	}
	return getOne[store.Invite](t, nf, "invite", `SELECT data FROM invites WHERE id = $1`, id)
}

func (t *tx) InviteByTokenHash(hash string) (store.Invite, error) {
	// The hash is not echoed into the error: it identifies a secret.
	nf := func() error { return fmt.Errorf("pgstore: invite token: %w", store.ErrNotFound) }
	if !validKey(hash) {
		if err := t.readable(); err != nil {
			return store.Invite{}, err
		}
		return store.Invite{}, nf()
	}
	return getOne[store.Invite](t, nf, "invite", `SELECT data FROM invites WHERE token_hash = $1`, hash)
}

func (t *tx) PutInvite(inv store.Invite) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKeys("invite id", inv.ID, "invite workspace id", inv.WorkspaceID, "invite email", inv.Email); err != nil {
		return t.fail(err)
	}
	if ident.LowerASCII(inv.Email) != inv.Email {
		// InvitesForEmail looks up the lower-case form only.
		return t.fail(fmt.Errorf("pgstore: invite email must be lower-case: %w", store.ErrInvalid))
	}
	if err := checkKey("invite token hash", inv.TokenHash); err != nil {
		return t.fail(err)
	}
	if err := t.workspaceExists(inv.WorkspaceID); err != nil {
		return err
	}
	data, err := t.encode("invite", inv)
	if err != nil {
		return err
	}
	var owner string
	switch err := t.ptx.QueryRow(t.ctx, `SELECT id FROM invites WHERE token_hash = $1`, inv.TokenHash).Scan(&owner); {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return t.dbErr("checking the invite token hash", err)
	case owner != inv.ID:
		return t.fail(fmt.Errorf("pgstore: invite %s: its token hash is already used by invite %s: %w", quote(inv.ID), quote(owner), store.ErrInvalid))
	}
	return t.exec("writing invite", `INSERT INTO invites (id, workspace_id, email, token_hash, data) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET workspace_id = EXCLUDED.workspace_id, email = EXCLUDED.email,
			token_hash = EXCLUDED.token_hash, data = EXCLUDED.data`, inv.ID, inv.WorkspaceID, inv.Email, inv.TokenHash, data)
}

func (t *tx) Invites(workspaceID, cursor string, limit int) ([]store.Invite, string, error) {
	if !validKey(workspaceID) {
		if err := t.readable(); err != nil {
			return nil, "", err
		}
		return []store.Invite{}, "", nil
	}
	return page[store.Invite](t, "invites", limit, `SELECT id, data FROM invites
		WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3`, workspaceID, cursor)
}

func (t *tx) InvitesForEmail(email string) ([]store.Invite, error) {
	if !validKey(email) {
		if err := t.readable(); err != nil {
			return nil, err
		}
		return []store.Invite{}, nil
	}
	items, _, err := page[store.Invite](t, "invites", 0, `SELECT id, data FROM invites WHERE email = $1 ORDER BY id LIMIT $2`, email)
	return items, err
}

// ---- API keys
//
// Keyed by id (a presented key names no workspace), with the workspace as
// an indexed column. PutAPIKey records a store.Change (permissions and
// revocation are access decisions); TouchAPIKey records none.

func (t *tx) APIKey(id string) (store.APIKey, error) {
	nf := func() error { return notFound("API key", id) }
	if !validKey(id) {
		if err := t.readable(); err != nil {
			return store.APIKey{}, err
		}
		return store.APIKey{}, nf()
	}
	return getOne[store.APIKey](t, nf, "API key", `SELECT data FROM api_keys WHERE id = $1`, id)
}

func (t *tx) PutAPIKey(k store.APIKey) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKeys("API key id", k.ID, "API key workspace id", k.WorkspaceID, "API key secret hash", k.SecretHash); err != nil {
		return t.fail(err)
	}
	if err := t.workspaceExists(k.WorkspaceID); err != nil {
		return err
	}
	data, err := t.encode("API key", k)
	if err != nil {
		return err
	}
	var oldWS string
	switch err := t.ptx.QueryRow(t.ctx, `SELECT workspace_id FROM api_keys WHERE id = $1`, k.ID).Scan(&oldWS); {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return t.dbErr("reading the API key", err)
	case oldWS != k.WorkspaceID:
		// The key leaves its workspace: its old workspace's caches
		// must drop it too (an extra invalidation is harmless).
		t.ch.apiKey(oldWS, k.ID)
	}
	t.ch.apiKey(k.WorkspaceID, k.ID)
	return t.exec("writing API key", `INSERT INTO api_keys (id, workspace_id, data) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET workspace_id = EXCLUDED.workspace_id, data = EXCLUDED.data`, k.ID, k.WorkspaceID, data)
}

// TouchAPIKey implements store.Tx: only LastUsedAt, only forward, no
// store.Change. An id that cannot be a key is not found, like by APIKey.
func (t *tx) TouchAPIKey(id string, at time.Time) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	k, err := t.APIKey(id)
	if err != nil {
		return err
	}
	if k.LastUsedAt != nil && !at.After(*k.LastUsedAt) {
		return nil // not later: nothing to write
	}
	k.LastUsedAt = &at
	data, err := t.encode("API key", k)
	if err != nil {
		return err
	}
	return t.exec("writing API key", `UPDATE api_keys SET data = $2 WHERE id = $1`, id, data)
}

func (t *tx) APIKeys(workspaceID, cursor string, limit int) ([]store.APIKey, string, error) {
	if !validKey(workspaceID) {
		if err := t.readable(); err != nil {
			return nil, "", err
		}
		return []store.APIKey{}, "", nil
	}
	return page[store.APIKey](t, "API keys", limit, `SELECT id, data FROM api_keys
		WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3`, workspaceID, cursor)
}

// ---- purge

// PurgeWorkspace implements store.Tx with an existence check and one
// statement: data-modifying CTEs delete the workspace's memberships, roles, invites, API keys,
// audit events and the record (its slug goes with it) and return what the
// Changes and the counts need.
func (t *tx) PurgeWorkspace(id string) (store.Purged, error) {
	var p store.Purged
	if err := t.writableErr(); err != nil {
		return p, err
	}
	if err := checkKey("workspace id", id); err != nil {
		return p, t.fail(err)
	}
	// Checked first: the tombstones of an earlier purge of this id are
	// audit events of a missing workspace, and must survive this call.
	if err := t.workspaceExists(id); err != nil {
		return p, err
	}
	var (
		users, keys         []string
		roles, invs, events int
	)
	err := t.ptx.QueryRow(t.ctx, `WITH
		w AS (DELETE FROM workspaces WHERE id = $1 RETURNING id),
		m AS (DELETE FROM memberships WHERE workspace_id = $1 RETURNING user_id),
		r AS (DELETE FROM roles WHERE workspace_id = $1 RETURNING 1),
		i AS (DELETE FROM invites WHERE workspace_id = $1 RETURNING 1),
		k AS (DELETE FROM api_keys WHERE workspace_id = $1 RETURNING id),
		a AS (DELETE FROM audit_events WHERE workspace_id = $1 RETURNING 1)
		SELECT (SELECT count(*) FROM w),
			coalesce((SELECT array_agg(user_id ORDER BY user_id) FROM m), '{}'),
			(SELECT count(*) FROM r), (SELECT count(*) FROM i),
			coalesce((SELECT array_agg(id ORDER BY id) FROM k), '{}'),
			(SELECT count(*) FROM a)`, id).Scan(nil, &users, &roles, &invs, &keys, &events)
	if err != nil {
		return p, t.dbErr("purging workspace", err)
	}
	for _, u := range users {
		t.ch.member(id, u)
	}
	for _, k := range keys {
		t.ch.apiKey(id, k)
	}
	t.ch.workspace(id, true)
	return store.Purged{Members: len(users), Roles: roles, Invites: invs, APIKeys: len(keys), AuditEvents: events}, nil
}
