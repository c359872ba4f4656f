package signing

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/gatehouse-authz/gatehouse/internal/authn"
)

func TestLoadSigningKey(t *testing.T) {
	dir := t.TempDir()
	must(t, Generate(dir, false))
	key, err := LoadSigningKey(filepath.Join(dir, SigningKeyFile))
	must(t, err)
	if key.Algorithm() != jwa.EdDSA || key.KeyID() == "" {
		t.Errorf("loaded key alg %s kid %q", key.Algorithm(), key.KeyID())
	}
}

// Any private JWK with kid and alg will do, not only ours.
func TestLoadSigningKeyOtherKeyTypes(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	key := jwkWith(t, ec, "ec-1", jwa.ES256)
	loaded, err := LoadSigningKey(writeJSONFile(t, key))
	must(t, err)
	if loaded.KeyID() != "ec-1" {
		t.Errorf("kid %q", loaded.KeyID())
	}
}

// An HMAC key works end to end with a verifier holding the same secret.
func TestLoadSigningKeyHMAC(t *testing.T) {
	secret := make([]byte, 32)
	_, err := rand.Read(secret)
	must(t, err)
	key, err := LoadSigningKey(writeJSONFile(t, jwkWith(t, secret, "hs-1", jwa.HS256)))
	must(t, err)
	token, err := Sign(key, TokenSpec{Subject: "svc"})
	must(t, err)
	v, err := authn.NewVerifier(t.Context(), authn.Config{HMACSecret: secret})
	must(t, err)
	defer v.Close()
	if p, err := v.Verify(token); err != nil || p.Subject != "svc" {
		t.Fatalf("Verify: %+v, %v", p, err)
	}
}

func TestLoadSigningKeyErrors(t *testing.T) {
	dir := t.TempDir()
	must(t, Generate(dir, false))
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	pub, err := jwkWith(t, ec, "ec-1", jwa.ES256).PublicKey()
	must(t, err)
	missing := filepath.Join(dir, "nope.jwk")
	for _, c := range []struct {
		name, path string
		want       []string
	}{
		{"missing file", missing, []string{missing}},
		{"the public set", filepath.Join(dir, JWKSFile), []string{JWKSFile, "public", SigningKeyFile}},
		{"a public key", writeJSONFile(t, pub), []string{"public key"}},
		{"no kid", writeJSONFile(t, jwkWith(t, ec, "", jwa.ES256)), []string{"kid"}},
		{"no alg", writeJSONFile(t, jwkWith(t, ec, "ec-1", "")), []string{"alg"}},
		{"alg none", writeJSONFile(t, jwkWith(t, ec, "ec-1", jwa.NoSignature)), []string{"not a signature algorithm"}},
		{"alg of another key type", writeJSONFile(t, jwkWith(t, ec, "ec-1", jwa.RS256)), []string{"cannot sign", "RS256"}},
		{"not JSON", writeJSONFile(t, "just a string"), []string{"not a JWK"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadSigningKey(c.path)
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range c.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

// jwkWith is a JWK of raw with kid and alg set when non-empty.
func jwkWith(t *testing.T, raw any, kid string, alg jwa.SignatureAlgorithm) jwk.Key {
	t.Helper()
	key, err := jwk.FromRaw(raw)
	must(t, err)
	if kid != "" {
		must(t, key.Set(jwk.KeyIDKey, kid))
	}
	if alg != "" {
		must(t, key.Set(jwk.AlgorithmKey, alg))
	}
	return key
}
