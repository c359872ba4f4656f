package authn

import (
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/gatehouse-authz/gatehouse/internal/apikey"
)

const (
	// maxSubjectLen bounds the subject: it becomes a store key and a header.
	maxSubjectLen = 255
	// maxEmailLen is generous for an address (RFC 5321 allows 254).
	maxEmailLen = 320
	// emailVerifiedClaim is the OpenID Connect claim of that name.
	emailVerifiedClaim = "email_verified"
)

// principalOf builds the Principal of a verified token.
func (v *Verifier) principalOf(tok jwt.Token) (Principal, error) {
	exp := tok.Expiration()
	if exp.Unix() <= 0 {
		// jwx treats "exp": 0 as no expiry at all; for us it is the
		// epoch, long past.
		return Principal{}, tokenError(reasonExpired)
	}
	sub, err := subjectClaim(tok, v.userClaim)
	if err != nil {
		return Principal{}, err
	}
	email, err := emailClaim(tok, v.emailClaim)
	if err != nil {
		return Principal{}, err
	}
	return Principal{Subject: sub, Email: email, EmailVerified: emailVerified(tok), ExpiresAt: exp}, nil
}

// subjectClaim returns the user id. It ends up in headers, logs and store
// keys, so it must be a short printable string.
func subjectClaim(tok jwt.Token, name string) (string, error) {
	raw, _ := tok.Get(name)
	s, ok := raw.(string)
	if !ok || s == "" {
		return "", tokenError(name + " claim must be a non-empty string")
	}
	// API keys act as "apikey:<id>": a user with such a subject would be
	// taken for the key (its cache entries, its access).
	if strings.HasPrefix(s, apikey.SubjectPrefix) {
		return "", tokenError(name + " claim must not start with " + apikey.SubjectPrefix + " (reserved for API keys)")
	}
	return s, checkText(name, s, maxSubjectLen)
}

// emailClaim returns the email, or "" when the token has none.
func emailClaim(tok jwt.Token, name string) (string, error) {
	raw, present := tok.Get(name)
	if !present {
		return "", nil
	}
	s, ok := raw.(string)
	if !ok {
		return "", tokenError(name + " claim must be a string")
	}
	return s, checkText(name, s, maxEmailLen)
}

// checkText rejects values too long or holding control characters (a CR
// or LF forwarded in an upstream header would split it).
func checkText(name, s string, maxLen int) error {
	if len(s) > maxLen {
		return tokenError(name + " claim is too long")
	}
	if hasControl(s) {
		return tokenError(name + " claim contains control characters")
	}
	return nil
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}

// emailVerified reads email_verified. Some providers (AWS Cognito) send
// the string "true"; any other value that is not the boolean true is
// False, never Unknown, because the claim exists to say the address may
// not be trusted.
func emailVerified(tok jwt.Token) Tristate {
	raw, present := tok.Get(emailVerifiedClaim)
	if !present {
		return Unknown
	}
	if raw == true || raw == "true" {
		return True
	}
	return False
}
