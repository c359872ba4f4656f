package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/ident"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// NewOrganization describes an organization to create.
type NewOrganization struct {
	Name string
	Slug string // optional: derived from Name when empty
	// Owner becomes the first member, with OwnerRoles (organization
	// roles).
	Owner      string
	OwnerEmail string
	OwnerRoles []string
	// Actor is recorded in the audit log: a user id, or ActorCLI.
	Actor string
}

// CreateOrganization creates an organization (no plan stored: it has
// DefaultPlan), its first member and the audit event inside tx. The
// event's WorkspaceID is the organization's id: organization events are
// listed with the organization (ids never collide, see ident). An
// explicit slug must be valid and free among organizations
// (store.ErrSlugTaken otherwise); a derived one gets a random suffix when
// the plain form is taken, reserved or too short.
func CreateOrganization(tx store.Tx, no NewOrganization, now time.Time) (store.Organization, error) {
	if err := CheckText("name", no.Name, MaxNameLen, true); err != nil {
		return store.Organization{}, err
	}
	org := store.Organization{ID: ident.NewOrganizationID(), Name: no.Name, CreatedAt: now, UpdatedAt: now}
	if err := putOrgWithSlug(tx, &org, no.Slug); err != nil {
		return store.Organization{}, err
	}
	if err := EnsureUser(tx, no.Owner, no.OwnerEmail, now); err != nil {
		return store.Organization{}, err
	}
	if err := tx.PutOrgMember(store.OrgMember{OrganizationID: org.ID, UserID: no.Owner, Roles: no.OwnerRoles,
		JoinedAt: now, UpdatedAt: now}); err != nil {
		return store.Organization{}, err
	}
	summary, _ := json.Marshal(map[string]any{"after": map[string]any{
		"name": org.Name, "slug": org.Slug, "owner": no.Owner, "owner_roles": no.OwnerRoles}})
	_, err := tx.AppendAudit(store.AuditEvent{WorkspaceID: org.ID, Actor: no.Actor, Action: "organization.create",
		Target: "organization:" + org.ID, Time: now, Summary: summary})
	return org, err
}

func putOrgWithSlug(tx store.Tx, org *store.Organization, explicit string) error {
	if explicit != "" {
		if err := ident.ValidateSlug(explicit); err != nil {
			return err
		}
		org.Slug = explicit
		return tx.PutOrganization(*org)
	}
	base := ident.Slugify(org.Name)
	for attempt := 0; attempt < slugAttempts; attempt++ {
		org.Slug = base
		if attempt > 0 || base == "" {
			org.Slug = orgSlugCandidate(base)
		}
		if ident.ValidateSlug(org.Slug) != nil {
			continue
		}
		// Look before writing: a refused PutOrganization dooms the
		// transaction (store "Transactions").
		taken, err := OrgSlugTaken(tx, org.Slug, org.ID)
		if err != nil {
			return err
		}
		if !taken {
			return tx.PutOrganization(*org)
		}
	}
	return fmt.Errorf("no free slug derived from %q: choose a slug explicitly", org.Name)
}

func orgSlugCandidate(base string) string {
	suffix := ident.New("")[:6]
	if base == "" {
		return "org-" + suffix
	}
	return base + "-" + suffix
}

// OrgSlugTaken reports whether an organization other than id holds slug
// (deleted organizations keep theirs). Check before writing: a
// PutOrganization refused with store.ErrSlugTaken dooms the transaction.
func OrgSlugTaken(tx store.Tx, slug, id string) (bool, error) {
	o, err := tx.OrganizationBySlug(slug)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return o.ID != id, nil
}
