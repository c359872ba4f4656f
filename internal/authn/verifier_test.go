package authn

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// fixture is a verifier with one key of each kind in a JWK set file, an
// HMAC secret, and a fake clock.
type fixture struct {
	clock  *fakeClock
	ed, ec *testKey
	rs     *testKey // RSA, alg RS256 declared
	ps     *testKey // RSA, no alg declared: any RS*/PS* fits
	secret []byte
	v      *Verifier
}

func newFixture(t *testing.T, change ...func(*Config)) *fixture {
	t.Helper()
	f := &fixture{
		clock:  newClock(),
		ed:     newEdKey(t, "ed-1"),
		ec:     newECKey(t, "ec-1"),
		rs:     newRSAKey(t, "rsa-1", jwa.RS256, true),
		ps:     newRSAKey(t, "rsa-any", jwa.PS256, false),
		secret: randomBytes(t, 64),
	}
	cfg := Config{
		JWKSFile:   writeJWKS(t, f.ed.pub, f.ec.pub, f.rs.pub, f.ps.pub),
		HMACSecret: f.secret,
		Now:        f.clock.Now,
	}
	for _, c := range change {
		c(&cfg)
	}
	f.v = newVerifier(t, cfg)
	return f
}

func (f *fixture) claims(kv ...any) map[string]any { return claimsAt(f.clock.Now(), kv...) }

// hmacToken is a token signed with the fixture's secret.
func (f *fixture) hmacToken(t *testing.T, alg jwa.SignatureAlgorithm, claims map[string]any) string {
	return mint(t, alg, f.secret, map[string]any{"typ": "JWT"}, claims)
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	must(t, err)
	return b
}

func TestVerifyValidTokenPerAlg(t *testing.T) {
	f := newFixture(t)
	cases := map[string]string{
		"EdDSA":          f.ed.sign(t, f.claims()),
		"ES256":          f.ec.sign(t, f.claims()),
		"RS256":          f.rs.sign(t, f.claims()),
		"PS256 inferred": f.ps.sign(t, f.claims()),
		"HS256":          f.hmacToken(t, jwa.HS256, f.claims()),
		"HS384":          f.hmacToken(t, jwa.HS384, f.claims()),
		"HS512":          f.hmacToken(t, jwa.HS512, f.claims()),
		"HS256 with kid": mint(t, jwa.HS256, f.secret, map[string]any{"kid": "whatever"}, f.claims()),
	}
	want := Principal{Subject: "alice", Email: "alice@example.com", EmailVerified: True, ExpiresAt: t0.Add(time.Hour)}
	for name, token := range cases {
		t.Run(name, func(t *testing.T) {
			p := mustVerify(t, f.v, token)
			if !p.ExpiresAt.Equal(want.ExpiresAt) {
				t.Errorf("ExpiresAt %v, want %v", p.ExpiresAt, want.ExpiresAt)
			}
			p.ExpiresAt = want.ExpiresAt
			if p != want {
				t.Errorf("principal %+v, want %+v", p, want)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.Issuer = "https://idp.example.com/"
		c.Audience = "orders-api"
	})
	now := f.clock.Now()
	good := func(kv ...any) map[string]any {
		return f.claims(append([]any{"iss", "https://idp.example.com/", "aud", []string{"other", "orders-api"}}, kv...)...)
	}
	// The baseline must pass, or every case below proves nothing.
	mustVerify(t, f.v, f.ed.sign(t, good()))

	tampered := func() string {
		parts := strings.Split(f.ed.sign(t, good()), ".")
		parts[1] = b64JSON(t, good("sub", "root"))
		return strings.Join(parts, ".")
	}
	cases := []struct {
		name, token, reason string
	}{
		{"expired", f.ed.sign(t, good("exp", now.Add(-time.Second).Unix())), reasonExpired},
		{"exp missing", f.ed.sign(t, good("exp", absent)), reasonMissingExp},
		{"exp zero", f.ed.sign(t, good("exp", 0)), reasonExpired},
		{"exp not a number", f.ed.sign(t, good("exp", "tomorrow")), reasonClaims},
		{"nbf in the future", f.ed.sign(t, good("nbf", now.Add(time.Minute).Unix())), reasonNotYetValid},
		{"iat in the future", f.ed.sign(t, good("iat", now.Add(time.Minute).Unix())), reasonIssuedInFuture},
		{"wrong issuer", f.ed.sign(t, good("iss", "https://evil.example.com/")), reasonIssuer},
		{"issuer missing", f.ed.sign(t, good("iss", absent)), reasonIssuer},
		{"wrong audience", f.ed.sign(t, good("aud", []string{"billing-api"})), reasonAudience},
		{"audience missing", f.ed.sign(t, good("aud", absent)), reasonAudience},
		{"tampered payload", tampered(), reasonSignature},
		{"signed by another key under a known kid", newEdKey(t, "ed-1").sign(t, good()), reasonSignature},
		{"missing kid", mint(t, jwa.EdDSA, f.ed.priv, nil, good()), reasonMissingKid},
		{"unknown kid", newEdKey(t, "ed-2").sign(t, good()), reasonUnknownKid},
		{"ES256 under an Ed25519 kid", mint(t, jwa.ES256, f.ec.priv, map[string]any{"kid": "ed-1"}, good()), reasonAlgKeyMismatch},
		{"EdDSA under an ES256 kid", mint(t, jwa.EdDSA, f.ed.priv, map[string]any{"kid": "ec-1"}, good()), reasonAlgKeyMismatch},
		{"PS256 under an RS256 key", mint(t, jwa.PS256, f.rs.priv, map[string]any{"kid": "rsa-1"}, good()), reasonAlgKeyMismatch},
		{"empty subject", f.ed.sign(t, good("sub", "")), "sub claim must be a non-empty string"},
		{"subject missing", f.ed.sign(t, good("sub", absent)), "sub claim must be a non-empty string"},
		{"subject not a string", f.ed.sign(t, good("sub", 42)), "sub claim must be a non-empty string"},
		{"subject impersonating an API key", f.ed.sign(t, good("sub", "apikey:abc")), "sub claim must not start with apikey: (reserved for API keys)"},
		{"subject with LF", f.ed.sign(t, good("sub", "alice\nX-Gatehouse-User: root")), "sub claim contains control characters"},
		{"subject with NUL", f.ed.sign(t, good("sub", "alice\x00")), "sub claim contains control characters"},
		{"subject with DEL", f.ed.sign(t, good("sub", "alice\x7f")), "sub claim contains control characters"},
		{"subject with a trailing space", f.ed.sign(t, good("sub", "alice ")), "sub claim has surrounding white space"},
		{"subject with a leading space", f.ed.sign(t, good("sub", " alice")), "sub claim has surrounding white space"},
		{"subject with a tab", f.ed.sign(t, good("sub", "alice\t")), "sub claim contains control characters"},
		{"subject with a C1 control", f.ed.sign(t, good("sub", "alice\u0085")), "sub claim contains control characters"},
		{"subject with a trailing NBSP", f.ed.sign(t, good("sub", "alice\u00a0")), "sub claim has surrounding white space"},
		{"subject with a leading BOM", f.ed.sign(t, good("sub", "\ufeffalice")), "sub claim has surrounding white space"},
		{"space then an API key subject", f.ed.sign(t, good("sub", " apikey:abc")), "sub claim has surrounding white space"},
		{"API key subject in upper case", f.ed.sign(t, good("sub", "APIKEY:abc")), "sub claim must not start with apikey: (reserved for API keys)"},
		{"email with a trailing space", f.ed.sign(t, good("email", "a@example.com ")), "email claim has surrounding white space"},
		{"email with a tab", f.ed.sign(t, good("email", "\ta@example.com")), "email claim contains control characters"},
		{"subject too long", f.ed.sign(t, good("sub", strings.Repeat("a", 256))), "sub claim is too long"},
		{"email not a string", f.ed.sign(t, good("email", []string{"a@example.com"})), "email claim must be a string"},
		{"email with CR", f.ed.sign(t, good("email", "a@example.com\r")), "email claim contains control characters"},
		{"HMAC with a wrong secret", mint(t, jwa.HS256, randomBytes(t, 32), nil, good()), reasonSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.v.Verify(c.token)
			wantReason(t, c.token, err, c.reason)
		})
	}
}

// With only an HMAC secret there is no key set: other algs are not allowed,
// rather than looked up in an empty set.
func TestHMACOnlyRejectsOtherAlgs(t *testing.T) {
	secret := randomBytes(t, 32)
	v := newVerifier(t, Config{HMACSecret: secret})
	mustVerify(t, v, mint(t, jwa.HS256, secret, nil, claimsAt(time.Now())))
	token := newEdKey(t, "k").sign(t, claimsAt(time.Now()))
	_, err := v.Verify(token)
	wantReason(t, token, err, reasonAlgNotAllowed)
}

func TestVerifySubjectBounds(t *testing.T) {
	f := newFixture(t)
	for _, sub := range []string{strings.Repeat("a", 255), "user with spaces", "ünïcödé", "auth0|abc123"} {
		if p := mustVerify(t, f.v, f.ed.sign(t, f.claims("sub", sub))); p.Subject != sub {
			t.Errorf("subject %q, want %q", p.Subject, sub)
		}
	}
}

func TestLeeway(t *testing.T) {
	for _, c := range []struct {
		name   string
		leeway time.Duration
		claim  string
		offset time.Duration
		reason string // "" = accepted
	}{
		{"expired within leeway", 30 * time.Second, "exp", -10 * time.Second, ""},
		{"expired beyond leeway", 5 * time.Second, "exp", -10 * time.Second, reasonExpired},
		{"expired exactly at leeway", 10 * time.Second, "exp", -10 * time.Second, reasonExpired},
		{"nbf within leeway", 30 * time.Second, "nbf", 10 * time.Second, ""},
		{"nbf beyond leeway", 5 * time.Second, "nbf", 10 * time.Second, reasonNotYetValid},
		{"iat within leeway", 30 * time.Second, "iat", 10 * time.Second, ""},
		{"iat beyond leeway", 5 * time.Second, "iat", 10 * time.Second, reasonIssuedInFuture},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, func(cfg *Config) { cfg.Leeway = c.leeway })
			token := f.ed.sign(t, f.claims(c.claim, f.clock.Now().Add(c.offset).Unix()))
			_, err := f.v.Verify(token)
			if c.reason == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			wantReason(t, token, err, c.reason)
		})
	}
}

func TestEmailVerified(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		value any
		want  Tristate
	}{
		{true, True},
		{false, False},
		{absent, Unknown},
		{"true", True},   // AWS Cognito
		{"false", False}, // AWS Cognito
		{1, False},       // cannot prove it verified
		{"yes", False},
	} {
		p := mustVerify(t, f.v, f.ed.sign(t, f.claims("email_verified", c.value)))
		if p.EmailVerified != c.want {
			t.Errorf("email_verified %#v: got %v, want %v", c.value, p.EmailVerified, c.want)
		}
	}
	p := mustVerify(t, f.v, f.ed.sign(t, f.claims("email", absent)))
	if p.Email != "" {
		t.Errorf("email %q without an email claim", p.Email)
	}
}

func TestCustomClaims(t *testing.T) {
	key := newEdKey(t, "k")
	v := newVerifier(t, Config{JWKSFile: writeJWKS(t, key.pub), UserClaim: "oid", EmailClaim: "mail"})
	p := mustVerify(t, v, key.sign(t, claimsAt(time.Now(), "oid", "u-123", "mail", "u@example.com")))
	if p.Subject != "u-123" || p.Email != "u@example.com" {
		t.Errorf("principal %+v", p)
	}
	for _, c := range []struct {
		name, token, reason string
	}{
		{"oid absent", key.sign(t, claimsAt(time.Now())), "oid claim must be a non-empty string"},
		{"oid a number", key.sign(t, claimsAt(time.Now(), "oid", 7)), "oid claim must be a non-empty string"},
		{"mail an object", key.sign(t, claimsAt(time.Now(), "oid", "u", "mail", map[string]any{})), "mail claim must be a string"},
	} {
		_, err := v.Verify(c.token)
		wantReason(t, c.token, err, c.reason)
	}
}

func TestMalformedTokens(t *testing.T) {
	f := newFixture(t)
	valid := f.ed.sign(t, f.claims())
	parts := strings.Split(valid, ".")
	for name, c := range map[string]struct{ token, reason string }{
		"empty":            {"", reasonMalformed},
		"one segment":      {"abc", reasonMalformed},
		"two segments":     {parts[0] + "." + parts[1], reasonMalformed},
		"four segments":    {valid + ".abc", reasonMalformed},
		"empty header":     {"." + parts[1] + "." + parts[2], reasonMalformed},
		"empty payload":    {parts[0] + ".." + parts[2], reasonMalformed},
		"padding":          {valid + "=", reasonMalformed},
		"standard base64":  {parts[0] + "." + parts[1] + "+/." + parts[2], reasonMalformed},
		"space":            {" " + valid, reasonMalformed},
		"JSON serialized":  {`{"payload":"e30","signatures":[]}`, reasonMalformed},
		"header not JSON":  {"bm90IGpzb24." + parts[1] + "." + parts[2], reasonMalformed},
		"unknown alg":      {b64JSON(t, map[string]any{"alg": "XX999", "kid": "ed-1"}) + "." + parts[1] + "." + parts[2], reasonAlgNotAllowed},
		"too large":        {strings.Repeat("a", MaxTokenLen-1) + ".b.c", reasonTooLarge},
		"payload not JSON": {parts[0] + ".bm90IGpzb24." + parts[2], reasonClaims},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.v.Verify(c.token)
			wantReason(t, c.token, err, c.reason)
		})
	}
}

func TestErrorsNeverQuoteTheToken(t *testing.T) {
	f := newFixture(t)
	// A kid and claims an attacker chose: none may be echoed.
	token := newEdKey(t, "attacker-chosen-kid-0123456789").sign(t, f.claims("sub", "attacker-chosen-subject-0123456789"))
	_, err := f.v.Verify(token)
	for _, s := range []string{"attacker-chosen", token} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q quotes the token", err)
		}
	}
}

func TestNewVerifierConfigErrors(t *testing.T) {
	oct, err := jwk.FromRaw(randomBytes(t, 32))
	must(t, err)
	must(t, oct.Set(jwk.KeyIDKey, "oct"))
	enc := newEdKey(t, "enc").pub
	must(t, enc.Set(jwk.KeyUsageKey, "enc"))
	noKid := newEdKey(t, "no-kid").pub
	must(t, noKid.Remove(jwk.KeyIDKey))
	missing := t.TempDir() + "/nope.json"
	for _, c := range []struct {
		name string
		cfg  Config
		want []string // substrings of the error
	}{
		{"no source", Config{}, []string{"jwks_file", "jwks_url", "hmac_secret"}},
		{"short secret", Config{HMACSecret: []byte("0123456789abcdef")}, []string{"hmac_secret is 16 bytes", "at least 32"}},
		{"http URL", Config{JWKSURL: "http://idp.example.com/jwks.json"}, []string{"https"}},
		{"ftp URL", Config{JWKSURL: "ftp://idp.example.com/jwks.json"}, []string{"https"}},
		{"relative URL", Config{JWKSURL: "/jwks.json"}, []string{"https"}},
		{"negative leeway", Config{HMACSecret: randomBytes(t, 32), Leeway: -time.Second}, []string{"leeway"}},
		{"missing file", Config{JWKSFile: missing}, []string{missing}},
		{"not a JWK set", Config{JWKSFile: writeFile(t, []byte("not json"))}, []string{"jwks.json", "not a valid JWK set"}},
		{"only oct and enc keys", Config{JWKSFile: writeJWKS(t, oct, enc)}, []string{"jwks.json", "no usable signature key"}},
		{"key without kid", Config{JWKSFile: writeJWKS(t, noKid)}, []string{"no usable signature key"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := NewVerifier(t.Context(), c.cfg)
			if err == nil {
				v.Close()
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

func TestNewVerifierAcceptsLoopbackHTTP(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:1/jwks", "http://localhost:1/jwks", "http://[::1]:1/jwks", "https://idp.example.com/jwks"} {
		if err := checkJWKSURL(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"http://10.0.0.1/jwks", "http://localhost.evil.com/jwks", "https:///jwks"} {
		if err := checkJWKSURL(u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
}

func TestHMACSecretIsCopied(t *testing.T) {
	secret := randomBytes(t, 32)
	v := newVerifier(t, Config{HMACSecret: secret})
	token := mint(t, jwa.HS256, secret, nil, claimsAt(time.Now()))
	clear(secret)
	if _, err := v.Verify(token); err != nil {
		t.Fatalf("the verifier uses the caller's slice: %v", err)
	}
}

func TestTokenErrorIsDistinctFromKeysUnavailable(t *testing.T) {
	var te *TokenError
	if errors.As(ErrKeysUnavailable, &te) {
		t.Fatal("ErrKeysUnavailable is a TokenError")
	}
}
