// Package assertion signs X-Gatehouse-Assertion: a short-lived JWT in which
// the gateway states the identity facts of an allowed request, so that an
// upstream can prove the request came through the gateway instead of
// trusting headers alone. The signing key is the gateway's own, kept in the
// store; its public half is published by the management API at
// GET /v1/jwks.json.
package assertion

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/gatehouse-authz/gatehouse/internal/signing"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Issuer is the iss claim of every assertion.
const Issuer = "gatehouse"

// Type is the typ header of every assertion, so it cannot be mistaken for
// (or replayed as) a user's access token.
const Type = "gatehouse-assertion+jwt"

// Lifetime is how long an assertion is valid: it accompanies one request.
const Lifetime = time.Minute

// Facts are what an assertion states. Method and Path bind it to the one
// request it accompanies.
type Facts struct {
	Subject       string
	Email         string
	WorkspaceID   string
	WorkspaceSlug string
	Roles         []string
	Permission    string
	Restrictions  map[string][]string
	Method        string
	Path          string
}

// Signer signs assertions with the newest gateway key.
type Signer struct {
	key  jwk.Key
	jwks []byte
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
		key, err := newStoredKey(now)
		if err != nil {
			return err
		}
		keys = []store.SigningKey{key}
		return tx.PutSigningKey(key)
	})
	if err != nil {
		return nil, fmt.Errorf("loading the gateway signing key: %w", err)
	}
	return newSigner(keys)
}

func newStoredKey(now time.Time) (store.SigningKey, error) {
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

// newSigner signs with the newest key and publishes all of them, so that
// assertions signed just before a rotation still verify.
func newSigner(stored []store.SigningKey) (*Signer, error) {
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
	jwks, err := json.Marshal(public)
	if err != nil {
		return nil, err
	}
	return &Signer{key: newest, jwks: jwks}, nil
}

// claims is the payload; names follow JWT and DPoP (htm, htu) usage.
type claims struct {
	Issuer        string              `json:"iss"`
	Subject       string              `json:"sub"`
	IssuedAt      int64               `json:"iat"`
	Expires       int64               `json:"exp"`
	Email         string              `json:"email,omitempty"`
	Workspace     string              `json:"workspace,omitempty"`
	WorkspaceSlug string              `json:"workspace_slug,omitempty"`
	Roles         []string            `json:"roles,omitempty"`
	Permission    string              `json:"permission,omitempty"`
	Restrictions  map[string][]string `json:"restrictions,omitempty"`
	Method        string              `json:"htm"`
	Path          string              `json:"htu"`
}

// Sign returns the compact JWS of f, valid for Lifetime from now.
func (s *Signer) Sign(f Facts, now time.Time) (string, error) {
	payload, err := json.Marshal(claims{
		Issuer: Issuer, Subject: f.Subject, IssuedAt: now.Unix(), Expires: now.Add(Lifetime).Unix(),
		Email: f.Email, Workspace: f.WorkspaceID, WorkspaceSlug: f.WorkspaceSlug, Roles: f.Roles,
		Permission: f.Permission, Restrictions: f.Restrictions, Method: f.Method, Path: f.Path,
	})
	if err != nil {
		return "", err
	}
	headers := jws.NewHeaders()
	for name, value := range map[string]any{jws.KeyIDKey: s.key.KeyID(), jws.TypeKey: Type} {
		if err := headers.Set(name, value); err != nil {
			return "", err
		}
	}
	signed, err := jws.Sign(payload, jws.WithKey(jwa.EdDSA, s.key, jws.WithProtectedHeaders(headers)))
	if err != nil {
		return "", fmt.Errorf("signing the assertion: %w", err)
	}
	return string(signed), nil
}

// JWKS returns the public JWK set of the gateway keys (JSON).
func (s *Signer) JWKS() []byte { return s.jwks }
