package caddymodule

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/assertion"
)

// gatewaySigner is the assertion signer handlers and the API hold. A
// config whose store opens at App.Start (a new bbolt file, PostgreSQL)
// gets one before the store's key can be read: it carries a key made in
// memory, which Start writes into a store that has none, or replaces with
// the store's own keys when it has some (another replica made them), so
// every gateway on one database signs and publishes the same keys.
type gatewaySigner struct {
	cur atomic.Pointer[assertion.Signer]
	// ready is closed once cur is final; nil when it was at once.
	ready <-chan struct{}
}

// errSignerNotReady: the store, and so the gateway key, did not open in
// time (the app has not started).
var errSignerNotReady = errors.New("the gateway signing key is not loaded yet: the store has not opened")

func settledSigner(s *assertion.Signer) *gatewaySigner {
	g := new(gatewaySigner)
	g.cur.Store(s)
	return g
}

// settled returns the final signer, waiting (briefly) for the store to
// open: Caddy starts apps in no fixed order, so a request may arrive
// before App.Start has loaded the key.
func (g *gatewaySigner) settled() (*assertion.Signer, error) {
	if g.ready != nil {
		select {
		case <-g.ready:
		default:
			t := time.NewTimer(storeReadyWait)
			defer t.Stop()
			select {
			case <-g.ready:
			case <-t.C:
				return nil, errSignerNotReady
			}
		}
	}
	return g.cur.Load(), nil
}

// Sign implements the handler's signing (see assertion.Signer.Sign).
func (g *gatewaySigner) Sign(f assertion.Facts, now time.Time) (string, error) {
	s, err := g.settled()
	if err != nil {
		return "", err
	}
	return s.Sign(f, now)
}

// JWKS returns the public key set, once it is final.
func (g *gatewaySigner) JWKS() ([]byte, error) {
	s, err := g.settled()
	if err != nil {
		return nil, err
	}
	return s.JWKS(), nil
}
