package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// testAPIKeys: APIKey, PutAPIKey (the workspace must exist), TouchAPIKey
// (only ever later), APIKeys (revoked ones too).
func testAPIKeys(t *testing.T, b Backend) {
	s := b.Open(t)
	seedWorkspace(t, s, "ws_a", "a")
	seedWorkspace(t, s, "ws_b", "b")
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutAPIKey(apiKey("k1", "ws_missing")) })
	wantErr(t, "PutAPIKey in a missing workspace", err, store.ErrNotFound)
	k1 := apiKey("k1", "ws_a")
	k1.Restrictions = map[string][]string{"instance": {"i1"}}
	k1.ExpiresAt = tp(t0.Add(24 * time.Hour))
	update(t, s, func(tx store.Tx) error {
		for _, k := range []store.APIKey{k1, apiKey("k2", "ws_a"), apiKey("k3", "ws_b")} {
			if err := tx.PutAPIKey(k); err != nil {
				return err
			}
		}
		return nil
	})
	k1.RevokedAt = tp(t0.Add(time.Minute))
	update(t, s, func(tx store.Tx) error { return tx.PutAPIKey(k1) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.APIKey("k1")
		noErr(t, "APIKey", err)
		equal(t, "APIKey after revoke", got, k1)
		_, err = tx.APIKey("nope")
		wantErr(t, "APIKey of a missing id", err, store.ErrNotFound)
		list, next, err := tx.APIKeys("ws_a", "", 0)
		noErr(t, "APIKeys", err)
		equal(t, "APIKeys ws_a (revoked too)", ids(list, func(k store.APIKey) string { return k.ID }), []string{"k1", "k2"})
		equal(t, "APIKeys next", next, "")
		return nil
	})

	// TouchAPIKey moves LastUsedAt forward only, and changes nothing else:
	// in particular it does not undo the revoke.
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.TouchAPIKey("nope", t0) })
	wantErr(t, "TouchAPIKey of a missing key", err, store.ErrNotFound)
	later, earlier := t0.Add(time.Hour), t0.Add(30*time.Minute)
	update(t, s, func(tx store.Tx) error { return tx.TouchAPIKey("k1", later) })
	update(t, s, func(tx store.Tx) error { return tx.TouchAPIKey("k1", earlier) })
	k1.LastUsedAt = tp(later)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.APIKey("k1")
		noErr(t, "APIKey after touch", err)
		equal(t, "APIKey after touches (later one kept, revoke kept)", got, k1)
		list, _, err := tx.APIKeys("ws_a", "", 0)
		noErr(t, "APIKeys after touch", err)
		equal(t, "APIKeys sees the touch", list[0], k1)
		return nil
	})
}
