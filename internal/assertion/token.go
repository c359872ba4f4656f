package assertion

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// header is the protected header of every assertion: EdDSA, the key id,
// and the assertion type (so it cannot be taken for a user's token).
type header struct {
	Algorithm string `json:"alg"`
	KeyID     string `json:"kid"`
	Type      string `json:"typ"`
}

func protectedHeader(kid string) (string, error) {
	raw, err := json.Marshal(header{Algorithm: "EdDSA", KeyID: kid, Type: Type})
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// claims is the payload. Empty facts are left out.
type claims struct {
	Issuer        string              `json:"iss"`
	Subject       string              `json:"sub"`
	IssuedAt      int64               `json:"iat"`
	Expires       int64               `json:"exp"`
	Email         string              `json:"email,omitempty"`
	Workspace     string              `json:"workspace,omitempty"`
	WorkspaceSlug string              `json:"workspace_slug,omitempty"`
	Roles         []string            `json:"roles,omitempty"`
	Permission    string              `json:"permission,omitempty"`
	Restrictions  map[string][]string `json:"restrictions,omitempty"`
}

// sign builds the compact JWS (RFC 7515 §7.1) of f issued at iat (unix
// seconds): BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(Ed25519
// signature of the first two parts).
func (s *Signer) sign(f *Facts, iat int64) (string, error) {
	payload, err := json.Marshal(claims{
		Issuer: Issuer, Subject: f.Subject, IssuedAt: iat, Expires: iat + int64(Lifetime.Seconds()),
		Email: f.Email, Workspace: f.WorkspaceID, WorkspaceSlug: f.WorkspaceSlug, Roles: f.Roles,
		Permission: f.Permission, Restrictions: f.Restrictions,
	})
	if err != nil {
		return "", fmt.Errorf("signing the assertion: %w", err)
	}
	enc := base64.RawURLEncoding
	n := len(s.header) + 1 + enc.EncodedLen(len(payload))
	buf := make([]byte, n, n+1+enc.EncodedLen(ed25519.SignatureSize))
	copy(buf, s.header)
	buf[len(s.header)] = '.'
	enc.Encode(buf[len(s.header)+1:], payload)
	sig := ed25519.Sign(s.priv, buf)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf), nil
}
