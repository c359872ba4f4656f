package authn

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"slices"

	"github.com/lestrrat-go/jwx/v2/jwa"
)

// minRSABits is the smallest RSA modulus accepted; NIST retired anything
// shorter in 2013.
const minRSABits = 2048

var (
	hmacAlgs = []jwa.SignatureAlgorithm{jwa.HS256, jwa.HS384, jwa.HS512}
	rsaAlgs  = []jwa.SignatureAlgorithm{jwa.RS256, jwa.RS384, jwa.RS512, jwa.PS256, jwa.PS384, jwa.PS512}
)

// isHMAC reports whether alg is verified with the shared secret.
func isHMAC(alg jwa.SignatureAlgorithm) bool { return slices.Contains(hmacAlgs, alg) }

// algsForKey lists the algorithms a public key can verify, by key type
// (and curve, for ECDSA). It returns nil for keys that are not supported:
// other curves, X25519, RSA under minRSABits.
func algsForKey(raw any) []jwa.SignatureAlgorithm {
	switch k := raw.(type) {
	case ed25519.PublicKey:
		if len(k) == ed25519.PublicKeySize {
			return []jwa.SignatureAlgorithm{jwa.EdDSA}
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return []jwa.SignatureAlgorithm{jwa.ES256}
		case elliptic.P384():
			return []jwa.SignatureAlgorithm{jwa.ES384}
		case elliptic.P521():
			return []jwa.SignatureAlgorithm{jwa.ES512}
		}
	case *rsa.PublicKey:
		if k.N.BitLen() >= minRSABits {
			return rsaAlgs
		}
	}
	return nil
}
