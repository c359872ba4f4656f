package boltstore

import (
	"encoding/json"
	"fmt"

	"github.com/gatehouse-authz/gatehouse/internal/ident"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// ---- invites
//
// The record lives under its id (invites); three index buckets point at it:
// invite_ws (wsID \x00 id), invite_tokens (tokenHash → id, unique) and
// invite_emails (email \x00 id). Index values carry nothing the key does
// not, except invite_tokens, whose key is a hash.
//
// Invites carry no access decision (accepting one writes a membership,
// which notifies): no change notification here.

func (t *tx) Invite(id string) (store.Invite, error) {
	var inv store.Invite
	if err := t.readable(); err != nil {
		return inv, err
	}
	if !validKey(id) {
		return inv, notFound("invite", id)
	}
	k := t.scratch1(id)
	v := t.invitesB().Get(k)
	if v == nil {
		return inv, notFound("invite", id)
	}
	err := unmarshal(v, &inv, bucketInvites, k)
	return inv, err
}

func (t *tx) InviteByTokenHash(hash string) (store.Invite, error) {
	var inv store.Invite
	if err := t.readable(); err != nil {
		return inv, err
	}
	// The hash is not echoed into the error: it identifies a secret.
	if !validKey(hash) {
		return inv, fmt.Errorf("boltstore: invite token: %w", store.ErrNotFound)
	}
	id := t.inviteTokB().Get(t.scratch1(hash))
	if id == nil {
		return inv, fmt.Errorf("boltstore: invite token: %w", store.ErrNotFound)
	}
	v := t.invitesB().Get(id)
	if v == nil {
		return inv, fmt.Errorf("boltstore: index invite_tokens entry for invite %q points to a missing record", id)
	}
	err := unmarshal(v, &inv, bucketInvites, id)
	return inv, err
}

func (t *tx) PutInvite(inv store.Invite) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKey("invite id", inv.ID); err != nil {
		return err
	}
	if err := checkKey("invite workspace id", inv.WorkspaceID); err != nil {
		return err
	}
	if err := checkKey("invite email", inv.Email); err != nil {
		return err
	}
	if ident.LowerASCII(inv.Email) != inv.Email {
		// InvitesForEmail looks up the lower-case form only (ASCII
		// lower-casing: see ident.LowerASCII).
		return fmt.Errorf("boltstore: invite email must be lower-case: %w", store.ErrInvalid)
	}
	if err := checkKey("invite token hash", inv.TokenHash); err != nil {
		return err
	}
	if t.workspacesB().Get(t.scratch1(inv.WorkspaceID)) == nil {
		return notFound("workspace", inv.WorkspaceID)
	}
	data, err := json.Marshal(inv)
	if err != nil {
		return fmt.Errorf("boltstore: encoding invite: %w", err)
	}
	invB, wsB, tokB, mailB := t.invitesB(), t.inviteWSB(), t.inviteTokB(), t.inviteMailB()

	// Every check comes before the first write (see PutWorkspace).
	if owner := tokB.Get(t.scratch1(inv.TokenHash)); owner != nil && string(owner) != inv.ID {
		return fmt.Errorf("boltstore: invite %s: its token hash is already used by invite %s: %w", quote(inv.ID), quote(string(owner)), store.ErrInvalid)
	}
	var old struct {
		WorkspaceID string `json:"workspace_id"`
		Email       string `json:"email"`
		TokenHash   string `json:"token_hash"`
	}
	if v := invB.Get(t.scratch1(inv.ID)); v != nil {
		if err := unmarshal(v, &old, bucketInvites, t.key); err != nil {
			return err
		}
		// Move the index entries whose field changed. old holds copies,
		// so the writes below cannot disturb it.
		if old.TokenHash != inv.TokenHash {
			if owner := tokB.Get(t.scratch1(old.TokenHash)); owner != nil && string(owner) == inv.ID {
				if err := tokB.Delete(t.key); err != nil {
					return err
				}
			}
		}
		if old.Email != inv.Email {
			if err := mailB.Delete(t.scratch2(old.Email, inv.ID)); err != nil {
				return err
			}
		}
		if old.WorkspaceID != inv.WorkspaceID {
			if err := wsB.Delete(t.scratch2(old.WorkspaceID, inv.ID)); err != nil {
				return err
			}
		}
	}
	if err := tokB.Put([]byte(inv.TokenHash), []byte(inv.ID)); err != nil {
		return err
	}
	if err := mailB.Put(key2(inv.Email, inv.ID), []byte{}); err != nil {
		return err
	}
	if err := wsB.Put(key2(inv.WorkspaceID, inv.ID), []byte{}); err != nil {
		return err
	}
	return invB.Put([]byte(inv.ID), data)
}

func (t *tx) Invites(workspaceID, cursor string, limit int) ([]store.Invite, string, error) {
	if err := t.readable(); err != nil {
		return nil, "", err
	}
	if !validKey(workspaceID) {
		return []store.Invite{}, "", nil
	}
	return records(viaIndex(t.invitesB(), "invite_ws"), t.inviteWSB(), bucketInvites, prefix1(workspaceID), cursor, limit, decodeJSON[store.Invite])
}

func (t *tx) InvitesForEmail(email string) ([]store.Invite, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	if !validKey(email) {
		return []store.Invite{}, nil
	}
	items, _, err := records(viaIndex(t.invitesB(), "invite_emails"), t.inviteMailB(), bucketInvites, prefix1(email), "", 0, decodeJSON[store.Invite])
	return items, err
}
