package caddymodule

import (
	"bytes"
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/internal/assertion"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// signingKeyRefresh is how often a gateway re-reads the gateway signing
// keys from its store: the bound after which a key another replica (or
// the CLI) added is published in this replica's /v1/jwks.json and used
// for signing. Signing-key commits carry no Change in the feed (they alter
// no access decision), so the refresh polls. A variable for tests.
var signingKeyRefresh = 10 * time.Second

// refreshSigner keeps s.gsigner's keys equal to the store's, until
// Destruct.
func (s *sharedStore) refreshSigner(every time.Duration, logger *zap.Logger) {
	defer close(s.refreshDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stopRefresh:
			return
		case <-t.C:
		}
		if err := s.reloadKeys(); err != nil {
			logger.Warn("re-reading the gateway signing keys failed; the keys loaded earlier stay in use", zap.Error(err))
		}
	}
}

// reloadKeys replaces the signer when the store's key set differs from
// the one it publishes. Nothing to do before the store opens or before a
// signer exists (settleKeys makes the first one final).
func (s *sharedStore) reloadKeys() error {
	db := s.load()
	s.mu.Lock()
	g := s.gsigner
	s.mu.Unlock()
	if db == nil || g == nil {
		return nil
	}
	cur, err := g.settled()
	if err != nil {
		return nil // the store is still opening
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var keys []store.SigningKey
	err = db.View(ctx, func(tx store.Tx) error {
		var err error
		keys, err = tx.SigningKeys()
		return err
	})
	if err != nil || len(keys) == 0 {
		return err
	}
	next, err := assertion.NewSigner(keys)
	if err != nil {
		return err
	}
	if !bytes.Equal(next.JWKS(), cur.JWKS()) {
		g.cur.Store(next)
	}
	return nil
}
