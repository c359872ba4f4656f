package boltstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// ---- API keys
//
// The record lives under its id (api_keys), because a presented key names
// its id and no workspace; api_keys_ws (wsID \x00 id → "") lists a
// workspace's keys. PutAPIKey records a ChangeAPIKey (a key's permissions
// and revocation are access decisions); TouchAPIKey records nothing.

func (t *tx) APIKey(id string) (store.APIKey, error) {
	var k store.APIKey
	if err := t.readable(); err != nil {
		return k, err
	}
	if !validKey(id) {
		return k, notFound("API key", id)
	}
	key := t.scratch1(id)
	v := t.apiKeysB().Get(key)
	if v == nil {
		return k, notFound("API key", id)
	}
	err := decodeJSON(v, &k, bucketAPIKeys, key)
	return k, err
}

func (t *tx) PutAPIKey(k store.APIKey) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKey("API key id", k.ID); err != nil {
		return err
	}
	if err := checkKey("API key workspace id", k.WorkspaceID); err != nil {
		return err
	}
	if err := checkKey("API key secret hash", k.SecretHash); err != nil {
		return err
	}
	if t.workspacesB().Get(t.scratch1(k.WorkspaceID)) == nil {
		return notFound("workspace", k.WorkspaceID)
	}
	data, err := json.Marshal(k)
	if err != nil {
		return fmt.Errorf("boltstore: encoding API key: %w", err)
	}
	keyB, wsB := t.apiKeysB(), t.apiKeyWSB()

	// Every check comes before the first write (see PutWorkspace).
	var old struct {
		WorkspaceID string `json:"workspace_id"`
	}
	if v := keyB.Get(t.scratch1(k.ID)); v != nil {
		if err := unmarshal(v, &old, bucketAPIKeys, t.key); err != nil {
			return err
		}
		if old.WorkspaceID != k.WorkspaceID {
			// The key leaves its workspace: move its index entry, and
			// record a change in the old workspace too (an extra
			// invalidation is harmless, a missing one is not).
			if err := wsB.Delete(t.scratch2(old.WorkspaceID, k.ID)); err != nil {
				return err
			}
			t.ch.apiKey(old.WorkspaceID, k.ID)
		}
	}
	t.ch.apiKey(k.WorkspaceID, k.ID)
	if err := wsB.Put(key2(k.WorkspaceID, k.ID), []byte{}); err != nil {
		return err
	}
	return keyB.Put([]byte(k.ID), data)
}

// TouchAPIKey implements store.Tx. An id that cannot be a key is reported
// as not found, like by APIKey: it comes from a presented key, and no
// such key exists (so a batch of touches skips it like a deleted key).
func (t *tx) TouchAPIKey(id string, at time.Time) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if !validKey(id) {
		return notFound("API key", id)
	}
	keyB := t.apiKeysB()
	key := t.scratch1(id)
	v := keyB.Get(key)
	if v == nil {
		return notFound("API key", id)
	}
	var k store.APIKey
	if err := decodeJSON(v, &k, bucketAPIKeys, key); err != nil {
		return err
	}
	if k.LastUsedAt != nil && !at.After(*k.LastUsedAt) {
		return nil // not later: nothing to write
	}
	k.LastUsedAt = &at
	data, err := json.Marshal(k)
	if err != nil {
		return fmt.Errorf("boltstore: encoding API key: %w", err)
	}
	// Use only: no access decision changed, no change notification.
	return keyB.Put([]byte(id), data)
}

func (t *tx) APIKeys(workspaceID, cursor string, limit int) ([]store.APIKey, string, error) {
	if err := t.readable(); err != nil {
		return nil, "", err
	}
	if !validKey(workspaceID) {
		return []store.APIKey{}, "", nil
	}
	return records(viaIndex(t.apiKeysB(), "api_keys_ws"), t.apiKeyWSB(), bucketAPIKeys, prefix1(workspaceID), cursor, limit, decodeJSON[store.APIKey])
}
