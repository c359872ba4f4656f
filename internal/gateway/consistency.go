package gateway

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/internal/changefeed"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Consistency tokens (README "Consistency tokens") and the upstream revision header.
const (
	// HeaderConsistency is the request header asking for data at least
	// as fresh as a token the management API handed out.
	HeaderConsistency = "Gatehouse-Consistency"
	// HeaderRevisionToken is the management API's answer header carrying
	// the token of the change it made.
	HeaderRevisionToken = "Gatehouse-Revision"
	// HeaderRevision tells the upstream which store revision the allow
	// was decided on (decimal). The X-Gatehouse- prefix rule strips any
	// client-sent copy.
	HeaderRevision = "X-Gatehouse-Revision"
)

// CheckConsistency validates the request's Gatehouse-Consistency header,
// if any: nil when there is none or it is satisfied, else the problem to
// answer. subject is the authenticated caller ("" for none): the
// read-through budget is per subject. A request with several values is
// refused: which one would count is ambiguous.
//
// A token of another database, or malformed, is 400
// invalid_consistency_token. A token at or below the applied revision is
// satisfied at once. On bbolt nothing else can be right (every commit is
// applied before Update returns), so a token ahead is 400 as well. On a
// store other processes write (PostgreSQL), a token ahead of this
// replica waits up to consistency_wait for the follower, then reads the
// feed through to the database for this request (changefeed.CatchUpTo,
// rate-limited per subject: 503 over the budget, never a decision on
// older data); a token beyond the database's own latest revision is 400.
func (e *Engine) CheckConsistency(ctx context.Context, h http.Header, subject string) *problem.Problem {
	vals, ok := h[HeaderConsistency]
	if !ok {
		return nil
	}
	return e.checkToken(ctx, vals, subject)
}

// checkToken is CheckConsistency's work for a request that has the
// header, apart so that the common request without one stays a map
// lookup.
func (e *Engine) checkToken(ctx context.Context, vals []string, subject string) *problem.Problem {
	if len(vals) != 1 {
		return problem.New(http.StatusBadRequest, problem.CodeInvalidConsistencyToken, "send at most one "+HeaderConsistency+" header")
	}
	err := store.CheckToken(e.store, vals[0])
	if err == nil || !errors.Is(err, store.ErrTokenFuture) || !e.live.CanBeStale() {
		if err != nil {
			return problem.New(http.StatusBadRequest, problem.CodeInvalidConsistencyToken, err.Error())
		}
		return nil
	}
	_, rev, _ := store.ParseToken(vals[0]) // CheckToken parsed it
	if e.live.Await(ctx, rev) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, e.storeTimeout)
	defer cancel()
	switch err := e.live.CatchUpTo(ctx, subject, rev); {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrTokenFuture):
		return problem.New(http.StatusBadRequest, problem.CodeInvalidConsistencyToken, store.ErrTokenFuture.Error())
	case errors.Is(err, changefeed.ErrReadThroughLimited):
		return unavailable("this replica is behind the consistency token and " + err.Error())
	default:
		e.logger.Warn("reading the change feed through to the database for a consistency token failed", zap.Error(err))
		return unavailable("this replica is behind the consistency token and the store is unavailable")
	}
}

// checkConsistency is CheckConsistency for Decide: when the request had a
// token, d.Revision is re-read afterwards, so that upstream learns the
// revision the decision was made on (the read-through's, if any).
func (e *Engine) checkConsistency(ctx context.Context, h http.Header, d *Decision) *problem.Problem {
	vals, ok := h[HeaderConsistency]
	if !ok {
		return nil
	}
	if prob := e.checkToken(ctx, vals, d.Principal.Subject); prob != nil {
		return prob
	}
	d.Revision = e.revision.get(e.store)
	return nil
}

// revisionText keeps the decimal form of the store's latest revision so
// that an allow costs one atomic load and a compare, not a formatting
// (an allocation), per request; it is reformatted once per new revision.
type revisionText struct {
	cur atomic.Pointer[revisionString]
}

type revisionString struct {
	rev  uint64
	text string
}

// get returns the decimal revision of st.
func (rt *revisionText) get(st store.Store) string {
	rev := st.Revision()
	if c := rt.cur.Load(); c != nil && c.rev == rev {
		return c.text
	}
	c := &revisionString{rev: rev, text: strconv.FormatUint(rev, 10)}
	rt.cur.Store(c)
	return c.text
}

// consistencyReason gives a refusal of checkConsistency its reason: a bad
// token is the client's to fix, a read-through over its budget (503) is
// the gateway's.
func consistencyReason(prob *problem.Problem) *problem.Problem {
	if prob.Status == http.StatusServiceUnavailable {
		return prob.WithReason(problem.ReasonUnavailable)
	}
	return prob.WithReason(problem.ReasonInvalidConsistency)
}
