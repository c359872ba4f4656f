package authn

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// t0 is the fake clock's start.
var t0 = time.Unix(1_750_000_000, 0)

// testKey is a signing key of the tests and its public JWK.
type testKey struct {
	kid  string
	alg  jwa.SignatureAlgorithm
	priv any     // crypto private key
	pub  jwk.Key // public JWK: kid, and alg unless made without
}

func newEdKey(t testing.TB, kid string) *testKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	return newTestKey(t, kid, jwa.EdDSA, priv, true)
}

func newECKey(t testing.TB, kid string) *testKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	return newTestKey(t, kid, jwa.ES256, priv, true)
}

// rsaKey is generated once: 2048-bit generation is slow under -race.
var rsaKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// newRSAKey returns the tests' RSA key under kid; its JWK declares alg
// when declareAlg is set.
func newRSAKey(t testing.TB, kid string, alg jwa.SignatureAlgorithm, declareAlg bool) *testKey {
	t.Helper()
	priv, err := rsaKey()
	must(t, err)
	return newTestKey(t, kid, alg, priv, declareAlg)
}

func newTestKey(t testing.TB, kid string, alg jwa.SignatureAlgorithm, priv any, declareAlg bool) *testKey {
	t.Helper()
	privJWK, err := jwk.FromRaw(priv)
	must(t, err)
	pub, err := privJWK.PublicKey()
	must(t, err)
	must(t, pub.Set(jwk.KeyIDKey, kid))
	if declareAlg {
		must(t, pub.Set(jwk.AlgorithmKey, alg))
	}
	return &testKey{kid: kid, alg: alg, priv: priv, pub: pub}
}

// sign returns a token signed by k with k's alg and kid in the header,
// plus the extra header fields.
func (k *testKey) sign(t testing.TB, claims map[string]any, extra ...map[string]any) string {
	t.Helper()
	h := map[string]any{"kid": k.kid}
	for _, e := range extra {
		maps.Copy(h, e)
	}
	return mint(t, k.alg, k.priv, h, claims)
}

// mint signs claims with key under alg; header fields set to nil are
// left out.
func mint(t testing.TB, alg jwa.SignatureAlgorithm, key any, header, claims map[string]any) string {
	t.Helper()
	h := jws.NewHeaders()
	for name, value := range header {
		if value != nil {
			must(t, h.Set(name, value))
		}
	}
	payload, err := json.Marshal(claims)
	must(t, err)
	out, err := jws.Sign(payload, jws.WithKey(alg, key, jws.WithProtectedHeaders(h)))
	must(t, err)
	return string(out)
}

// craft builds a token by hand, for what jwx refuses to sign.
func craft(t testing.TB, header, claims map[string]any, signature []byte) string {
	t.Helper()
	return b64JSON(t, header) + "." + b64JSON(t, claims) + "." + base64.RawURLEncoding.EncodeToString(signature)
}

func b64JSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	return base64.RawURLEncoding.EncodeToString(b)
}

// claimsAt returns valid claims at now for subject alice, changed by
// the name, value pairs; a value of absent removes the claim.
func claimsAt(now time.Time, kv ...any) map[string]any {
	c := map[string]any{
		"sub":            "alice",
		"email":          "alice@example.com",
		"email_verified": true,
		"iat":            now.Unix(),
		"exp":            now.Add(time.Hour).Unix(),
	}
	for i := 0; i+1 < len(kv); i += 2 {
		name := kv[i].(string)
		if kv[i+1] == absent {
			delete(c, name)
			continue
		}
		c[name] = kv[i+1]
	}
	return c
}

type absentClaim struct{}

var absent = absentClaim{}

// jwksJSON is the JWK set of keys.
func jwksJSON(t testing.TB, keys ...jwk.Key) []byte {
	t.Helper()
	set := jwk.NewSet()
	for _, k := range keys {
		must(t, set.AddKey(k))
	}
	b, err := json.Marshal(set)
	must(t, err)
	return b
}

// writeJWKS writes the JWK set of keys to a file and returns its path.
func writeJWKS(t testing.TB, keys ...jwk.Key) string {
	t.Helper()
	return writeFile(t, jwksJSON(t, keys...))
}

func writeFile(t testing.TB, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jwks.json")
	must(t, os.WriteFile(path, data, 0o644))
	return path
}

// fakeClock is a clock the test moves.
type fakeClock struct{ ns atomic.Int64 }

func newClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t0.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// newVerifier returns a verifier closed at the end of the test. A zero
// CacheSize means a small cache, to keep tests light.
func newVerifier(t testing.TB, cfg Config) *Verifier {
	t.Helper()
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 1024
	}
	v, err := NewVerifier(context.Background(), cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	t.Cleanup(v.Close)
	return v
}

// wantReason fails unless err is a *TokenError with reason, and checks
// that the error text never quotes the token.
func wantReason(t testing.TB, token string, err error, reason string) {
	t.Helper()
	var te *TokenError
	if !errors.As(err, &te) {
		t.Fatalf("error %v (%T), want TokenError %q", err, err, reason)
	}
	if te.Reason != reason {
		t.Errorf("reason %q, want %q", te.Reason, reason)
	}
	for _, part := range strings.Split(token, ".") {
		if len(part) >= 8 && strings.Contains(err.Error(), part) {
			t.Errorf("error %q quotes the token", err)
		}
	}
}

func mustVerify(t testing.TB, v *Verifier, token string) Principal {
	t.Helper()
	p, err := v.Verify(token)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return p
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// jwksServer serves a JWK set the test changes, and counts requests.
type jwksServer struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	body   []byte
	hits   atomic.Int32
}

func newJWKSServer(t testing.TB, keys ...jwk.Key) *jwksServer {
	t.Helper()
	s := &jwksServer{status: http.StatusOK, body: jwksJSON(t, keys...)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		status, body := s.status, s.body
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

// serve makes the server answer status with body.
func (s *jwksServer) serve(status int, body []byte) {
	s.mu.Lock()
	s.status, s.body = status, body
	s.mu.Unlock()
}

// refreshes collects the results of JWK set fetches.
type refreshes chan error

func newRefreshes() refreshes { return make(refreshes, 1000) }

func (r refreshes) observe(err error) { r <- err }

// next waits for the next fetch and returns its error.
func (r refreshes) next(t testing.TB) error {
	t.Helper()
	select {
	case err := <-r:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("no JWK set fetch within 10s")
		return nil
	}
}

// none fails if a fetch happens within d.
func (r refreshes) none(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case err := <-r:
		t.Fatalf("unexpected JWK set fetch (err %v)", err)
	case <-time.After(d):
	}
}
