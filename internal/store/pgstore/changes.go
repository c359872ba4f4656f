package pgstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// changes collects what a write transaction changed, deduplicated, in
// boltstore's order (changes.go there): workspaces first (Slugs OR-ed
// over the transaction), then members, then API keys, then the
// organization-level kinds (store.OrgChanges), each in first-change order. A nil *changes records nothing (a View).
type changes struct {
	workspaces []store.Change
	wsIndex    map[string]int
	members    []store.Change
	memberSeen map[[2]string]struct{}
	apiKeys    []store.Change
	apiKeySeen map[[2]string]struct{}
	// org holds the organization-level changes, after the others.
	org store.OrgChanges
}

// orgs is where the organization-level changes go; nil (recording
// nothing) in a View.
func (c *changes) orgs() *store.OrgChanges {
	if c == nil {
		return nil
	}
	return &c.org
}

func (c *changes) workspace(id string, slugs bool) {
	if c == nil {
		return
	}
	if i, ok := c.wsIndex[id]; ok {
		c.workspaces[i].Slugs = c.workspaces[i].Slugs || slugs
		return
	}
	if c.wsIndex == nil {
		c.wsIndex = make(map[string]int)
	}
	c.wsIndex[id] = len(c.workspaces)
	c.workspaces = append(c.workspaces, store.Change{Kind: store.ChangeWorkspace, WorkspaceID: id, Slugs: slugs})
}

func (c *changes) member(workspaceID, userID string) {
	if c == nil {
		return
	}
	k := [2]string{workspaceID, userID}
	if _, ok := c.memberSeen[k]; ok {
		return
	}
	if c.memberSeen == nil {
		c.memberSeen = make(map[[2]string]struct{})
	}
	c.memberSeen[k] = struct{}{}
	c.members = append(c.members, store.Change{Kind: store.ChangeMember, WorkspaceID: workspaceID, UserID: userID})
}

func (c *changes) apiKey(workspaceID, keyID string) {
	if c == nil {
		return
	}
	k := [2]string{workspaceID, keyID}
	if _, ok := c.apiKeySeen[k]; ok {
		return
	}
	if c.apiKeySeen == nil {
		c.apiKeySeen = make(map[[2]string]struct{})
	}
	c.apiKeySeen[k] = struct{}{}
	c.apiKeys = append(c.apiKeys, store.Change{Kind: store.ChangeAPIKey, WorkspaceID: workspaceID, KeyID: keyID})
}

// list is the store.Commit's Changes.
func (c *changes) list() []store.Change {
	if c == nil {
		return nil
	}
	out := make([]store.Change, 0, len(c.workspaces)+len(c.members)+len(c.apiKeys)+c.org.Len())
	out = append(out, c.workspaces...)
	out = append(out, c.members...)
	out = append(out, c.apiKeys...)
	return c.org.AppendTo(out)
}

// Changes implements the contract's Store.Changes: the commits with
// revision > since, oldest first, at most limit (<= 0: DefaultChangesLimit;
// at most 10,000). It reads the change log, in one REPEATABLE READ READ
// ONLY transaction so that the oldest retained revision and the rows agree,
// so it sees every process's commits. A since older than the retained log
// is a *store.ChangesTruncatedError. Revision rises to the last commit read.
func (s *Store) Changes(ctx context.Context, since uint64, limit int) ([]store.Commit, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if limit <= 0 {
		limit = DefaultChangesLimit
	}
	limit = min(limit, maxChangesLimit)
	var out []store.Commit
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(ptx pgx.Tx) error {
		var oldest, latest *int64
		if err := ptx.QueryRow(ctx, `SELECT min(revision), max(revision) FROM changes`).Scan(&oldest, &latest); err != nil {
			return err
		}
		// The oldest retained commit must directly follow since: the
		// commits in between are gone. (An empty log is a new store:
		// nothing was ever pruned.)
		if oldest != nil && since+1 < uint64(*oldest) {
			return &store.ChangesTruncatedError{Since: since, Oldest: uint64(*oldest)}
		}
		rows, err := ptx.Query(ctx, `SELECT revision, changes FROM changes WHERE revision > $1 ORDER BY revision LIMIT $2`, int64(since), limit)
		if err != nil {
			return err
		}
		out = make([]store.Commit, 0, min(limit, 64))
		for rows.Next() {
			var (
				rev int64
				raw []byte
			)
			if err := rows.Scan(&rev, &raw); err != nil {
				return err
			}
			c := store.Commit{Revision: uint64(rev)}
			if err := json.Unmarshal(raw, &c.Changes); err != nil {
				return fmt.Errorf("decoding the changes of revision %d: %w", rev, err)
			}
			if len(c.Changes) == 0 {
				c.Changes = nil
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		if _, ok := err.(*store.ChangesTruncatedError); ok {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("pgstore: reading changes: %w", err)
	}
	if n := len(out); n > 0 {
		s.seeRevision(out[n-1].Revision)
	}
	return out, nil
}
