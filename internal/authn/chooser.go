package authn

import (
	"context"
	"slices"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// asymmetricAlgs are the algorithms verified with a key of a JWK set.
var asymmetricAlgs = append([]jwa.SignatureAlgorithm{jwa.EdDSA, jwa.ES256, jwa.ES384, jwa.ES512}, rsaAlgs...)

// keyChooser is the jws.KeyProvider of one verification. It reads alg and
// kid from the protected header as jwx parsed it, so the header judged here
// is the header jwx verifies, and hands jwx the one key (and alg) the rules
// allow. Any other header (jku, x5u, jwk) is ignored: keys come from
// configuration only.
//
// Its errors are *TokenError or ErrKeysUnavailable; jwx wraps them with
// %w, so Verify finds them again with errors.As and errors.Is.
type keyChooser struct {
	v   *Verifier
	set *keySet
	// chose reports that a key was handed to jwx: a later failure is then
	// about the signature or the claims, not the header.
	chose bool
}

// FetchKeys implements jws.KeyProvider.
func (c *keyChooser) FetchKeys(_ context.Context, sink jws.KeySink, sig *jws.Signature, _ *jws.Message) error {
	h := sig.ProtectedHeaders()
	if reason := headerProblem(h); reason != "" {
		return tokenError(reason)
	}
	alg := h.Algorithm()
	switch {
	case isHMAC(alg):
		// Only ever the configured secret: never a JWK set key.
		if c.v.hmacSecret == nil {
			return tokenError(reasonAlgNotAllowed)
		}
		c.offer(sink, alg, c.v.hmacSecret)
		return nil
	case !slices.Contains(asymmetricAlgs, alg) || !c.v.hasKeySets:
		// "none", and anything we have no key source for.
		return tokenError(reasonAlgNotAllowed)
	}
	kid := h.KeyID()
	if kid == "" {
		return tokenError(reasonMissingKid)
	}
	keys := c.set.byKID[kid]
	if len(keys) == 0 {
		return c.v.unknownKid(c.set)
	}
	for _, k := range keys {
		if k.allows(alg) {
			c.offer(sink, alg, k.raw)
		}
	}
	if !c.chose {
		return tokenError(reasonAlgKeyMismatch)
	}
	return nil
}

// headerProblem judges the protected header beyond alg and kid, or
// returns "". Any verification path (this one, or a faster one that skips
// jwx) must call it before trusting a token.
//
// RFC 7515 §4.1.11: a recipient that does not understand an extension
// listed in "crit" must reject the token. Gatehouse understands none, so a
// crit header of any value (even an empty list, itself invalid) is
// refused rather than ignored: the issuer asked for a meaning we would not
// apply.
func headerProblem(h jws.Headers) string {
	if _, present := h.Get(jws.CriticalKey); present {
		return reasonCritical
	}
	return ""
}

func (c *keyChooser) offer(sink jws.KeySink, alg jwa.SignatureAlgorithm, key any) {
	sink.Key(alg, key)
	c.chose = true
}
