package signing

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/gatehouse-authz/gatehouse/internal/authn"
)

// devKey generates a key pair in a temporary directory and loads it.
func devKey(t *testing.T) (jwk.Key, string) {
	t.Helper()
	dir := t.TempDir()
	must(t, Generate(dir, false))
	key, err := LoadSigningKey(filepath.Join(dir, SigningKeyFile))
	must(t, err)
	return key, dir
}

// The end-to-end proof: what keygen writes and token signs, the gateway's
// verifier accepts, from the public set alone.
func TestSignedTokenVerifiesWithGeneratedJWKS(t *testing.T) {
	key, dir := devKey(t)
	verified := false
	token, err := Sign(key, TokenSpec{
		Subject:       "alice",
		Email:         "alice@example.com",
		EmailVerified: &verified,
		Issuer:        "https://dev.gatehouse.local/",
		Audience:      []string{"gatehouse-demo"},
		Claims:        map[string]any{"tenant": "acme"},
	})
	must(t, err)

	v, err := authn.NewVerifier(context.Background(), authn.Config{
		JWKSFile: filepath.Join(dir, JWKSFile),
		Issuer:   "https://dev.gatehouse.local/",
		Audience: "gatehouse-demo",
	})
	must(t, err)
	defer v.Close()
	p, err := v.Verify(token)
	must(t, err)
	if p.Subject != "alice" || p.Email != "alice@example.com" || p.EmailVerified != authn.False {
		t.Errorf("principal %+v", p)
	}
	if d := time.Until(p.ExpiresAt); d < DefaultTTL-time.Minute || d > DefaultTTL {
		t.Errorf("expires in %v, want about %v", d, DefaultTTL)
	}

	// And a key from another keygen run is not trusted.
	other, _ := devKey(t)
	foreign, err := Sign(other, TokenSpec{Subject: "alice", Issuer: "https://dev.gatehouse.local/", Audience: []string{"gatehouse-demo"}})
	must(t, err)
	var te *authn.TokenError
	if _, err := v.Verify(foreign); !errors.As(err, &te) {
		t.Errorf("token of another key: %v, want a TokenError", err)
	}
}

func TestSignHeaderAndClaims(t *testing.T) {
	key, _ := devKey(t)
	now := time.Date(2030, 1, 2, 3, 4, 5, 600, time.UTC)
	token, err := Sign(key, TokenSpec{Subject: "bob", TTL: 5 * time.Minute, Now: now, Claims: map[string]any{"n": 3.0}})
	must(t, err)

	msg, err := jws.Parse([]byte(token))
	must(t, err)
	h := msg.Signatures()[0].ProtectedHeaders()
	if h.KeyID() != key.KeyID() || h.Algorithm() != jwa.EdDSA {
		t.Errorf("header kid %q alg %s, want %q EdDSA", h.KeyID(), h.Algorithm(), key.KeyID())
	}
	tok, err := jwt.Parse([]byte(token), jwt.WithVerify(false), jwt.WithValidate(false))
	must(t, err)
	if !tok.IssuedAt().Equal(now.Truncate(time.Second)) || !tok.Expiration().Equal(now.Truncate(time.Second).Add(5*time.Minute)) {
		t.Errorf("iat %v exp %v", tok.IssuedAt(), tok.Expiration())
	}
	if n, _ := tok.Get("n"); n != 3.0 {
		t.Errorf("claim n = %v", n)
	}
	for _, name := range []string{"email", "email_verified", "iss", "aud"} {
		if _, ok := tok.Get(name); ok {
			t.Errorf("claim %s present though not asked for", name)
		}
	}
}

func TestSignRejects(t *testing.T) {
	key, _ := devKey(t)
	for _, c := range []struct {
		name string
		spec TokenSpec
		want string
	}{
		{"no subject", TokenSpec{}, "subject"},
		{"claims set exp", TokenSpec{Subject: "a", Claims: map[string]any{"exp": 1}}, `"exp"`},
		{"claims set sub", TokenSpec{Subject: "a", Claims: map[string]any{"sub": "root"}}, `"sub"`},
		{"claims set iat", TokenSpec{Subject: "a", Claims: map[string]any{"iat": 1}}, `"iat"`},
		{"claims set iss twice", TokenSpec{Subject: "a", Issuer: "i", Claims: map[string]any{"iss": "j"}}, `"iss"`},
		{"claim of a wrong type", TokenSpec{Subject: "a", Claims: map[string]any{"nbf": []int{1}}}, `"nbf"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Sign(key, c.spec)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one mentioning %s", err, c.want)
			}
		})
	}
	if _, err := Sign(nil, TokenSpec{Subject: "a"}); err == nil {
		t.Error("signed without a key")
	}
}

// Claims may set what the spec leaves unset, nbf and iss included.
func TestSignExtraStandardClaims(t *testing.T) {
	key, dir := devKey(t)
	now := time.Now()
	token, err := Sign(key, TokenSpec{Subject: "a", Now: now, Claims: map[string]any{"nbf": float64(now.Add(time.Hour).Unix()), "iss": "x", "aud": []any{"y"}}})
	must(t, err)
	v, err := authn.NewVerifier(context.Background(), authn.Config{JWKSFile: filepath.Join(dir, JWKSFile), Issuer: "x", Audience: "y"})
	must(t, err)
	defer v.Close()
	var te *authn.TokenError
	if _, err := v.Verify(token); !errors.As(err, &te) || te.Reason != "token not valid yet" {
		t.Fatalf("error %v, want not valid yet", err)
	}
}

func TestSignNegativeTTLMintsExpiredToken(t *testing.T) {
	key, dir := devKey(t)
	token, err := Sign(key, TokenSpec{Subject: "a", TTL: -time.Minute})
	must(t, err)
	v, err := authn.NewVerifier(context.Background(), authn.Config{JWKSFile: filepath.Join(dir, JWKSFile)})
	must(t, err)
	defer v.Close()
	var te *authn.TokenError
	if _, err := v.Verify(token); !errors.As(err, &te) || te.Reason != "token expired" {
		t.Fatalf("error %v, want token expired", err)
	}
}
