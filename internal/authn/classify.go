package authn

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwt"
)

// classify turns an error of jwt.Parse into what Verify returns: a
// *TokenError with a reason safe to show, or ErrKeysUnavailable. The jwx
// error itself is never passed on: its text may quote parts of the token.
func (v *Verifier) classify(err error, c *keyChooser, token string) error {
	var te *TokenError
	switch {
	case errors.Is(err, ErrKeysUnavailable):
		return ErrKeysUnavailable
	case errors.As(err, &te):
		return te
	case errors.Is(err, jwt.ErrTokenExpired()):
		return tokenError(reasonExpired)
	case errors.Is(err, jwt.ErrTokenNotYetValid()):
		return tokenError(reasonNotYetValid)
	case errors.Is(err, jwt.ErrInvalidIssuedAt()):
		return tokenError(reasonIssuedInFuture)
	case errors.Is(err, jwt.ErrInvalidIssuer()):
		return tokenError(reasonIssuer)
	case errors.Is(err, jwt.ErrInvalidAudience()):
		return tokenError(reasonAudience)
	case errors.Is(err, jwt.ErrRequiredClaim()):
		return tokenError(reasonMissingExp) // exp is the only claim we require
	case isValidationError(err):
		return tokenError(reasonInvalid)
	case !c.chose:
		// jwx failed before asking for a key: the header is unreadable.
		return tokenError(reasonMalformed)
	}
	return v.diagnose(token)
}

func isValidationError(err error) bool {
	var ve jwt.ValidationError
	return errors.As(err, &ve)
}

// diagnose tells a bad signature from claims jwx could not decode. jwx
// reports both as untyped errors, so the payload is decoded again here;
// this runs only for tokens already rejected, and costs less than the
// signature check the caller paid for.
func (v *Verifier) diagnose(token string) error {
	payload := token[strings.IndexByte(token, '.')+1 : strings.LastIndexByte(token, '.')]
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return tokenError(reasonClaims)
	}
	var claims map[string]json.RawMessage
	if json.Unmarshal(raw, &claims) != nil {
		return tokenError(reasonClaims)
	}
	// jwx decodes sub itself and fails on a non-string: say so plainly.
	if sub, ok := claims[v.userClaim]; ok {
		var s string
		if json.Unmarshal(sub, &s) != nil || s == "" {
			return tokenError(v.userClaim + " claim must be a non-empty string")
		}
	}
	if json.Unmarshal(raw, jwt.New()) != nil {
		return tokenError(reasonClaims)
	}
	return tokenError(reasonSignature)
}
