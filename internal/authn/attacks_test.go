package authn

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// alg "none" is rejected whatever the kid, the signature and the other
// key sources.
func TestAlgNoneRejected(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		name   string
		header map[string]any
		sig    []byte
	}{
		{"none, known kid, empty signature", map[string]any{"alg": "none", "kid": "ed-1"}, nil},
		{"none, no kid, empty signature", map[string]any{"alg": "none"}, nil},
		{"None, known kid", map[string]any{"alg": "None", "kid": "ed-1"}, nil},
		{"none, junk signature", map[string]any{"alg": "none", "kid": "ed-1"}, []byte("junk-signature")},
		{"alg missing", map[string]any{"kid": "ed-1"}, nil},
		{"alg empty", map[string]any{"alg": "", "kid": "ed-1"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			token := craft(t, c.header, f.claims(), c.sig)
			_, err := f.v.Verify(token)
			wantReason(t, token, err, reasonAlgNotAllowed)
		})
	}
}

// The classic key-confusion attack: an HS256 token whose HMAC key is the
// server's RSA or EC public key, which anyone can download. It must fail
// with or without an HMAC secret configured.
func TestHMACWithPublicKeyRejected(t *testing.T) {
	rs := newRSAKey(t, "rsa-1", jwa.RS256, true)
	ec := newECKey(t, "ec-1")
	ed := newEdKey(t, "ed-1")
	var edRaw any
	must(t, ed.pub.Raw(&edRaw))
	// An Ed25519 public key is 32 bytes, a ready-made HMAC secret.
	var secrets = map[string][]byte{"Ed25519 raw": edRaw.(ed25519.PublicKey)}
	for name, k := range map[string]*testKey{"RSA": rs, "EC": ec} {
		var raw any
		must(t, k.pub.Raw(&raw))
		der, err := x509.MarshalPKIXPublicKey(raw)
		must(t, err)
		jwkJSON, err := json.Marshal(k.pub)
		must(t, err)
		secrets[name+" PEM"] = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		secrets[name+" DER"] = der
		secrets[name+" JWK"] = jwkJSON
	}
	file := writeJWKS(t, rs.pub, ec.pub, ed.pub)
	withoutSecret := newVerifier(t, Config{JWKSFile: file})
	withSecret := newVerifier(t, Config{JWKSFile: file, HMACSecret: randomBytes(t, 32)})
	for name, secret := range secrets {
		for _, kid := range []string{"rsa-1", "ec-1", "ed-1", ""} {
			for _, alg := range []jwa.SignatureAlgorithm{jwa.HS256, jwa.HS512} {
				token := mint(t, alg, secret, map[string]any{"kid": nilIfEmpty(kid)}, claimsAt(time.Now()))
				t.Run(name+"/"+kid+"/"+alg.String(), func(t *testing.T) {
					_, err := withoutSecret.Verify(token)
					wantReason(t, token, err, reasonAlgNotAllowed)
					_, err = withSecret.Verify(token)
					wantReason(t, token, err, reasonSignature)
				})
			}
		}
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// A JWK set is public: an oct key published in it must never become an
// HMAC secret, and an encryption key must never verify signatures.
func TestJWKSetKeysNotForSignaturesAreDropped(t *testing.T) {
	octSecret := randomBytes(t, 32)
	oct, err := jwk.FromRaw(octSecret)
	must(t, err)
	must(t, oct.Set(jwk.KeyIDKey, "oct-1"))
	must(t, oct.Set(jwk.AlgorithmKey, jwa.HS256))
	enc := newEdKey(t, "enc-1")
	must(t, enc.pub.Set(jwk.KeyUsageKey, "enc"))
	wrap := newEdKey(t, "wrap-1")
	must(t, wrap.pub.Set(jwk.KeyOpsKey, jwk.KeyOperationList{jwk.KeyOpWrapKey}))
	sig := newEdKey(t, "sig-1")
	must(t, sig.pub.Set(jwk.KeyUsageKey, "sig"))
	file := writeJWKS(t, oct, enc.pub, wrap.pub, sig.pub)

	for name, cfg := range map[string]Config{
		"without secret":         {JWKSFile: file},
		"with another secret":    {JWKSFile: file, HMACSecret: randomBytes(t, 32)},
		"same keys from a URL":   {JWKSURL: newJWKSServer(t, oct, enc.pub, wrap.pub, sig.pub).URL},
		"URL and another secret": {JWKSURL: newJWKSServer(t, oct, enc.pub, wrap.pub, sig.pub).URL, HMACSecret: randomBytes(t, 32)},
	} {
		t.Run(name, func(t *testing.T) {
			got := newRefreshes()
			cfg.OnRefresh = got.observe
			v := newVerifier(t, cfg)
			if cfg.JWKSURL != "" {
				must(t, got.next(t))
			}
			mustVerify(t, v, sig.sign(t, claimsAt(time.Now())))

			hmacReason := reasonAlgNotAllowed
			if cfg.HMACSecret != nil {
				hmacReason = reasonSignature
			}
			token := mint(t, jwa.HS256, octSecret, map[string]any{"kid": "oct-1"}, claimsAt(time.Now()))
			_, err := v.Verify(token)
			wantReason(t, token, err, hmacReason)
			for _, k := range []*testKey{enc, wrap} {
				token := k.sign(t, claimsAt(time.Now()))
				_, err := v.Verify(token)
				wantReason(t, token, err, reasonUnknownKid)
			}
		})
	}
}

// Keys come from configuration only: a token cannot bring its own key by
// URL (jku, x5u) or inline (jwk).
func TestKeyHeadersNeverFollowed(t *testing.T) {
	f := newFixture(t)
	attacker := newEdKey(t, "attacker")
	var fetched atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetched.Add(1)
		w.Write(jwksJSON(t, attacker.pub))
	}))
	defer evil.Close()
	attackerJWK, err := json.Marshal(attacker.pub)
	must(t, err)
	var inline map[string]any
	must(t, json.Unmarshal(attackerJWK, &inline))

	for _, c := range []struct {
		name   string
		kid    string // kid in the header
		header map[string]any
		reason string
	}{
		{"jku, attacker kid", "attacker", map[string]any{"jku": evil.URL}, reasonUnknownKid},
		{"x5u, attacker kid", "attacker", map[string]any{"x5u": evil.URL}, reasonUnknownKid},
		{"jwk, attacker kid", "attacker", map[string]any{"jwk": inline}, reasonUnknownKid},
		{"jku, trusted kid", "ed-1", map[string]any{"jku": evil.URL}, reasonSignature},
		{"jwk, trusted kid", "ed-1", map[string]any{"jwk": inline}, reasonSignature},
	} {
		t.Run(c.name, func(t *testing.T) {
			header := map[string]any{"kid": c.kid}
			for k, v := range c.header {
				header[k] = v
			}
			token := mintRaw(t, attacker, header, f.claims())
			_, err := f.v.Verify(token)
			wantReason(t, token, err, c.reason)
		})
	}
	if n := fetched.Load(); n != 0 {
		t.Errorf("the attacker's key server was fetched %d times", n)
	}
}

// mintRaw signs with k but sets header fields verbatim, jwk included
// (jws.Headers wants a jwk.Key there; a map is what goes on the wire).
func mintRaw(t *testing.T, k *testKey, header, claims map[string]any) string {
	t.Helper()
	inline, hasJWK := header["jwk"]
	if !hasJWK {
		return mint(t, k.alg, k.priv, header, claims)
	}
	key, err := jwk.ParseKey(mustJSON(t, inline))
	must(t, err)
	h := map[string]any{}
	for name, v := range header {
		h[name] = v
	}
	h["jwk"] = key
	return mint(t, k.alg, k.priv, h, claims)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	return b
}

// RFC 7515 §4.1.11: a "crit" header names extensions the recipient must
// understand, or reject the token. Gatehouse understands none, so every
// crit is refused, whatever it lists, on every key path, and a correctly
// signed token is no exception. The signature is made by hand, over the
// exact header bytes, so jwx cannot drop or rewrite the header.
func TestCriticalHeaderRejected(t *testing.T) {
	f := newFixture(t)
	claims := f.claims()
	signEd := func(input string) []byte { return ed25519.Sign(f.ed.priv.(ed25519.PrivateKey), []byte(input)) }
	signHS := func(input string) []byte {
		m := hmac.New(sha256.New, f.secret)
		m.Write([]byte(input))
		return m.Sum(nil)
	}
	for _, c := range []struct {
		name   string
		header map[string]any
		sign   func(string) []byte
	}{
		{"EdDSA, unknown extension", map[string]any{"alg": "EdDSA", "kid": "ed-1", "crit": []string{"urn:example:must-understand"}, "urn:example:must-understand": true}, signEd},
		{"EdDSA, crit naming exp", map[string]any{"alg": "EdDSA", "kid": "ed-1", "crit": []string{"exp"}}, signEd},
		{"EdDSA, b64 false", map[string]any{"alg": "EdDSA", "kid": "ed-1", "crit": []string{"b64"}, "b64": false}, signEd},
		{"EdDSA, empty crit", map[string]any{"alg": "EdDSA", "kid": "ed-1", "crit": []string{}}, signEd},
		{"HS256, unknown extension", map[string]any{"alg": "HS256", "crit": []string{"x-ext"}, "x-ext": 1}, signHS},
	} {
		t.Run(c.name, func(t *testing.T) {
			input := b64JSON(t, c.header) + "." + b64JSON(t, claims)
			token := input + "." + base64.RawURLEncoding.EncodeToString(c.sign(input))
			_, err := f.v.Verify(token)
			var te *TokenError
			if !errors.As(err, &te) {
				t.Fatalf("accepted or not a token error: %v", err)
			}
			if te.Reason != reasonCritical {
				t.Errorf("reason %q, want %q", te.Reason, reasonCritical)
			}
			// Rejected again, not served from the verified-token cache.
			f.v.cache.wait()
			if _, err := f.v.Verify(token); err == nil {
				t.Error("accepted the second time")
			}
		})
	}
	// The same construction without crit verifies: the cases above fail
	// for crit alone.
	for name, c := range map[string]struct {
		header map[string]any
		sign   func(string) []byte
	}{
		"EdDSA": {map[string]any{"alg": "EdDSA", "kid": "ed-1"}, signEd},
		"HS256": {map[string]any{"alg": "HS256"}, signHS},
	} {
		input := b64JSON(t, c.header) + "." + b64JSON(t, claims)
		if _, err := f.v.Verify(input + "." + base64.RawURLEncoding.EncodeToString(c.sign(input))); err != nil {
			t.Errorf("%s baseline without crit: %v", name, err)
		}
	}
}
