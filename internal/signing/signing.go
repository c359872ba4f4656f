// Package signing creates Ed25519 signing keys and signs JWTs with them.
// It backs `gatehouse keygen` and `gatehouse token` (development keys and
// tokens, used by every test of the project that needs a real token), and
// creates the gateway's own assertion key. Production user tokens come
// from an identity provider, not from here.
package signing

import "time"

// File names written by Generate.
const (
	// SigningKeyFile is the private JWK (keep it secret).
	SigningKeyFile = "signing.jwk"
	// JWKSFile is the public JWK set, for the jwks_file option.
	JWKSFile = "jwks.json"
)

// DefaultTTL is the lifetime of a token whose TokenSpec sets none.
const DefaultTTL = time.Hour

// kidLen is the length of a generated key id: 16 base64url characters of
// the key's thumbprint, 96 bits, plenty to be unique among one's keys.
const kidLen = 16
