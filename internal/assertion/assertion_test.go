package assertion

import (
	"context"
	"encoding/json"
	"fmt"
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

var olgaFacts = Facts{Subject: "olga", Email: "olga@example.com", WorkspaceID: "ws_1", WorkspaceSlug: "acme",
	Roles: []string{"operator", "exporter"}, Permission: "message.read",
	Restrictions: map[string][]string{"instance": {"i1", "i2"}, "chat": {"assigned_only"}}}

// verify checks token the way an upstream does, with the published JWK set
// alone, and returns its claims.
func verify(t *testing.T, signer *Signer, token string, at time.Time) map[string]any {
	t.Helper()
	set, err := jwk.Parse(signer.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Parse([]byte(token), jwt.WithKeySet(set, jws.WithInferAlgorithmFromKey(true)), jwt.WithValidate(true), jwt.WithIssuer(Issuer),
		jwt.WithClock(jwt.ClockFunc(func() time.Time { return at })))
	if err != nil {
		t.Fatalf("verifying with the published set: %v", err)
	}
	claims, err := tok.AsMap(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return claims
}

// An upstream verifies the assertion with the published JWK set alone, and
// finds every identity fact in it.
func TestAssertionVerifiesWithPublishedKeys(t *testing.T) {
	s := openStore(t)
	now := time.Now()
	signer, err := LoadOrCreate(context.Background(), s, now)
	if err != nil {
		t.Fatal(err)
	}
	token, err := signer.Sign(olgaFacts, now)
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
	pub, _ := set.Key(0)
	if pub.KeyType() != "OKP" {
		t.Fatalf("published key %v", pub)
	}
	if containsPrivate(t, signer.JWKS()) {
		t.Fatal("the published set holds a private key")
	}
	claims := verify(t, signer, token, now)
	iat, exp := claims["iat"].(time.Time), claims["exp"].(time.Time)
	if exp.Sub(iat) != Lifetime || iat.Unix() != now.Unix() {
		t.Errorf("iat %v exp %v, want now and now + %v", iat, exp, Lifetime)
	}
	for name, want := range map[string]any{"sub": "olga", "iss": Issuer, "email": "olga@example.com", "workspace": "ws_1",
		"workspace_slug": "acme", "permission": "message.read"} {
		if got := claims[name]; got != want {
			t.Errorf("claim %s = %v, want %v", name, got, want)
		}
	}
	if got := fmt.Sprint(claims["roles"]); got != "[operator exporter]" {
		t.Errorf("roles %s", got)
	}
	if got := fmt.Sprint(claims["restrictions"]); got != "map[chat:[assigned_only] instance:[i1 i2]]" {
		t.Errorf("restrictions %s", got)
	}
	// Not bound to a request: no method or path claims.
	for _, name := range []string{"htm", "htu"} {
		if _, ok := claims[name]; ok {
			t.Errorf("claim %s present", name)
		}
	}
	msg, err := jws.Parse([]byte(token))
	if err != nil {
		t.Fatal(err)
	}
	if h := msg.Signatures()[0].ProtectedHeaders(); h.Type() != Type || h.Algorithm() != jwa.EdDSA || h.KeyID() != pub.KeyID() {
		t.Errorf("header typ %q alg %q kid %q", h.Type(), h.Algorithm(), h.KeyID())
	}
}

// Issue 10 item 13: the same facts get the same token for Reuse, so that
// the gateway signs once per identity, not once per request; any change
// of a fact gets a token that states the new fact; after Reuse a fresh
// token is signed, and an upstream never gets one with less than
// Lifetime - Reuse left.
func TestAssertionIsReusedForTheSameFactsOnly(t *testing.T) {
	signer, err := LoadOrCreate(context.Background(), openStore(t), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Truncate(time.Second)
	first, err := signer.Sign(olgaFacts, start)
	if err != nil {
		t.Fatal(err)
	}
	later, _ := signer.Sign(olgaFacts, start.Add(Reuse-time.Millisecond))
	if later != first {
		t.Fatalf("signed again within %v for the same facts", Reuse)
	}
	if exp := verify(t, signer, later, start.Add(Reuse-time.Millisecond))["exp"].(time.Time); exp.Sub(start.Add(Reuse)) < Lifetime-Reuse {
		t.Errorf("reused token expires at %v, less than %v after its last use", exp, Lifetime-Reuse)
	}
	if fresh, _ := signer.Sign(olgaFacts, start.Add(Reuse)); fresh == first {
		t.Errorf("reused after %v", Reuse)
	} else if iat := verify(t, signer, fresh, start.Add(Reuse))["iat"].(time.Time); !iat.Equal(start.Add(Reuse)) {
		t.Errorf("fresh token iat %v", iat)
	}

	// Each fact that differs gets its own token, which states it.
	changes := map[string]func(*Facts){
		"subject":        func(f *Facts) { f.Subject = "olgb" },
		"email":          func(f *Facts) { f.Email = "other@example.com" },
		"workspace":      func(f *Facts) { f.WorkspaceID = "ws_2" },
		"workspace slug": func(f *Facts) { f.WorkspaceSlug = "acme2" },
		"permission":     func(f *Facts) { f.Permission = "message.send" },
		"a role less":    func(f *Facts) { f.Roles = []string{"operator"} },
		"roles reordered": func(f *Facts) {
			f.Roles = []string{"exporter", "operator"}
		},
		"no restrictions":    func(f *Facts) { f.Restrictions = nil },
		"a restriction less": func(f *Facts) { f.Restrictions = map[string][]string{"instance": {"i1", "i2"}} },
		"restriction widened": func(f *Facts) {
			f.Restrictions = map[string][]string{"instance": {"i1", "i2", "i3"}, "chat": {"assigned_only"}}
		},
		"restriction moved": func(f *Facts) {
			f.Restrictions = map[string][]string{"instance": {"i1"}, "chat": {"assigned_only", "i2"}}
		},
	}
	at := start.Add(time.Second)
	base, _ := signer.Sign(olgaFacts, at)
	for name, change := range changes {
		f := olgaFacts.clone()
		change(&f)
		token, err := signer.Sign(f, at)
		if err != nil {
			t.Fatal(err)
		}
		if token == base {
			t.Errorf("%s: the token of the old facts was reused", name)
			continue
		}
		claims := verify(t, signer, token, at)
		if fmt.Sprint(claims["sub"], claims["email"], claims["workspace"], claims["workspace_slug"], claims["permission"]) !=
			fmt.Sprint(f.Subject, f.Email, f.WorkspaceID, f.WorkspaceSlug, f.Permission) {
			t.Errorf("%s: claims %v", name, claims)
		}
		if got, want := fmt.Sprint(claims["roles"]), fmt.Sprint(f.Roles); got != want {
			t.Errorf("%s: roles %s, want %s", name, got, want)
		}
		if got, want := fmt.Sprint(claims["restrictions"]), fmt.Sprint(f.Restrictions); len(f.Restrictions) > 0 && got != want {
			t.Errorf("%s: restrictions %s, want %s", name, got, want)
		}
	}
	// Changing the caller's facts after signing does not change the cached ones.
	f := olgaFacts.clone()
	tok, _ := signer.Sign(f, at)
	f.Roles[0] = "owner"
	if again, _ := signer.Sign(f, at); again == tok {
		t.Error("a token was reused for facts changed in place")
	}
}

// A reused assertion costs no allocation.
func TestReusedAssertionDoesNotAllocate(t *testing.T) {
	signer, err := LoadOrCreate(context.Background(), openStore(t), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := signer.Sign(olgaFacts, now); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = signer.Sign(olgaFacts, now) }); n != 0 {
		t.Errorf("%v allocations a reused assertion", n)
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
