package authn

import (
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// emailVerifiedClaim is the OpenID Connect claim of that name.
const emailVerifiedClaim = "email_verified"

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

// subjectClaim returns the user id, checked by CheckSubject.
func subjectClaim(tok jwt.Token, name string) (string, error) {
	raw, _ := tok.Get(name)
	s, ok := raw.(string)
	if !ok || s == "" {
		return "", tokenError(name + " claim must be a non-empty string")
	}
	if reason := CheckSubject(s); reason != "" {
		return "", tokenError(name + " claim " + reason)
	}
	return s, nil
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
	if reason := CheckEmail(s); reason != "" {
		return "", tokenError(name + " claim " + reason)
	}
	return s, nil
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
