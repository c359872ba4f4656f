package authn

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"
)

// firstRetryDelay is the wait after a first failed fetch. Failures back off
// from there, doubling up to MinRefreshInterval, so that a provider outage
// at startup is recovered from within seconds without hammering it.
const firstRetryDelay = time.Second

// refresher keeps the keys of a JWK set URL current. One goroutine fetches:
// at start, every interval, and when kicked by a token with an unknown kid
// (at most once per minInterval). Requests only ever read the result.
type refresher struct {
	url         string
	client      *http.Client
	interval    time.Duration
	minInterval time.Duration
	now         func() time.Time
	onRefresh   func(error)
	// install publishes the keys of a successful fetch.
	install func([]*verificationKey)

	kick        chan struct{} // buffered 1: a pending request to refresh
	lastTrigger atomic.Int64  // unix nanoseconds of the last accepted trigger; 0 = never
}

func newRefresher(cfg *Config, install func([]*verificationKey)) *refresher {
	return &refresher{
		url:         cfg.JWKSURL,
		client:      cfg.HTTPClient,
		interval:    cfg.RefreshInterval,
		minInterval: cfg.MinRefreshInterval,
		now:         cfg.Now,
		onRefresh:   cfg.OnRefresh,
		install:     install,
		kick:        make(chan struct{}, 1),
	}
}

// run fetches until ctx is done.
func (r *refresher) run(ctx context.Context) {
	retry := time.Duration(0)
	for {
		keys, err := fetchKeys(ctx, r.client, r.url)
		if ctx.Err() != nil {
			return // shutting down: not a failure worth reporting
		}
		if err == nil {
			r.install(keys)
		}
		if r.onRefresh != nil {
			r.onRefresh(err)
		}
		wait := r.interval
		if err != nil {
			retry = r.nextRetry(retry)
			wait = min(wait, retry)
		} else {
			retry = 0
		}
		if !r.sleep(ctx, wait) {
			return
		}
	}
}

// nextRetry doubles the retry delay, from firstRetryDelay up to minInterval.
func (r *refresher) nextRetry(prev time.Duration) time.Duration {
	return min(max(2*prev, firstRetryDelay), r.minInterval)
}

// sleep waits for d or a kick; it returns false when ctx is done.
func (r *refresher) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-r.kick:
	case <-t.C:
	}
	return true
}

// trigger asks for an early refresh, without waiting for it. Triggers
// closer than minInterval to the last accepted one are ignored, so a flood
// of tokens with made-up kids costs the provider one fetch per interval.
func (r *refresher) trigger() {
	now := r.now().UnixNano()
	last := r.lastTrigger.Load()
	if last != 0 && now-last < int64(r.minInterval) {
		return
	}
	if !r.lastTrigger.CompareAndSwap(last, now) {
		return // another request won the race: one trigger is enough
	}
	select {
	case r.kick <- struct{}{}:
	default: // a refresh is already pending
	}
}
