package authn

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
)

func TestCheckFormat(t *testing.T) {
	for token, want := range map[string]string{
		"aGVhZA.Ym9keQ.c2ln":               "",
		"aGVhZA.Ym9keQ.":                   "", // alg none: judged by its alg
		"a-_Z0w.Ym9keQ.c2k":                "",
		"aGVhZB.Ym9keQ.c2ln":               reasonMalformed, // non-zero padding bits
		"aGVhZA.Ym9keR.c2ln":               reasonMalformed,
		"aGVhZA.Ym9keQ.c2l":                reasonMalformed,
		"aGVhZA.Ym9keQ.c2lnb":              reasonMalformed, // length 1 mod 4
		"":                                 reasonMalformed,
		"..":                               reasonMalformed,
		"a..c":                             reasonMalformed,
		".b.c":                             reasonMalformed,
		"a.b":                              reasonMalformed,
		"a.b.c.d":                          reasonMalformed,
		"a.b.c=":                           reasonMalformed,
		"a.b.c":                            reasonMalformed, // no byte count encodes to 1 character
		"a.b.c\n":                          reasonMalformed,
		"a.b+.c":                           reasonMalformed,
		"Bearer a.b.c":                     reasonMalformed,
		strings.Repeat("a", MaxTokenLen+1): reasonTooLarge,
		strings.Repeat("a", MaxTokenLen-12) + ".Ym9keQ.c2ln": "",
	} {
		if got := checkFormat(token); got != want {
			t.Errorf("checkFormat(%.20q) = %q, want %q", token, got, want)
		}
	}
}

// FuzzVerify: no input panics, every failure is a TokenError that does
// not quote the input, and nothing verifies but the seed's signed claims.
func FuzzVerify(f *testing.F) {
	key := newEdKey(f, "ed")
	secret := randomBytes(f, 32)
	v := newVerifier(f, Config{JWKSFile: writeJWKS(f, key.pub), HMACSecret: secret})
	claims := claimsAt(time.Now(), "exp", time.Now().Add(24*time.Hour).Unix())
	f.Add(key.sign(f, claims))
	f.Add(mint(f, jwa.HS256, secret, nil, claims))
	f.Add(craft(f, map[string]any{"alg": "none", "kid": "ed"}, claims, nil))
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		p, err := v.Verify(token)
		if err == nil {
			// Only re-encodings of a seed (base64 slack bits) can verify.
			if p.Subject != "alice" {
				t.Fatalf("verified %+v", p)
			}
			return
		}
		var te *TokenError
		if !errors.As(err, &te) {
			t.Fatalf("error %v (%T), want a TokenError", err, err)
		}
		if len(token) >= 12 && strings.Contains(te.Reason, token) {
			t.Fatalf("reason %q quotes the input", te.Reason)
		}
	})
}

// A token cannot be re-spelled: changing the bits of the signature's last
// character that decoders ignore yields the same signature bytes, and must
// still be refused.
func TestNonCanonicalSignatureEncodingIsRefused(t *testing.T) {
	key := newEdKey(t, "ed")
	v := newVerifier(t, Config{JWKSFile: writeJWKS(t, key.pub)})
	token := key.sign(t, claimsAt(time.Now()))
	mustVerify(t, v, token)
	sig := token[strings.LastIndexByte(token, '.')+1:]
	if len(sig)%4 != 2 {
		t.Fatalf("an Ed25519 signature is 86 characters, got %d", len(sig))
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, token[len(token)-1])
	respelled := token[:len(token)-1] + string(alphabet[last|1]) // a padding bit set
	_, err := v.Verify(respelled)
	wantReason(t, respelled, err, reasonMalformed)
}
