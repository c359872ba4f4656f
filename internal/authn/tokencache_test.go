package authn

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
)

// countHits counts v's cache hits. Call before using v concurrently.
func countHits(v *Verifier) *atomic.Int64 {
	var n atomic.Int64
	v.onCacheHit = func() { n.Add(1) }
	return &n
}

// waitCached verifies token until it is a cache hit: ristretto applies
// Sets asynchronously and may drop one.
func waitCached(t testing.TB, v *Verifier, token string, hits *atomic.Int64) {
	t.Helper()
	for range 20 {
		v.cache.wait()
		before := hits.Load()
		mustVerify(t, v, token)
		if hits.Load() > before {
			return
		}
	}
	t.Fatal("token never served from the cache")
}

func TestRepeatedTokenIsCacheHit(t *testing.T) {
	f := newFixture(t)
	hits := countHits(f.v)
	for name, token := range map[string]string{
		"EdDSA": f.ed.sign(t, f.claims()),
		"ES256": f.ec.sign(t, f.claims()),
		"RS256": f.rs.sign(t, f.claims()),
		"HS256": f.hmacToken(t, jwa.HS256, f.claims()),
	} {
		t.Run(name, func(t *testing.T) {
			first := mustVerify(t, f.v, token)
			if first.Cached {
				t.Fatal("first verification reported as cached")
			}
			waitCached(t, f.v, token, hits)
			want := first
			want.Cached = true
			if again := mustVerify(t, f.v, token); again != want {
				t.Errorf("cached principal %+v, want %+v", again, want)
			}
		})
	}
}

// A cached principal is never returned past exp + leeway, whatever
// ristretto's TTL says.
func TestCacheHitStopsAtExpiry(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Leeway = 10 * time.Second })
	hits := countHits(f.v)
	exp := f.clock.Now().Add(time.Minute)
	token := f.ed.sign(t, f.claims("exp", exp.Unix()))
	mustVerify(t, f.v, token)
	waitCached(t, f.v, token, hits)

	f.clock.Advance(exp.Add(9*time.Second).Sub(f.clock.Now()) + 500*time.Millisecond) // within leeway
	before := hits.Load()
	mustVerify(t, f.v, token)
	if hits.Load() != before+1 {
		t.Error("not a cache hit within exp + leeway")
	}

	f.clock.Advance(500 * time.Millisecond) // exactly exp + leeway
	before = hits.Load()
	_, err := f.v.Verify(token)
	wantReason(t, token, err, reasonExpired)
	if hits.Load() != before {
		t.Error("expired token served from the cache")
	}
}

// Any change of the usable keys invalidates cached verifications; a
// refresh that changes nothing keeps them.
func TestCacheGeneration(t *testing.T) {
	f := newURLFixture(t)
	hits := countHits(f.v)
	tokenA := f.token(t, f.a)
	mustVerify(t, f.v, tokenA)
	waitCached(t, f.v, tokenA, hits)

	gen := f.v.keys.Load().gen
	must(t, f.refresh(t)) // same set
	if g := f.v.keys.Load().gen; g != gen {
		t.Fatalf("generation %d -> %d for an unchanged set", gen, g)
	}
	before := hits.Load()
	mustVerify(t, f.v, tokenA)
	if hits.Load() != before+1 {
		t.Error("an unchanged refresh invalidated the cache")
	}

	f.serve(t, f.a.pub, f.b.pub) // a is kept, b is added
	must(t, f.refresh(t))
	if g := f.v.keys.Load().gen; g != gen+1 {
		t.Fatalf("generation %d -> %d for a changed set, want +1", gen, g)
	}
	before = hits.Load()
	mustVerify(t, f.v, tokenA)
	if hits.Load() != before {
		t.Error("cache hit across a key-set change")
	}
	waitCached(t, f.v, tokenA, hits) // re-verified under the new generation
}

// The cache is keyed by a hash: an entry found for a token must be that
// token's, or be ignored.
func TestCacheChecksEveryField(t *testing.T) {
	c, err := newTokenCache(16)
	must(t, err)
	p := Principal{Subject: "alice"}
	now := t0
	deadline := now.Add(time.Minute).UnixNano()
	put := func(key string, e *cacheEntry) {
		c.rc.Set(key, e, 1)
		c.wait()
	}

	put("token-x", &cacheEntry{token: "token-y", gen: 1, deadline: deadline, principal: p})
	if _, ok := c.get("token-x", 1, now); ok {
		t.Error("hit on an entry stored for another token")
	}
	put("token-x", &cacheEntry{token: "token-x", gen: 1, deadline: deadline, principal: p})
	if got, ok := c.get("token-x", 1, now); !ok || got.Subject != p.Subject || !got.Cached {
		t.Fatalf("miss on a valid entry (%v, %+v)", ok, got)
	}
	if _, ok := c.get("token-x", 2, now); ok {
		t.Error("hit under another generation")
	}
	if _, ok := c.get("token-x", 1, time.Unix(0, deadline)); ok {
		t.Error("hit at the deadline")
	}
}

func TestExpiredTokenNotCached(t *testing.T) {
	c, err := newTokenCache(16)
	must(t, err)
	c.add("token", 1, Principal{Subject: "alice"}, t0, t0) // deadline reached
	c.wait()
	if _, ok := c.rc.Get("token"); ok {
		t.Error("a token at its deadline was cached")
	}
}

func TestCacheDisabled(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.CacheSize = -1 })
	if f.v.cache != nil {
		t.Fatal("cache created with CacheSize -1")
	}
	hits := countHits(f.v)
	token := f.ed.sign(t, f.claims())
	for range 3 {
		mustVerify(t, f.v, token)
	}
	if hits.Load() != 0 {
		t.Errorf("%d cache hits with the cache disabled", hits.Load())
	}
}

// ristretto's Close races with Get and Set, so the cache is closed only
// once unreachable; check that it is.
func TestTokenCacheClosedWhenUnreachable(t *testing.T) {
	c, err := newTokenCache(16)
	must(t, err)
	rc := c.rc
	c = nil
	deadline := time.Now().Add(10 * time.Second)
	for rc.Set("probe", &cacheEntry{}, 1) {
		if time.Now().After(deadline) {
			t.Fatal("cache still open 10s after becoming unreachable")
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// Many goroutines verify while keys rotate underneath; run with -race.
func TestVerifyConcurrentWithRotation(t *testing.T) {
	secret := randomBytes(t, 32)
	f := newURLFixture(t, func(c *Config) { c.HMACSecret = secret })
	tokens := map[string]string{
		"a":    f.token(t, f.a),
		"b":    f.token(t, f.b),
		"hmac": mint(t, jwa.HS256, secret, nil, claimsAt(f.clock.Now())),
		"bad":  newEdKey(t, "a").sign(t, claimsAt(f.clock.Now())),
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var verified atomic.Int64
	for i := range 8 {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				name := []string{"a", "b", "hmac", "bad"}[(i+n)%4]
				p, err := f.v.Verify(tokens[name])
				var te *TokenError
				switch {
				case err == nil && name == "bad":
					t.Error("token of an impostor key verified")
				case err == nil && p.Subject != "alice":
					t.Errorf("principal %+v", p)
				case err == nil:
					verified.Add(1)
				case !errors.As(err, &te):
					t.Errorf("%s: unexpected error %v", name, err)
				case name == "hmac":
					t.Errorf("HMAC token rejected: %v", err)
				}
			}
		})
	}
	for i := range 6 {
		if i%2 == 0 {
			f.serve(t, f.b.pub)
		} else {
			f.serve(t, f.a.pub)
		}
		// One fetch per minute of fake time, whoever triggers it: this
		// loop, or a worker meeting an unknown kid.
		f.clock.Advance(time.Minute)
		f.v.refresher.trigger()
		must(t, f.got.next(t))
	}
	close(stop)
	wg.Wait()
	if verified.Load() == 0 {
		t.Fatal("nothing verified")
	}
}
