package gateway

import (
	"net/http"
	"strconv"
	"sync/atomic"

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
// if any, against st: nil when there is none or it is satisfied, else the
// 400 to answer. On bbolt a well-formed token of this store at a reached
// revision is always satisfied (every commit is applied before Update
// returns), so there is nothing to wait for. A request with several
// values is refused: which one would count is ambiguous.
func CheckConsistency(h http.Header, st store.Store) *problem.Problem {
	vals, ok := h[HeaderConsistency]
	if !ok {
		return nil
	}
	if len(vals) != 1 {
		return problem.New(http.StatusBadRequest, problem.CodeInvalidConsistencyToken, "send at most one "+HeaderConsistency+" header")
	}
	if err := store.CheckToken(st, vals[0]); err != nil {
		return problem.New(http.StatusBadRequest, problem.CodeInvalidConsistencyToken, err.Error())
	}
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
