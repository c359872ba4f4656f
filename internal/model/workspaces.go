package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/ident"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// ActorCLI is the audit actor of changes made with the gatehouse command.
const ActorCLI = "cli"

// NewWorkspace describes a workspace to create.
type NewWorkspace struct {
	Name        string
	Slug        string // optional: derived from Name when empty
	Description string
	// Owner becomes the first member, with OwnerRoles.
	Owner      string
	OwnerEmail string
	OwnerRoles []string
	// Actor is recorded in the audit log: a user id, or ActorCLI.
	Actor string
	// OrganizationID, ProjectID and Scope place the workspace (spec §11);
	// all "" for a private workspace outside any organization. The store
	// checks them (store.CheckWorkspaceScope, the organization and the
	// project exist); who may place a workspace where is the caller's
	// business.
	OrganizationID string
	ProjectID      string
	Scope          store.Scope
}

// slugAttempts bounds the search for a free derived slug.
const slugAttempts = 8

// CreateWorkspace creates a workspace, its first member and the audit
// event inside tx. An explicit slug must be valid and free
// (store.ErrSlugTaken otherwise); a derived one gets a random suffix when
// the plain form is taken, reserved or too short. Invalid text is a
// *FieldError.
func CreateWorkspace(tx store.Tx, nw NewWorkspace, now time.Time) (store.Workspace, error) {
	// The API validates before it gets here; the CLI relies on this.
	if err := CheckText("name", nw.Name, MaxNameLen, true); err != nil {
		return store.Workspace{}, err
	}
	if err := CheckText("description", nw.Description, MaxDescriptionLen, false); err != nil {
		return store.Workspace{}, err
	}
	ws := store.Workspace{
		ID:             ident.NewWorkspaceID(),
		Name:           nw.Name,
		Description:    nw.Description,
		CreatedAt:      now,
		UpdatedAt:      now,
		OrganizationID: nw.OrganizationID,
		ProjectID:      nw.ProjectID,
		Scope:          nw.Scope,
	}
	if err := putWithSlug(tx, &ws, nw.Slug); err != nil {
		return store.Workspace{}, err
	}
	if err := EnsureUser(tx, nw.Owner, nw.OwnerEmail, now); err != nil {
		return store.Workspace{}, err
	}
	m := store.Membership{
		WorkspaceID: ws.ID,
		UserID:      nw.Owner,
		Roles:       nw.OwnerRoles,
		JoinedAt:    now,
		UpdatedAt:   now,
	}
	if err := tx.PutMember(m); err != nil {
		return store.Workspace{}, err
	}
	after := map[string]any{"name": ws.Name, "slug": ws.Slug, "owner": nw.Owner, "owner_roles": nw.OwnerRoles}
	if ws.OrganizationID != "" {
		after["organization_id"], after["project_id"], after["scope"] = ws.OrganizationID, ws.ProjectID, ws.EffectiveScope()
	}
	summary, _ := json.Marshal(map[string]any{"after": after})
	_, err := tx.AppendAudit(store.AuditEvent{WorkspaceID: ws.ID, Actor: nw.Actor, Action: "workspace.create",
		Target: "workspace:" + ws.ID, Time: now, Summary: summary})
	return ws, err
}

func putWithSlug(tx store.Tx, ws *store.Workspace, explicit string) error {
	if explicit != "" {
		if err := ident.ValidateSlug(explicit); err != nil {
			return err
		}
		ws.Slug = explicit
		return tx.PutWorkspace(*ws)
	}
	base := ident.Slugify(ws.Name)
	for attempt := 0; attempt < slugAttempts; attempt++ {
		ws.Slug = candidateSlug(base, attempt)
		if ident.ValidateSlug(ws.Slug) != nil {
			continue
		}
		// Look before writing: a PutWorkspace refused with ErrSlugTaken
		// would doom the transaction (store "Transactions"), so the next
		// candidate could never be tried.
		taken, err := SlugTaken(tx, ws.Slug, ws.ID)
		if err != nil {
			return err
		}
		if !taken {
			return tx.PutWorkspace(*ws)
		}
	}
	return fmt.Errorf("no free slug derived from %q: choose a slug explicitly", ws.Name)
}

// SlugTaken reports whether a workspace other than id holds slug (deleted
// workspaces keep theirs). Check before writing: a PutWorkspace refused
// with store.ErrSlugTaken dooms the transaction.
func SlugTaken(tx store.Tx, slug, id string) (bool, error) {
	w, err := tx.WorkspaceBySlug(slug)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return w.ID != id, nil
}

// candidateSlug is base itself first, then base with a random suffix.
func candidateSlug(base string, attempt int) string {
	if attempt == 0 && base != "" {
		return base
	}
	suffix := ident.New("")[:6]
	if base == "" {
		return "ws-" + suffix
	}
	return base + "-" + suffix
}

// EnsureUser records a user if unknown (and a changed email if known), so
// a creator or an invited member is a known user id before their first
// request through the gateway.
func EnsureUser(tx store.Tx, id, email string, now time.Time) error {
	u, err := tx.User(id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		u = store.User{ID: id, Email: email, FirstSeen: now, LastSeen: now}
	case err != nil:
		return err
	case email != "" && email != u.Email:
		u.Email = email
	default:
		return nil
	}
	return tx.PutUser(u)
}
