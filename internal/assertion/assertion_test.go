package assertion

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
)

func openStore(t *testing.T) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "g.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// An upstream verifies the assertion with the published JWK set alone.
func TestAssertionVerifiesWithPublishedKeys(t *testing.T) {
	s := openStore(t)
	now := time.Now()
	signer, err := LoadOrCreate(context.Background(), s, now)
	if err != nil {
		t.Fatal(err)
	}
	facts := Facts{Subject: "olga", Email: "olga@example.com", WorkspaceID: "ws_1", WorkspaceSlug: "acme",
		Roles: []string{"operator"}, Permission: "message.read", Restrictions: map[string][]string{"instance": {"i1"}},
		Method: "GET", Path: "/w/acme/messages"}
	token, err := signer.Sign(facts, now)
	if err != nil {
		t.Fatal(err)
	}
	set, err := jwk.Parse(signer.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 1 {
		t.Fatalf("published %d keys", set.Len())
	}
	if pub, _ := set.Key(0); pub.KeyType() != "OKP" {
		t.Fatalf("published key %v", pub)
	}
	if containsPrivate(t, signer.JWKS()) {
		t.Fatal("the published set holds a private key")
	}
	tok, err := jwt.Parse([]byte(token), jwt.WithKeySet(set, jws.WithInferAlgorithmFromKey(true)), jwt.WithValidate(true), jwt.WithIssuer(Issuer))
	if err != nil {
		t.Fatalf("verifying with the published set: %v", err)
	}
	if tok.Subject() != "olga" || tok.Expiration().Sub(tok.IssuedAt()) != Lifetime {
		t.Errorf("claims: sub %q, lifetime %v", tok.Subject(), tok.Expiration().Sub(tok.IssuedAt()))
	}
	for name, want := range map[string]any{"workspace": "ws_1", "workspace_slug": "acme", "permission": "message.read", "htm": "GET", "htu": "/w/acme/messages"} {
		if got, _ := tok.Get(name); got != want {
			t.Errorf("claim %s = %v, want %v", name, got, want)
		}
	}
	msg, _ := jws.Parse([]byte(token))
	if h := msg.Signatures()[0].ProtectedHeaders(); h.Type() != Type || h.Algorithm() != jwa.EdDSA {
		t.Errorf("header typ %q alg %q", h.Type(), h.Algorithm())
	}
}

// The key is created once and reused by every later signer.
func TestKeyIsCreatedOnceAndKept(t *testing.T) {
	s := openStore(t)
	a, err := LoadOrCreate(context.Background(), s, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreate(context.Background(), s, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if string(a.JWKS()) != string(b.JWKS()) {
		t.Fatal("a second load created another key")
	}
	var n int
	_ = s.View(context.Background(), func(tx store.Tx) error {
		keys, err := tx.SigningKeys()
		n = len(keys)
		return err
	})
	if n != 1 {
		t.Fatalf("%d keys stored", n)
	}
}

func containsPrivate(t *testing.T, raw []byte) bool {
	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if _, ok := k["d"]; ok {
			return true
		}
	}
	return false
}
