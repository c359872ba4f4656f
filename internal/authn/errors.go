package authn

import "errors"

// ErrKeysUnavailable means the keys that could verify a token cannot be had:
// the JWK set URL has never been fetched successfully, and no other
// configured source holds the token's key. Callers must fail closed (503):
// the token may well be valid.
var ErrKeysUnavailable = errors.New("authn: signing keys are unavailable: the JWK set URL has not been fetched successfully yet")

// TokenError reports an invalid token (401). Reason is short, safe to show
// to the client, and never contains the token or any part of it.
type TokenError struct {
	Reason string
}

// Error implements error.
func (e *TokenError) Error() string { return "invalid token: " + e.Reason }

// Reasons of TokenError. They name what is wrong, never a value taken from
// the token, so a client-supplied string can never be reflected.
const (
	reasonMalformed      = "malformed token"
	reasonTooLarge       = "token too large"
	reasonAlgNotAllowed  = "alg not allowed"
	reasonAlgKeyMismatch = "alg does not match the key"
	reasonMissingKid     = "missing key id"
	reasonUnknownKid     = "unknown key id"
	reasonSignature      = "signature invalid"
	reasonClaims         = "malformed claims"
	reasonExpired        = "token expired"
	reasonMissingExp     = "exp claim required"
	reasonNotYetValid    = "token not valid yet"
	reasonIssuedInFuture = "token issued in the future"
	reasonIssuer         = "issuer mismatch"
	reasonAudience       = "audience mismatch"
	reasonInvalid        = "token invalid"
	reasonCritical       = "unsupported critical header (crit)"
)

func tokenError(reason string) *TokenError { return &TokenError{Reason: reason} }

// Expired reports whether the token was refused for its expiry alone, so
// the gateway can name it (reason token_expired) without parsing text.
func (e *TokenError) Expired() bool { return e.Reason == reasonExpired }
