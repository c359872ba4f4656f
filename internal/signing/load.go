package signing

import (
	"fmt"
	"io"
	"os"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// maxKeyFileSize bounds a key file: a JWK is well under a kilobyte (an
// RSA 4096 private key about 3 KiB).
const maxKeyFileSize = 64 << 10

// LoadSigningKey reads a private JWK with a kid and a signature alg, such
// as the signing.jwk written by Generate. An HMAC (oct) key with an HS*
// alg is accepted too.
func LoadSigningKey(path string) (jwk.Key, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	key, err := jwk.ParseKey(data)
	if err != nil {
		if set, serr := jwk.Parse(data); serr == nil && set.Len() > 0 {
			return nil, fmt.Errorf("%s is a JWK set of public keys, not a signing key: pass the %s written by gatehouse keygen", path, SigningKeyFile)
		}
		return nil, fmt.Errorf("%s is not a JWK: %w", path, err)
	}
	if err := checkSigningKey(key); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading signing key: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading signing key: %w", err)
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes: not a JWK", path, maxKeyFileSize)
	}
	return data, nil
}

// checkSigningKey makes sure key can sign tokens a verifier can check:
// private, named by a kid, and carrying an alg that fits it.
func checkSigningKey(key jwk.Key) error {
	if key.KeyType() != jwa.OctetSeq {
		private, err := jwk.IsPrivateKey(key)
		if err != nil || !private {
			return fmt.Errorf("holds a public key; tokens are signed with the private key (%s, not %s)", SigningKeyFile, JWKSFile)
		}
	}
	if key.KeyID() == "" {
		return fmt.Errorf(`the key has no "kid"; verifiers find keys by kid`)
	}
	alg, err := signatureAlg(key)
	if err != nil {
		return err
	}
	// A trial signature catches an alg that does not fit the key (ES256
	// on an RSA key, say) here rather than on every Sign.
	if _, err := jws.Sign([]byte("{}"), jws.WithKey(alg, key)); err != nil {
		return fmt.Errorf("the key cannot sign with its alg %s: %w", alg, err)
	}
	return nil
}

// signatureAlg returns the key's alg as a signature algorithm.
func signatureAlg(key jwk.Key) (jwa.SignatureAlgorithm, error) {
	name := key.Algorithm().String()
	if name == "" {
		return "", fmt.Errorf(`the key has no "alg"; set one, such as "EdDSA" for an Ed25519 key`)
	}
	var alg jwa.SignatureAlgorithm
	if err := alg.Accept(name); err != nil || alg == jwa.NoSignature {
		return "", fmt.Errorf("the key's alg %q is not a signature algorithm", name)
	}
	return alg, nil
}
