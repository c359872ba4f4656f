package authn

import (
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
)

type benchCase struct{ name, token string }

// benchSetup returns a config trusting one key per alg and a token of each.
func benchSetup(b *testing.B) (Config, []benchCase) {
	b.Helper()
	ed, ec := newEdKey(b, "ed"), newECKey(b, "ec")
	rs := newRSAKey(b, "rs", jwa.RS256, true)
	secret := randomBytes(b, 32)
	claims := claimsAt(time.Now(), "exp", time.Now().Add(24*time.Hour).Unix())
	cfg := Config{JWKSFile: writeJWKS(b, ed.pub, ec.pub, rs.pub), HMACSecret: secret}
	return cfg, []benchCase{
		{"EdDSA", ed.sign(b, claims)},
		{"ES256", ec.sign(b, claims)},
		{"RS256", rs.sign(b, claims)},
		{"HS256", mint(b, jwa.HS256, secret, nil, claims)},
	}
}

// BenchmarkVerifyFirst is a full verification: the cache is disabled.
func BenchmarkVerifyFirst(b *testing.B) {
	cfg, cases := benchSetup(b)
	cfg.CacheSize = -1
	v := newVerifier(b, cfg)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(c.token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyRepeated is a token seen before: a cache hit (README "Performance targets":
// at most 2µs).
func BenchmarkVerifyRepeated(b *testing.B) {
	cfg, cases := benchSetup(b)
	cfg.CacheSize = DefaultCacheSize
	v := newVerifier(b, cfg)
	hits := countHits(v)
	for _, c := range cases {
		waitCached(b, v, c.token, hits)
	}
	v.onCacheHit = nil
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(c.token); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := v.Verify(c.token); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
