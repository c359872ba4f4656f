package admin

import (
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/ident"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// NewWorkspace describes a workspace to create.
type NewWorkspace struct {
	Name        string
	Slug        string // optional: derived from Name when empty
	Description string
	// Owner becomes the first member, with OwnerRoles.
	Owner      string
	OwnerEmail string
	OwnerRoles []string
}

// slugAttempts bounds the search for a free derived slug.
const slugAttempts = 8

// CreateWorkspace creates a workspace and its first member inside tx. An
// explicit slug must be valid and free (store.ErrSlugTaken otherwise); a
// derived one gets a random suffix when the plain form is taken, reserved
// or too short.
func CreateWorkspace(tx store.Tx, nw NewWorkspace, now time.Time) (store.Workspace, error) {
	ws := store.Workspace{
		ID:          ident.NewWorkspaceID(),
		Name:        nw.Name,
		Description: nw.Description,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	if err := putWithSlug(tx, &ws, nw.Slug); err != nil {
		return store.Workspace{}, err
	}
	if err := ensureUser(tx, nw.Owner, nw.OwnerEmail, now); err != nil {
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
	return ws, nil
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
		err := tx.PutWorkspace(*ws)
		if !errors.Is(err, store.ErrSlugTaken) {
			return err
		}
	}
	return fmt.Errorf("no free slug derived from %q: choose a slug explicitly", ws.Name)
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

// ensureUser records a user if unknown, so a creator or an invited member
// is a known user id before their first request through the gateway.
func ensureUser(tx store.Tx, id, email string, now time.Time) error {
	u, err := tx.User(id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		u = store.User{ID: id, Email: email, FirstSeen: now, LastSeen: now}
	case err != nil:
		return err
	case email != "":
		u.Email = email
	default:
		return nil
	}
	return tx.PutUser(u)
}
