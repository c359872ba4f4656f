package authn

import (
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
