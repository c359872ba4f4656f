package storetest

import (
	"encoding/json"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// testSigningKeys: PutSigningKey (create, replace), SigningKeys by id.
func testSigningKeys(t *testing.T, b Backend) {
	s := b.Open(t)
	k2 := store.SigningKey{ID: "kid2", JWK: json.RawMessage(`{"kty":"OKP","crv":"Ed25519","x":"b"}`), CreatedAt: t0}
	k1 := store.SigningKey{ID: "kid1", JWK: json.RawMessage(`{"kty":"OKP","crv":"Ed25519","x":"a"}`), CreatedAt: t0}
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutSigningKey(k2); err != nil {
			return err
		}
		return tx.PutSigningKey(k1)
	})
	k1.JWK = json.RawMessage(`{"kty":"OKP","crv":"Ed25519","x":"c"}`)
	update(t, s, func(tx store.Tx) error { return tx.PutSigningKey(k1) })
	view(t, s, func(tx store.Tx) error {
		keys, err := tx.SigningKeys()
		noErr(t, "SigningKeys", err)
		equal(t, "SigningKeys by id, replaced", keys, []store.SigningKey{k1, k2})
		return nil
	})
}
