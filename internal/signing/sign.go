package signing

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// TokenSpec describes a token for Sign.
type TokenSpec struct {
	// Subject is the sub claim; required.
	Subject string
	// Email is the email claim, omitted when "".
	Email string
	// EmailVerified is the email_verified claim, omitted when nil.
	EmailVerified *bool
	// Issuer is the iss claim, omitted when "".
	Issuer string
	// Audience is the aud claim, omitted when empty.
	Audience []string
	// TTL is the lifetime: exp = Now + TTL. Zero means DefaultTTL; a
	// negative TTL mints an already expired token, for tests.
	TTL time.Duration
	// Claims are extra claims. They may not set sub, exp or iat, nor a
	// claim that another field of the spec sets.
	Claims map[string]any
	// Now is the issue time (iat); zero means time.Now().
	Now time.Time
}

// Sign returns a compact JWT for spec, signed with key. The header carries
// the key's kid and alg.
func Sign(key jwk.Key, spec TokenSpec) (string, error) {
	if key == nil {
		return "", errors.New("signing: no signing key")
	}
	alg, err := signatureAlg(key)
	if err != nil {
		return "", fmt.Errorf("signing: %w", err)
	}
	tok, err := spec.token()
	if err != nil {
		return "", fmt.Errorf("signing: %w", err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(alg, key))
	if err != nil {
		return "", fmt.Errorf("signing: signing: %w", err)
	}
	return string(signed), nil
}

// token builds the claims of spec.
func (spec *TokenSpec) token() (jwt.Token, error) {
	if spec.Subject == "" {
		return nil, errors.New("the token needs a subject (TokenSpec.Subject, --sub)")
	}
	now := spec.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.Truncate(time.Second) // JWT times are whole seconds
	ttl := spec.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	claims := map[string]any{
		jwt.SubjectKey:    spec.Subject,
		jwt.IssuedAtKey:   now,
		jwt.ExpirationKey: now.Add(ttl),
	}
	if spec.Email != "" {
		claims["email"] = spec.Email
	}
	if spec.EmailVerified != nil {
		claims["email_verified"] = *spec.EmailVerified
	}
	if spec.Issuer != "" {
		claims[jwt.IssuerKey] = spec.Issuer
	}
	if len(spec.Audience) > 0 {
		claims[jwt.AudienceKey] = spec.Audience
	}
	// Sorted, so that an error names the same claim every time.
	for _, name := range slices.Sorted(maps.Keys(spec.Claims)) {
		if _, taken := claims[name]; taken {
			return nil, fmt.Errorf("claim %q is set by the token spec itself and cannot be overridden", name)
		}
		claims[name] = spec.Claims[name]
	}
	tok := jwt.New()
	for _, name := range slices.Sorted(maps.Keys(claims)) {
		if err := tok.Set(name, claims[name]); err != nil {
			return nil, fmt.Errorf("claim %q: %w", name, err)
		}
	}
	return tok, nil
}
