package authn

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwt"
)

// Verifier verifies bearer JWTs. It is safe for concurrent use; Verify
// takes no lock and never waits on the network.
type Verifier struct {
	hmacSecret []byte // nil when not configured
	hasKeySets bool   // a jwks_file or jwks_url is configured
	fileKeys   []*verificationKey
	keys       atomic.Pointer[keySet]
	refresher  *refresher  // nil without jwks_url
	cache      *tokenCache // nil when disabled
	parseOpts  []jwt.ParseOption
	userClaim  string
	emailClaim string
	leeway     time.Duration
	now        func() time.Time

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once

	// onCacheHit, when set (by tests, before the first Verify), is called
	// on every cache hit.
	onCacheHit func()
}

// NewVerifier checks cfg, loads the JWK set file and, with a JWK set URL,
// starts fetching it in the background: it does not wait for the network.
// The background work stops when ctx is done or Close is called.
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	v := &Verifier{
		hasKeySets: cfg.JWKSFile != "" || cfg.JWKSURL != "",
		parseOpts:  parseOptions(&cfg),
		userClaim:  cfg.UserClaim,
		emailClaim: cfg.EmailClaim,
		leeway:     cfg.Leeway,
		now:        cfg.Now,
	}
	if len(cfg.HMACSecret) > 0 {
		v.hmacSecret = bytes.Clone(cfg.HMACSecret)
	}
	if cfg.JWKSFile != "" {
		keys, err := loadKeyFile(cfg.JWKSFile)
		if err != nil {
			return nil, err
		}
		v.fileKeys = keys
	}
	v.keys.Store(newKeySet(nil, v.fileKeys, nil, cfg.JWKSURL == ""))
	cache, err := newTokenCache(cfg.CacheSize)
	if err != nil {
		return nil, err
	}
	v.cache = cache
	if cfg.JWKSURL != "" {
		v.startRefresher(ctx, &cfg)
	}
	return v, nil
}

// parseOptions are the jwt.Parse options common to every token; Verify
// adds the key provider.
func parseOptions(cfg *Config) []jwt.ParseOption {
	opts := []jwt.ParseOption{
		jwt.WithValidate(true),
		// Without it a token with no exp never expires.
		jwt.WithRequiredClaim(jwt.ExpirationKey),
		jwt.WithAcceptableSkew(cfg.Leeway),
		jwt.WithClock(jwt.ClockFunc(cfg.Now)),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	return opts
}

func (v *Verifier) startRefresher(ctx context.Context, cfg *Config) {
	v.refresher = newRefresher(cfg, v.installURLKeys)
	ctx, v.cancel = context.WithCancel(ctx)
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		v.refresher.run(ctx)
	}()
}

// installURLKeys publishes freshly fetched URL keys. Only the refresher
// goroutine calls it, so load-then-store cannot lose an update.
func (v *Verifier) installURLKeys(keys []*verificationKey) {
	v.keys.Store(newKeySet(v.keys.Load(), v.fileKeys, keys, true))
}

// Verify checks token and returns its principal. Errors are a *TokenError
// for an invalid token, or ErrKeysUnavailable when the keys that could
// verify it cannot be had yet.
func (v *Verifier) Verify(token string) (Principal, error) {
	if len(token) > MaxTokenLen {
		return Principal{}, tokenError(reasonTooLarge)
	}
	set := v.keys.Load()
	now := v.now()
	if p, ok := v.cache.get(token, set.gen, now); ok {
		if v.onCacheHit != nil {
			v.onCacheHit()
		}
		return p, nil
	}
	return v.verify(token, set, now)
}

// verify is the full check of a token not found in the cache, against the
// keys of set.
func (v *Verifier) verify(token string, set *keySet, now time.Time) (Principal, error) {
	if reason := checkFormat(token); reason != "" {
		return Principal{}, tokenError(reason)
	}
	chooser := &keyChooser{v: v, set: set}
	opts := append(slices.Clip(v.parseOpts), jwt.WithKeyProvider(chooser))
	tok, err := jwt.Parse([]byte(token), opts...)
	if err != nil {
		return Principal{}, v.classify(err, chooser, token)
	}
	p, err := v.principalOf(tok)
	if err != nil {
		return Principal{}, err
	}
	// Tagged with the generation the token was verified under: if the
	// keys changed meanwhile, the entry is dead on arrival.
	v.cache.add(token, set.gen, p, p.ExpiresAt.Add(v.leeway), now)
	return p, nil
}

// unknownKid handles a kid that no key of set has: the provider may have
// rotated its keys, so a refresh is requested, but this request is not
// kept waiting for it.
func (v *Verifier) unknownKid(set *keySet) error {
	if v.refresher == nil {
		return tokenError(reasonUnknownKid)
	}
	v.refresher.trigger()
	if !set.ready {
		return ErrKeysUnavailable
	}
	return tokenError(reasonUnknownKid)
}

// Ready reports whether every configured key source is usable: false
// while a JWK set URL has not been fetched successfully yet.
func (v *Verifier) Ready() bool { return v.keys.Load().ready }

// Close stops the JWK set refresher and waits for it. It is idempotent,
// and Verify keeps working afterwards with the last keys. The token
// cache's own goroutines stop once the Verifier is unreachable (see
// newTokenCache): stopping them here could race with a Verify in flight.
func (v *Verifier) Close() {
	v.closeOnce.Do(func() {
		if v.cancel != nil {
			v.cancel()
			v.wg.Wait()
		}
	})
}
