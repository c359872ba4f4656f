package gateway

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
	"github.com/gatehouse-authz/gatehouse/internal/store/storetest"
)

// TestSeenRecorderTouchesOnly: recording a sighting is a touch write
// (TouchUser), never a read-modify-write of the whole user. The user's
// email is edited by a concurrent writer between the two runs of the
// recorder's (retried) Update, and another process with a clock ahead has
// already recorded a later LastSeen: the sighting keeps the edited email
// (the token carried none), leaves FirstSeen alone and never moves
// LastSeen back. A new user is created with FirstSeen = LastSeen.
func TestSeenRecorderTouchesOnly(t *testing.T) {
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "gatehouse.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	first := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	ahead := time.Now().UTC().Add(time.Hour)
	put := func(u store.User) {
		t.Helper()
		if err := s.Update(ctx, func(tx store.Tx) error { return tx.PutUser(u) }); err != nil {
			t.Fatal(err)
		}
	}
	put(store.User{ID: "alice", Email: "alice@old.example", FirstSeen: first, LastSeen: ahead})
	var once sync.Once
	edited := store.User{ID: "alice", Email: "alice@edited.example", FirstSeen: first, LastSeen: ahead}
	counted, calls := storetest.Counting(storetest.Retrying(s, func() { once.Do(func() { put(edited) }) }))

	r, err := newSeenRecorder(counted, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	before := time.Now().UTC()
	r.write(map[string]authn.Principal{"alice": {Subject: "alice"}, "bob": {Subject: "bob", Email: "bob@example.com"}})

	if n := calls.Get("PutUser"); n != 0 {
		t.Errorf("the recorder wrote whole users (%d PutUser calls)", n)
	}
	if err := s.View(ctx, func(tx store.Tx) error {
		got, err := tx.User("alice")
		if err != nil {
			return err
		}
		if got.Email != edited.Email || !got.FirstSeen.Equal(first) || !got.LastSeen.Equal(ahead) {
			t.Errorf("alice after a sighting: %+v, want %+v", got, edited)
		}
		bob, err := tx.User("bob")
		if err != nil {
			return err
		}
		if bob.Email != "bob@example.com" || bob.FirstSeen.Before(before) || !bob.LastSeen.Equal(bob.FirstSeen) {
			t.Errorf("bob, seen for the first time: %+v", bob)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestKeyUseRecorderRetriedAfterRevoke: the key is revoked between the
// two runs of the key-use recorder's (retried) Update. The use is
// recorded (LastUsedAt only) and the key stays revoked; a key deleted
// with its workspace (ErrNotFound) does not fail the batch.
func TestKeyUseRecorderRetriedAfterRevoke(t *testing.T) {
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "gatehouse.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	now := time.Now().UTC()
	key := store.APIKey{ID: "key_1", WorkspaceID: "ws_1", Name: "ci", Permissions: []string{"message.read"},
		SecretHash: "hash", CreatedBy: "alice", CreatedAt: now}
	update := func(fn func(tx store.Tx) error) {
		t.Helper()
		if err := s.Update(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	update(func(tx store.Tx) error {
		if err := tx.PutWorkspace(store.Workspace{ID: "ws_1", Slug: "one", Name: "One", CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		return tx.PutAPIKey(key)
	})
	var once sync.Once
	revokedAt := now.Add(time.Second)
	r := newKeyUseRecorder(storetest.Retrying(s, func() {
		once.Do(func() {
			update(func(tx store.Tx) error {
				k, err := tx.APIKey("key_1")
				if err != nil {
					return err
				}
				k.RevokedAt = &revokedAt
				return tx.PutAPIKey(k)
			})
		})
	}), zap.NewNop())
	defer r.close()
	used := now.Add(2 * time.Second)
	r.write(map[string]keyUse{"key_1": {id: "key_1", at: used}, "key_gone": {id: "key_gone", at: used}})
	if err := s.View(ctx, func(tx store.Tx) error {
		k, err := tx.APIKey("key_1")
		if err != nil {
			return err
		}
		if k.RevokedAt == nil || !k.RevokedAt.Equal(revokedAt) || k.LastUsedAt == nil || !k.LastUsedAt.Equal(used) {
			t.Errorf("key after a use recorded across its revoke: revoked %v, last used %v", k.RevokedAt, k.LastUsedAt)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
