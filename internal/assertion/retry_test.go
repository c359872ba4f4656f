package assertion

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/storetest"
)

// TestLoadOrCreateRetried: another process creates the first signing key
// between the two runs of LoadOrCreate's (retried) Update. The second
// run finds that key and uses it: one key in the store, and the signer
// publishes that one, not the key its rolled-back first run made.
func TestLoadOrCreateRetried(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	now := time.Now().UTC()
	var (
		once  sync.Once
		other store.SigningKey
	)
	r := storetest.Retrying(s, func() {
		once.Do(func() {
			var err error
			if other, err = NewStoredKey(now); err != nil {
				t.Fatal(err)
			}
			if err := s.Update(ctx, func(tx store.Tx) error { return tx.PutSigningKey(other) }); err != nil {
				t.Fatal(err)
			}
		})
	})
	signer, err := LoadOrCreate(ctx, r, now)
	if err != nil {
		t.Fatal(err)
	}
	var keys []store.SigningKey
	if err := s.View(ctx, func(tx store.Tx) (err error) { keys, err = tx.SigningKeys(); return err }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].ID != other.ID {
		t.Fatalf("stored keys %v, want only the other process's %s", keys, other.ID)
	}
	set, err := jwk.Parse(signer.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := set.Key(0); set.Len() != 1 || !ok || k.KeyID() != other.ID {
		t.Fatalf("the signer publishes %d key(s), not only %s", set.Len(), other.ID)
	}
}
