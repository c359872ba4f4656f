package authn

import (
	"time"
)

// Principal is an authenticated caller.
type Principal struct {
	// Subject is the user id, from Config.UserClaim.
	Subject string
	// Email is from Config.EmailClaim; "" when the token has none.
	Email string
	// EmailVerified is from the email_verified claim.
	EmailVerified Tristate
	// ExpiresAt is the token's exp.
	ExpiresAt time.Time
	// KeyID is set when the caller is an API key (Subject is then
	// "apikey:<KeyID>"); "" for a user.
	KeyID string
	// Cached is true when the verified-token cache answered: the token
	// was checked earlier and nothing has changed since. Callers that act
	// once per token (recording that a user was seen) skip cached ones.
	Cached bool
}

// Tristate is a boolean claim that may be absent.
type Tristate int8

// Values of Tristate.
const (
	Unknown Tristate = iota // the claim is absent
	True
	False
)

// String implements fmt.Stringer.
func (t Tristate) String() string {
	switch t {
	case True:
		return "true"
	case False:
		return "false"
	}
	return "unknown"
}
