package gateway

import (
	"net/http"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/route"
)

// Realm is the realm of every WWW-Authenticate challenge.
const Realm = "gatehouse"

// Unauthenticated is the 401 for a request that needs credentials and
// carries none.
func Unauthenticated() *problem.Problem {
	return problem.New(http.StatusUnauthorized, problem.CodeUnauthenticated,
		"this route needs a bearer token: send Authorization: Bearer <token>").WithReason(problem.ReasonUnauthenticated)
}

// invalidToken is the 401 for refused credentials: why is the fixed text
// of the detail, reason its stable name.
func invalidToken(why, reason string) *problem.Problem {
	return problem.New(http.StatusUnauthorized, problem.CodeInvalidToken, "invalid token: "+why).WithReason(reason)
}

func unavailable(detail string) *problem.Problem {
	return problem.New(http.StatusServiceUnavailable, problem.CodeUnavailable, detail).WithReason(problem.ReasonUnavailable)
}

func methodNotAllowed(method string, res route.Result) *problem.Problem {
	p := problem.New(http.StatusMethodNotAllowed, problem.CodeMethodNotAllowed,
		method+" is not allowed on "+res.Pattern+"; allowed: "+res.Allow)
	p.AllowedMethods = strings.Split(res.Allow, ", ")
	return p.WithReason(problem.ReasonMethodNotAllowed)
}

// WriteDecisionDenial answers the denied decision d: WriteDenial with
// the Gatehouse-Decision-Id header naming it.
func WriteDecisionDenial(w http.ResponseWriter, d *Decision) {
	if d.ID != 0 {
		w.Header().Set(HeaderDecisionID, d.ID.String())
	}
	WriteDenial(w, d.Problem)
}

// WriteDenial answers a denied request: the problem body plus the headers
// its status calls for (WWW-Authenticate on 401, Allow on 405, Retry-After
// on 503).
func WriteDenial(w http.ResponseWriter, p *problem.Problem) {
	h := w.Header()
	switch p.Status {
	case http.StatusUnauthorized:
		h.Set("WWW-Authenticate", challenge(p))
	case http.StatusMethodNotAllowed:
		h.Set("Allow", strings.Join(p.AllowedMethods, ", "))
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", "5")
	}
	problem.Write(w, p)
}

// challenge builds the RFC 6750 challenge: no error attribute when no
// credentials were sent (§3.1).
func challenge(p *problem.Problem) string {
	c := `Bearer realm="` + Realm + `"`
	if p.Code != problem.CodeInvalidToken {
		return c
	}
	return c + `, error="invalid_token", error_description="` + quotable(p.Detail) + `"`
}

// quotable keeps only the characters RFC 6750 allows in error_description
// (%x20-21 / %x23-5B / %x5D-7E), so a reason can never break the header.
func quotable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}
