package model

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/ident"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// LocalWorkspaceName is the name every LOCAL workspace is created with
// (the owner may rename it through the API like any workspace).
const LocalWorkspaceName = "Personal"

// localSlugPrefix starts the slug of a LOCAL workspace: "u-" and a short
// hash of the owner's id. No reserved word starts so, and the hash says
// nothing readable about the user (an id may be an email address).
const localSlugPrefix = "u-"

// LocalSlug is the slug a LOCAL workspace of userID is tried with on
// attempt 0, 1, ...: the first 12 hex digits of SHA-256(userID), then 4
// more per attempt, so two gateways derive the same candidates. Past
// the hash's length (never in practice: it takes 13 squatted slugs) a
// random suffix takes over.
func LocalSlug(userID string, attempt int) string {
	sum := sha256.Sum256([]byte(userID))
	digits := hex.EncodeToString(sum[:])
	n := 12 + 4*attempt
	if n > len(digits)-1 {
		return localSlugPrefix + digits[:12] + "-" + ident.New("")[:8]
	}
	return localSlugPrefix + digits[:n]
}

// localSlugAttempts bounds the search for a free local slug.
const localSlugAttempts = 16

// EnsureLocalWorkspace returns userID's LOCAL workspace, creating it in
// tx when the user has none (spec §11, `local_workspaces on`): scope
// local, owned by userID (OwnerID), named LocalWorkspaceName, slug
// LocalSlug, the user recorded (EnsureUser) and an explicit member with
// the creator role, and a workspace.create audit event by the user.
//
// The check for an existing one runs in the same write transaction as
// the creation, and the store refuses a second local workspace of one
// owner (ErrInvalid), so concurrent first requests, on one gateway or on
// several sharing a PostgreSQL, create exactly one: a losing
// serializable transaction is retried (store Retrying) and then finds the
// winner's. A deleted local workspace is returned as it is, not replaced:
// its restore is a global admin's decision; once purged, the next call
// creates a new one. created is true when this call made it.
func (m *Model) EnsureLocalWorkspace(tx store.Tx, userID, email string, now time.Time) (ws store.Workspace, created bool, err error) {
	ws, err = tx.LocalWorkspace(userID)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return ws, false, err
	}
	ws = store.Workspace{
		ID:        ident.NewWorkspaceID(),
		Name:      LocalWorkspaceName,
		Scope:     store.ScopeLocal,
		OwnerID:   userID,
		CreatedAt: now,
		UpdatedAt: now,
	}
	if ws.Slug, err = freeLocalSlug(tx, userID); err != nil {
		return store.Workspace{}, false, err
	}
	if err := tx.PutWorkspace(ws); err != nil {
		return store.Workspace{}, false, err
	}
	if err := EnsureUser(tx, userID, email, now); err != nil {
		return store.Workspace{}, false, err
	}
	roles := []string{m.creatorRole}
	if err := tx.PutMember(store.Membership{WorkspaceID: ws.ID, UserID: userID, Roles: roles, JoinedAt: now, UpdatedAt: now}); err != nil {
		return store.Workspace{}, false, err
	}
	summary, _ := json.Marshal(map[string]any{"after": map[string]any{
		"name": ws.Name, "slug": ws.Slug, "scope": store.ScopeLocal, "owner": userID, "owner_roles": roles}})
	_, err = tx.AppendAudit(store.AuditEvent{WorkspaceID: ws.ID, Actor: userID, Action: "workspace.create",
		Target: "workspace:" + ws.ID, Time: now, Summary: summary})
	if err != nil {
		return store.Workspace{}, false, err
	}
	return ws, true, nil
}

// freeLocalSlug finds the first LocalSlug candidate no workspace holds.
// It looks before writing: a PutWorkspace refused with ErrSlugTaken
// would doom the transaction.
func freeLocalSlug(tx store.Tx, userID string) (string, error) {
	for attempt := range localSlugAttempts {
		slug := LocalSlug(userID, attempt)
		if ident.ValidateSlug(slug) != nil {
			continue
		}
		taken, err := SlugTaken(tx, slug, "")
		if err != nil {
			return "", err
		}
		if !taken {
			return slug, nil
		}
	}
	return "", errors.New("no free slug for the local workspace")
}
