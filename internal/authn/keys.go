package authn

import (
	"crypto"
	"encoding/base64"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// verificationKey is a public key of a JWK set with the algorithms it may
// verify.
type verificationKey struct {
	kid  string
	algs []jwa.SignatureAlgorithm // never empty
	raw  any                      // ed25519.PublicKey, *ecdsa.PublicKey or *rsa.PublicKey
	// id identifies the key across refreshes: kid, algs and the RFC 7638
	// thumbprint of the key material.
	id string
}

func (k *verificationKey) allows(alg jwa.SignatureAlgorithm) bool {
	return slices.Contains(k.algs, alg)
}

// usableKeys returns the keys of set that may verify signatures. It drops,
// rather than fails on, keys that are not for us: symmetric (oct) keys,
// which would turn a public JWK set into an HMAC secret anyone can read;
// keys for encryption (use "enc", or key_ops without "verify"); keys
// without a kid, which no token can name; unsupported or weak keys; keys
// whose alg does not fit their type.
func usableKeys(set jwk.Set) []*verificationKey {
	var keys []*verificationKey
	for i := range set.Len() {
		k, _ := set.Key(i)
		if vk := toVerificationKey(k); vk != nil {
			keys = append(keys, vk)
		}
	}
	return keys
}

func toVerificationKey(k jwk.Key) *verificationKey {
	if k.KeyType() == jwa.OctetSeq || k.KeyID() == "" || !forSignatures(k) {
		return nil
	}
	// A private key in a JWK set is used for its public half only.
	pub, err := k.PublicKey()
	if err != nil || pub.Validate() != nil {
		return nil
	}
	var raw any
	if err := pub.Raw(&raw); err != nil {
		return nil
	}
	algs := algsForKey(raw)
	if declared := k.Algorithm().String(); declared != "" {
		alg := jwa.SignatureAlgorithm(declared)
		if !slices.Contains(algs, alg) {
			return nil
		}
		algs = []jwa.SignatureAlgorithm{alg}
	}
	if len(algs) == 0 {
		return nil
	}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil
	}
	id := k.KeyID() + "\x00" + joinAlgs(algs) + "\x00" + base64.RawURLEncoding.EncodeToString(thumb)
	return &verificationKey{kid: k.KeyID(), algs: algs, raw: raw, id: id}
}

// forSignatures reports whether use and key_ops allow verifying.
func forSignatures(k jwk.Key) bool {
	if use := k.KeyUsage(); use != "" && use != string(jwk.ForSignature) {
		return false
	}
	ops := k.KeyOps()
	return len(ops) == 0 || slices.Contains(ops, jwk.KeyOpVerify)
}

func joinAlgs(algs []jwa.SignatureAlgorithm) string {
	s := make([]string, len(algs))
	for i, a := range algs {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}

// keySet is an immutable snapshot of the keys usable for verification:
// the file keys and the last good URL keys. It is replaced, never changed.
type keySet struct {
	// gen changes whenever the set of usable keys does; cached
	// verifications made under another generation are not trusted.
	gen   uint64
	byKID map[string][]*verificationKey
	// id identifies the keys, to tell whether a refresh changed them.
	id string
	// ready reports that every configured source has keys: the JWK set
	// URL, if any, has been fetched successfully at least once.
	ready bool
}

// newKeySet returns the snapshot following prev (nil for the first one).
func newKeySet(prev *keySet, file, fromURL []*verificationKey, ready bool) *keySet {
	all := slices.Concat(file, fromURL)
	s := &keySet{byKID: make(map[string][]*verificationKey, len(all)), ready: ready}
	ids := make([]string, 0, len(all))
	for _, k := range all {
		// Several keys may share a kid (a file key and a URL key, or a
		// provider's odd set): each is tried.
		s.byKID[k.kid] = append(s.byKID[k.kid], k)
		ids = append(ids, k.id)
	}
	slices.Sort(ids)
	s.id = strings.Join(ids, "\n")
	switch {
	case prev == nil:
		s.gen = 1
	case prev.id == s.id:
		s.gen = prev.gen
	default:
		s.gen = prev.gen + 1
	}
	return s
}
