package boltstore

import (
	"go.etcd.io/bbolt"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// ---- purge
//
// PurgeWorkspace walks every bucket keyed or indexed by the workspace and
// deletes what it finds there, with each index entry that points at it,
// in the caller's transaction: either all of it goes or none. Keys are
// collected before deleting, because deleting under a bbolt cursor skips
// keys.

func (t *tx) PurgeWorkspace(id string) (store.Purged, error) {
	var p store.Purged
	if err := t.writableErr(); err != nil {
		return p, err
	}
	if err := checkKey("workspace id", id); err != nil {
		return p, err
	}
	wsB := t.workspacesB()
	v := wsB.Get(t.scratch1(id))
	if v == nil {
		return p, notFound("workspace", id)
	}
	var w store.Workspace
	if err := decodeWorkspace(v, &w, bucketWorkspaces, t.key); err != nil {
		return p, err
	}
	prefix := prefix1(id)

	// Memberships, and the user → workspace index entry of each.
	users, err := remainders(t.membersB(), prefix)
	if err != nil {
		return p, err
	}
	for _, user := range users {
		t.ch.member(id, user)
		if err := t.userWSB().Delete(t.scratch2(user, id)); err != nil {
			return p, err
		}
		if err := t.membersB().Delete(t.scratch2(id, user)); err != nil {
			return p, err
		}
	}
	p.Members = len(users)

	// Custom roles.
	if p.Roles, err = deletePrefix(t.rolesB(), prefix); err != nil {
		return p, err
	}

	// Invites, through their workspace index; each takes its token and
	// email index entries along.
	invites, err := remainders(t.inviteWSB(), prefix)
	if err != nil {
		return p, err
	}
	for _, invID := range invites {
		if err := t.deleteInvite(invID); err != nil {
			return p, err
		}
		if err := t.inviteWSB().Delete(t.scratch2(id, invID)); err != nil {
			return p, err
		}
	}
	p.Invites = len(invites)

	// API keys, through their workspace index.
	keys, err := remainders(t.apiKeyWSB(), prefix)
	if err != nil {
		return p, err
	}
	for _, keyID := range keys {
		t.ch.apiKey(id, keyID)
		if err := t.apiKeysB().Delete(t.scratch1(keyID)); err != nil {
			return p, err
		}
		if err := t.apiKeyWSB().Delete(t.scratch2(id, keyID)); err != nil {
			return p, err
		}
	}
	p.APIKeys = len(keys)

	// The audit trail: the caller appends the tombstone afterwards.
	if p.AuditEvents, err = deletePrefix(t.auditB(), prefix); err != nil {
		return p, err
	}

	// Its organization, project and local-workspace index entries.
	if err := t.moveWorkspaceIndexes(w, store.Workspace{}); err != nil {
		return p, err
	}

	// The slug, if it is really ours, and the record.
	t.ch.workspace(id, true)
	slugB := t.slugsB()
	if owner := slugB.Get(t.scratch1(w.Slug)); owner != nil && string(owner) == id {
		if err := slugB.Delete(t.key); err != nil {
			return p, err
		}
	}
	return p, wsB.Delete(t.scratch1(id))
}

// deleteInvite removes invite id and its token and email index entries
// (not its workspace entry, which the caller is walking).
func (t *tx) deleteInvite(id string) error {
	invB := t.invitesB()
	v := invB.Get(t.scratch1(id))
	if v == nil {
		return corruptIndex("invite_ws", []byte(id))
	}
	var inv store.Invite
	if err := unmarshal(v, &inv, bucketInvites, t.key); err != nil {
		return err
	}
	tokB := t.inviteTokB()
	if owner := tokB.Get(t.scratch1(inv.TokenHash)); owner != nil && string(owner) == id {
		if err := tokB.Delete(t.key); err != nil {
			return err
		}
	}
	if err := t.inviteMailB().Delete(t.scratch2(inv.Email, id)); err != nil {
		return err
	}
	return invB.Delete(t.scratch1(id))
}

// remainders returns the key remainders after prefix of b's keys that
// start with it, copied.
func remainders(b *bbolt.Bucket, prefix []byte) ([]string, error) {
	var out []string
	_, err := scan(b, prefix, "", 0, func(k, _ []byte) error {
		out = append(out, string(k[len(prefix):]))
		return nil
	})
	return out, err
}

// deletePrefix deletes every key of b that starts with prefix and returns
// how many it deleted.
func deletePrefix(b *bbolt.Bucket, prefix []byte) (int, error) {
	rest, err := remainders(b, prefix)
	if err != nil {
		return 0, err
	}
	for _, r := range rest {
		if err := b.Delete(append(append([]byte(nil), prefix...), r...)); err != nil {
			return 0, err
		}
	}
	return len(rest), nil
}
