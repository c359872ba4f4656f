package authn

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// urlFixture is a verifier of a JWK set URL served by a test server.
type urlFixture struct {
	clock *fakeClock
	a, b  *testKey
	srv   *jwksServer
	got   refreshes
	v     *Verifier
}

// newURLFixture serves key a, and waits for the verifier's first fetch.
func newURLFixture(t *testing.T, change ...func(*Config)) *urlFixture {
	t.Helper()
	f := &urlFixture{clock: newClock(), a: newEdKey(t, "a"), b: newEdKey(t, "b"), got: newRefreshes()}
	f.srv = newJWKSServer(t, f.a.pub)
	cfg := Config{
		JWKSURL:            f.srv.URL,
		RefreshInterval:    time.Hour, // refreshes in these tests are triggered
		MinRefreshInterval: time.Minute,
		OnRefresh:          f.got.observe,
		Now:                f.clock.Now,
	}
	for _, c := range change {
		c(&cfg)
	}
	f.v = newVerifier(t, cfg)
	must(t, f.got.next(t))
	return f
}

func (f *urlFixture) token(t *testing.T, k *testKey) string {
	return k.sign(t, claimsAt(f.clock.Now()))
}

// serve makes the server publish keys.
func (f *urlFixture) serve(t *testing.T, keys ...jwk.Key) {
	f.srv.serve(http.StatusOK, jwksJSON(t, keys...))
}

// refresh triggers a refresh with a token of an unknown kid, past the
// rate limit, and returns the fetch's error.
func (f *urlFixture) refresh(t *testing.T) error {
	t.Helper()
	f.clock.Advance(time.Minute)
	token := newEdKey(t, "unknown").sign(t, claimsAt(f.clock.Now()))
	_, err := f.v.Verify(token)
	wantReason(t, token, err, reasonUnknownKid)
	return f.got.next(t)
}

func TestJWKSURLFetchedInBackground(t *testing.T) {
	f := newURLFixture(t)
	if !f.v.Ready() {
		t.Fatal("not ready after a successful fetch")
	}
	if p := mustVerify(t, f.v, f.token(t, f.a)); p.Subject != "alice" {
		t.Fatalf("principal %+v", p)
	}
	if n := f.srv.hits.Load(); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
}

// NewVerifier and Verify return at once while the provider hangs.
func TestJWKSURLNeverBlocksOnTheNetwork(t *testing.T) {
	release := make(chan struct{})
	a := newEdKey(t, "a")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
			w.Write(jwksJSON(t, a.pub))
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	got := newRefreshes()

	start := time.Now()
	v := newVerifier(t, Config{JWKSURL: srv.URL, OnRefresh: got.observe})
	token := a.sign(t, claimsAt(time.Now()))
	_, err := v.Verify(token)
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("NewVerifier and Verify took %v while the provider hangs", elapsed)
	}
	if !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("Verify before the first fetch: %v, want ErrKeysUnavailable", err)
	}
	if v.Ready() {
		t.Error("ready before the first fetch")
	}
	release <- struct{}{}
	must(t, got.next(t))
	mustVerify(t, v, token)
}

// Until the URL has been fetched, a token only it could verify fails
// closed (503), not as an invalid token (401); other sources still work.
func TestJWKSURLNeverFetchedFailsClosed(t *testing.T) {
	srv := newJWKSServer(t)
	srv.serve(http.StatusInternalServerError, []byte("provider down"))
	fileKey := newEdKey(t, "file")
	secret := randomBytes(t, 32)
	got := newRefreshes()
	v := newVerifier(t, Config{
		JWKSURL:    srv.URL,
		JWKSFile:   writeJWKS(t, fileKey.pub),
		HMACSecret: secret,
		OnRefresh:  got.observe,
	})
	if err := got.next(t); err == nil {
		t.Fatal("fetch succeeded against a failing provider")
	}
	if v.Ready() {
		t.Error("ready although the URL was never fetched")
	}

	idpToken := newEdKey(t, "idp").sign(t, claimsAt(time.Now()))
	_, err := v.Verify(idpToken)
	var te *TokenError
	if !errors.Is(err, ErrKeysUnavailable) || errors.As(err, &te) {
		t.Fatalf("token of an unknown kid: %v, want ErrKeysUnavailable", err)
	}
	mustVerify(t, v, fileKey.sign(t, claimsAt(time.Now())))
	mustVerify(t, v, mint(t, "HS256", secret, nil, claimsAt(time.Now())))
	// A token that no key could ever verify is invalid, not unavailable.
	noKid := mint(t, "EdDSA", fileKey.priv, nil, claimsAt(time.Now()))
	_, err = v.Verify(noKid)
	wantReason(t, noKid, err, reasonMissingKid)
}

func TestUnknownKidTriggersRefresh(t *testing.T) {
	f := newURLFixture(t)
	tokenB := f.token(t, f.b)
	f.serve(t, f.a.pub, f.b.pub) // the provider rotates in key b

	_, err := f.v.Verify(tokenB)
	wantReason(t, tokenB, err, reasonUnknownKid)
	must(t, f.got.next(t))
	mustVerify(t, f.v, tokenB)
	mustVerify(t, f.v, f.token(t, f.a))
	if n := f.srv.hits.Load(); n != 2 {
		t.Errorf("%d fetches, want 2", n)
	}
}

func TestUnknownKidRefreshIsRateLimited(t *testing.T) {
	f := newURLFixture(t) // MinRefreshInterval: 1m
	tokenB := f.token(t, f.b)
	flood := func() {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 50 {
					if _, err := f.v.Verify(tokenB); err == nil {
						t.Error("unknown kid verified")
					}
				}
			})
		}
		wg.Wait()
	}

	flood()
	must(t, f.got.next(t))
	f.got.none(t, 200*time.Millisecond)
	f.clock.Advance(59 * time.Second)
	flood()
	f.got.none(t, 200*time.Millisecond)
	if n := f.srv.hits.Load(); n != 2 {
		t.Fatalf("%d fetches within MinRefreshInterval, want 2 (start + one trigger)", n)
	}
	f.clock.Advance(time.Second)
	flood()
	must(t, f.got.next(t))
	f.got.none(t, 200*time.Millisecond)
	if n := f.srv.hits.Load(); n != 3 {
		t.Fatalf("%d fetches, want 3", n)
	}
}

func TestFailedRefreshKeepsLastGoodKeys(t *testing.T) {
	oct, err := jwk.FromRaw(randomBytes(t, 32))
	must(t, err)
	must(t, oct.Set(jwk.KeyIDKey, "oct"))
	for _, c := range []struct {
		name    string
		status  int
		body    []byte
		errText string
	}{
		{"HTTP 500", http.StatusInternalServerError, []byte("secret-diagnostic-body"), "500"},
		{"not JSON", http.StatusOK, []byte("<html>secret-diagnostic-body</html>"), "not valid"},
		{"empty set", http.StatusOK, []byte(`{"keys":[]}`), "no usable signature key"},
		{"only an oct key", http.StatusOK, jwksJSON(t, oct), "no usable signature key"},
		{"over 1 MiB", http.StatusOK, []byte(`{"keys":[],"pad":"` + strings.Repeat("x", maxJWKSSize) + `"}`), "larger than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newURLFixture(t, func(cfg *Config) { cfg.CacheSize = -1 })
			tokenA := f.token(t, f.a)
			mustVerify(t, f.v, tokenA)

			f.srv.serve(c.status, c.body)
			err := f.refresh(t)
			if err == nil || !strings.Contains(err.Error(), c.errText) {
				t.Fatalf("refresh error %v, want one mentioning %q", err, c.errText)
			}
			if strings.Contains(err.Error(), "secret-diagnostic-body") {
				t.Errorf("refresh error %q quotes the response body", err)
			}
			mustVerify(t, f.v, tokenA)
			if !f.v.Ready() {
				t.Error("not ready after a failed refresh")
			}
		})
	}
}

// After a refresh, keys the provider removed stop verifying at once, even
// for a token already in the verified-token cache.
func TestRotationRemovesKeys(t *testing.T) {
	f := newURLFixture(t)
	tokenA, tokenB := f.token(t, f.a), f.token(t, f.b)
	hits := countHits(f.v)
	mustVerify(t, f.v, tokenA)
	waitCached(t, f.v, tokenA, hits)

	f.serve(t, f.b.pub)
	must(t, f.refresh(t))
	_, err := f.v.Verify(tokenA)
	wantReason(t, tokenA, err, reasonUnknownKid)
	mustVerify(t, f.v, tokenB)
}

func TestPeriodicRefresh(t *testing.T) {
	f := newURLFixture(t, func(cfg *Config) { cfg.RefreshInterval = 20 * time.Millisecond })
	tokenB := f.token(t, f.b)
	f.serve(t, f.b.pub)
	// No request triggers it: the timer alone must pick up key b.
	deadline := time.Now().Add(10 * time.Second)
	for {
		must(t, f.got.next(t))
		if f.v.keys.Load().byKID["b"] != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("periodic refresh never installed the new set")
		}
	}
	mustVerify(t, f.v, tokenB)
}

// A provider down at startup is retried soon, not after RefreshInterval.
func TestFailedFetchIsRetried(t *testing.T) {
	a := newEdKey(t, "a")
	srv := newJWKSServer(t)
	srv.serve(http.StatusServiceUnavailable, nil)
	got := newRefreshes()
	v := newVerifier(t, Config{JWKSURL: srv.URL, RefreshInterval: time.Hour, OnRefresh: got.observe})
	if err := got.next(t); err == nil {
		t.Fatal("first fetch succeeded")
	}
	srv.serve(http.StatusOK, jwksJSON(t, a.pub))
	must(t, got.next(t)) // after firstRetryDelay
	if !v.Ready() {
		t.Fatal("not ready after a successful retry")
	}
	mustVerify(t, v, a.sign(t, claimsAt(time.Now())))
}

func TestRetryBackoff(t *testing.T) {
	r := &refresher{minInterval: 30 * time.Second}
	var got []time.Duration
	d := time.Duration(0)
	for range 7 {
		d = r.nextRetry(d)
		got = append(got, d)
	}
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30}
	for i := range want {
		if got[i] != want[i]*time.Second {
			t.Fatalf("retry delays %v, want %v seconds", got, want)
		}
	}
}

func TestCloseStopsRefresher(t *testing.T) {
	f := newURLFixture(t, func(cfg *Config) { cfg.RefreshInterval = 10 * time.Millisecond })
	must(t, f.got.next(t))
	f.v.Close()
	f.v.Close() // idempotent
	n := f.srv.hits.Load()
	time.Sleep(100 * time.Millisecond)
	if m := f.srv.hits.Load(); m != n {
		t.Errorf("%d fetches after Close", m-n)
	}
	mustVerify(t, f.v, f.token(t, f.a)) // still usable with the last keys
}

func TestContextCancelStopsRefresher(t *testing.T) {
	a := newEdKey(t, "a")
	srv := newJWKSServer(t, a.pub)
	got := newRefreshes()
	ctx, cancel := context.WithCancel(t.Context())
	v, err := NewVerifier(ctx, Config{JWKSURL: srv.URL, RefreshInterval: 10 * time.Millisecond, OnRefresh: got.observe})
	must(t, err)
	must(t, got.next(t))
	cancel()
	done := make(chan struct{})
	go func() { v.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("refresher still running after its context was canceled")
	}
}

// The default client will not follow a redirect off https (or loopback).
func TestJWKSURLRefusesDowngradeRedirect(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://192.0.2.1/jwks.json", http.StatusFound)
	}))
	defer srv.Close()
	got := newRefreshes()
	newVerifier(t, Config{JWKSURL: srv.URL, OnRefresh: got.observe})
	if err := got.next(t); err == nil || !strings.Contains(err.Error(), "redirect") {
		t.Fatalf("fetch error %v, want a refused redirect", err)
	}
}
