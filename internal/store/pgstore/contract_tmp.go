package pgstore

// The change-feed types of the store contract (part A), copied here
// verbatim until h-feed's version of package store is merged: at merge this
// file is deleted and the code points at package store's types.

import (
	"errors"
	"fmt"
)

// ChangeKind says what a Change is about.
type ChangeKind uint8

const (
	// ChangeWorkspace: the workspace record (name, slug, deletion, purge) or one of its
	// custom roles changed.
	ChangeWorkspace ChangeKind = 1
	// ChangeMember: the membership of UserID in WorkspaceID was created, replaced or removed.
	ChangeMember ChangeKind = 2
	// ChangeAPIKey: API key KeyID of WorkspaceID was created or replaced (revoked, for one).
	ChangeAPIKey ChangeKind = 3
)

// Change is one change, made by a commit, that can alter an access decision.
type Change struct {
	Kind        ChangeKind `json:"kind"`
	WorkspaceID string     `json:"workspace_id"`
	UserID      string     `json:"user_id,omitempty"` // ChangeMember
	KeyID       string     `json:"key_id,omitempty"`  // ChangeAPIKey
	// Slugs (ChangeWorkspace): the slug → workspace mapping changed (create, slug
	// edit, delete, restore, purge).
	Slugs bool `json:"slugs,omitempty"`
}

// Commit is what one committed Update changed.
type Commit struct {
	Revision uint64 `json:"revision"`
	// Changes are deduplicated (a workspace's Slugs OR-ed over the commit), workspaces
	// first, then members, then API keys, each in first-change order. Empty for a
	// commit that changed nothing a decision depends on (users, invites, audit, signing
	// keys, touch writes).
	Changes []Change `json:"changes,omitempty"`
}

// ErrChangesTruncated: the change log no longer holds the commits after the requested
// revision (retention). errors.As gives a *ChangesTruncatedError.
var ErrChangesTruncated = errors.New("the change log no longer holds the requested revisions")

// ChangesTruncatedError is the error of Changes for a since older than the
// retained log.
type ChangesTruncatedError struct{ Since, Oldest uint64 } // Oldest: revision of the oldest retained commit

func (e *ChangesTruncatedError) Error() string {
	return fmt.Sprintf("changes since revision %d: %v (the oldest retained commit is revision %d)", e.Since, ErrChangesTruncated, e.Oldest)
}

// Is reports whether target is ErrChangesTruncated.
func (e *ChangesTruncatedError) Is(target error) bool { return target == ErrChangesTruncated }
