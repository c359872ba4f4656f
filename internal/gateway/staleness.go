package gateway

import (
	"errors"
	"fmt"

	"github.com/gatehouse-authz/gatehouse/internal/problem"
)

// errStale: the replica has not confirmed it is current within
// max_staleness (spec §10): what needs store data fails closed with 503.
var errStale = errors.New("this gateway has not caught up with the store's change feed within max_staleness: its data may be stale")

// staleErr is errStale with the bound and the last catch-up, for the log.
func (e *Engine) staleErr() error {
	return fmt.Errorf("%w (max_staleness %s, last caught up %s)", errStale, e.live.MaxStaleness(), e.live.CaughtUpAt().UTC().Format("2006-01-02T15:04:05.000Z"))
}

// Fresh is nil when the store's data can be trusted now, else the 503
// unavailable to answer (the management API asks before anything that
// reads the store). It reads the real clock, and only on a store that can
// be stale (PostgreSQL); on bbolt it is always nil.
func (e *Engine) Fresh() *problem.Problem {
	if !e.live.Stale() {
		return nil
	}
	return unavailable(errStale.Error())
}

// IsStale reports whether err is a staleness refusal.
func IsStale(err error) bool { return errors.Is(err, errStale) }
