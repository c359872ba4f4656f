package authn

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// maxJWKSSize bounds a JWK set, from a file or a URL. Real sets hold a
// handful of keys, a few KiB.
const maxJWKSSize = 1 << 20

// loadKeyFile reads the JWK set at path. Unlike a fetched set, a file is
// under the operator's control, so a key that cannot be parsed is an
// error, and so is a set with no usable key.
func loadKeyFile(path string) ([]*verificationKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading jwks_file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxJWKSSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading jwks_file: %w", err)
	}
	if len(data) > maxJWKSSize {
		return nil, fmt.Errorf("jwks_file %s is larger than %d bytes: is it really a JWK set?", path, maxJWKSSize)
	}
	if err := refusePrivateKeys(path, data); err != nil {
		return nil, err
	}
	set, err := jwk.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("jwks_file %s is not a valid JWK set: %w", path, err)
	}
	keys := usableKeys(set)
	if len(keys) == 0 {
		return nil, fmt.Errorf("jwks_file %s has no usable signature key (%s)", path, usableKeyRules)
	}
	return keys, nil
}

// usableKeyRules sums up usableKeys for error messages.
const usableKeyRules = "a usable key has a kid and is an Ed25519, P-256/384/521 or RSA (2048+ bits) key; " +
	`oct keys and keys with "use": "enc" are ignored`

// privateMembers are the JWK members (RFC 7518 §6) that only a private key
// has: d (EC, OKP, RSA) and the RSA CRT values. oct keys (k) are not
// refused here: a JWK set's oct keys are dropped, never used (HMAC comes
// from hmac_secret only), as documented.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth"}

// refusePrivateKeys fails when the file holds a private key, alone or in a
// set. The gateway needs public keys only; a signing key in
// jwks_file is almost always the wrong file of a pair (signing.jwk for
// jwks.json), and serving with it would leave a signing key where public
// keys are expected to be readable.
func refusePrivateKeys(path string, data []byte) error {
	var doc struct {
		Keys []map[string]json.RawMessage `json:"keys"`
	}
	var single map[string]json.RawMessage
	if json.Unmarshal(data, &doc) != nil || json.Unmarshal(data, &single) != nil {
		return nil // not JSON objects: jwk.Parse says what is wrong
	}
	keys := doc.Keys
	if _, isSet := single["keys"]; !isSet {
		keys = append(keys, single)
	}
	for i, key := range keys {
		for _, m := range privateMembers {
			if _, ok := key[m]; ok {
				return fmt.Errorf("jwks_file %s holds a private key (key %d has the %q member): "+
					"point jwks_file at the public JWK set (the jwks.json that `gatehouse keygen` writes next to signing.jwk), never at a signing key", path, i+1, m)
			}
		}
	}
	return nil
}
