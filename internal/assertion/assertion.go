// Package assertion signs X-Gatehouse-Assertion: a short-lived JWT in which
// the gateway states the identity facts of an allowed request, so that an
// upstream can prove the request came through the gateway instead of
// trusting headers alone. The signing key is the gateway's own, kept in the
// store; its public half is published by the management API at
// GET /v1/jwks.json.
package assertion

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/gatehouse-authz/gatehouse/internal/signing"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Issuer is the iss claim of every assertion.
const Issuer = "gatehouse"

// Type is the typ header of every assertion, so it cannot be mistaken for
// (or replayed as) a user's access token.
const Type = "gatehouse-assertion+jwt"

// Lifetime is how long an assertion is valid.
const Lifetime = time.Minute

// Reuse is how long one signed assertion is handed out again for the same
// facts. Signing every request cost a quarter of the gateway's throughput;
// reusing a token for half its lifetime costs one signature per identity
// every 30 s, and an upstream always receives at least Lifetime - Reuse
// (30 s) of validity.
const Reuse = 30 * time.Second

// Facts are what an assertion states: who the caller is and what the
// gateway allowed. They do not include the request's method, path or body:
// an assertion is a short-lived bearer proof of identity, not a signature
// of one request (see the README).
type Facts struct {
	Subject       string
	Email         string
	WorkspaceID   string
	WorkspaceSlug string
	Roles         []string
	Permission    string
	Restrictions  map[string][]string
}

// Signer signs assertions with the newest gateway key, and reuses a
// signed assertion for the same facts for up to Reuse.
type Signer struct {
	priv   ed25519.PrivateKey
	header string // base64url of the protected header, the same for every token
	jwks   []byte
	reuse  reuseTable
}

// LoadOrCreate returns a signer for the store's newest signing key,
// creating the first key on first use (in one transaction, so concurrent
// configs agree on it).
func LoadOrCreate(ctx context.Context, s store.Store, now time.Time) (*Signer, error) {
	var keys []store.SigningKey
	err := s.Update(ctx, func(tx store.Tx) error {
		var err error
		if keys, err = tx.SigningKeys(); err != nil || len(keys) > 0 {
			return err
		}
		key, err := NewStoredKey(now)
		if err != nil {
			return err
		}
		keys = []store.SigningKey{key}
		return tx.PutSigningKey(key)
	})
	if err != nil {
		return nil, fmt.Errorf("loading the gateway signing key: %w", err)
	}
	return NewSigner(keys)
}

// NewStoredKey makes a new gateway signing key, as the store keeps it.
func NewStoredKey(now time.Time) (store.SigningKey, error) {
	priv, _, err := signing.NewKeyPair()
	if err != nil {
		return store.SigningKey{}, err
	}
	raw, err := json.Marshal(priv)
	if err != nil {
		return store.SigningKey{}, err
	}
	return store.SigningKey{ID: priv.KeyID(), JWK: raw, CreatedAt: now}, nil
}

// NewSigner signs with the newest of the stored keys and publishes all of
// them, so that assertions signed just before a rotation still verify.
func NewSigner(stored []store.SigningKey) (*Signer, error) {
	slices.SortFunc(stored, func(a, b store.SigningKey) int { return a.CreatedAt.Compare(b.CreatedAt) })
	public := jwk.NewSet()
	var newest jwk.Key
	for _, sk := range stored {
		key, err := jwk.ParseKey(sk.JWK)
		if err != nil {
			return nil, fmt.Errorf("signing key %s: %w", sk.ID, err)
		}
		pub, err := key.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("signing key %s: %w", sk.ID, err)
		}
		if err := public.AddKey(pub); err != nil {
			return nil, err
		}
		newest = key
	}
	if newest == nil {
		return nil, errors.New("no gateway signing key")
	}
	jwks, err := json.Marshal(public)
	if err != nil {
		return nil, err
	}
	// Signed with crypto/ed25519 directly: jwx costs ~250 allocations a
	// token. jwx still parses the stored key and builds the published set.
	var priv ed25519.PrivateKey
	if err := newest.Raw(&priv); err != nil || len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("signing key %s: not an Ed25519 private key", newest.KeyID())
	}
	header, err := protectedHeader(newest.KeyID())
	if err != nil {
		return nil, err
	}
	return &Signer{priv: priv, header: header, jwks: jwks, reuse: newReuseTable()}, nil
}

// Sign returns a compact JWS of f valid for Lifetime from its issue time.
// A token signed for the same facts less than Reuse ago is returned again,
// without allocating. f's slices and map are only read.
func (s *Signer) Sign(f Facts, now time.Time) (string, error) {
	n := now.UnixNano()
	slot, hash := s.reuse.slot(&f)
	if e := slot.Load(); e != nil && e.hash == hash && n >= e.issuedAt && n < e.reuseUntil && e.facts.equal(&f) {
		return e.token, nil
	}
	iat := now.Unix() // JWT times are whole seconds
	token, err := s.sign(&f, iat)
	if err != nil {
		return "", err
	}
	slot.Store(&reuseEntry{hash: hash, facts: f.clone(), token: token,
		issuedAt: time.Unix(iat, 0).UnixNano(), reuseUntil: time.Unix(iat, 0).Add(Reuse).UnixNano()})
	return token, nil
}

// JWKS returns the public JWK set of the gateway keys (JSON).
func (s *Signer) JWKS() []byte { return s.jwks }
