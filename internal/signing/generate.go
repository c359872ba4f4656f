package signing

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// Generate writes dir/signing.jwk, a private Ed25519 JWK with kid, alg
// EdDSA and use sig (mode 0600), and dir/jwks.json, the public JWK set of
// that key (mode 0644). It creates dir (0700) if needed. It refuses to
// overwrite either file unless force is set, and then writes neither.
func Generate(dir string, force bool) error {
	privPath := filepath.Join(dir, SigningKeyFile)
	setPath := filepath.Join(dir, JWKSFile)
	if !force {
		for _, p := range []string{privPath, setPath} {
			if err := refuseExisting(p); err != nil {
				return err
			}
		}
	}
	priv, set, err := NewKeyPair()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating key directory: %w", err)
	}
	if err := writeJSON(privPath, priv, 0o600); err != nil {
		return err
	}
	return writeJSON(setPath, set, 0o644)
}

func refuseExisting(path string) error {
	_, err := os.Lstat(path)
	switch {
	case err == nil:
		return fmt.Errorf("%s already exists; use --force to replace it (tokens signed with the old key will stop verifying)", path)
	case errors.Is(err, fs.ErrNotExist):
		return nil
	}
	return fmt.Errorf("checking for an existing key: %w", err)
}

// NewKeyPair returns a new private Ed25519 key (kid, alg EdDSA, use sig) and
// the public JWK set holding it.
func NewKeyPair() (jwk.Key, jwk.Set, error) {
	_, raw, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating an Ed25519 key: %w", err)
	}
	priv, err := jwk.FromRaw(raw)
	if err != nil {
		return nil, nil, err
	}
	kid, err := keyID(priv)
	if err != nil {
		return nil, nil, err
	}
	for name, value := range map[string]any{
		jwk.KeyIDKey:     kid,
		jwk.AlgorithmKey: jwa.EdDSA,
		jwk.KeyUsageKey:  jwk.ForSignature,
	} {
		if err := priv.Set(name, value); err != nil {
			return nil, nil, err
		}
	}
	pub, err := priv.PublicKey() // keeps kid, alg and use
	if err != nil {
		return nil, nil, err
	}
	set := jwk.NewSet()
	if err := set.AddKey(pub); err != nil {
		return nil, nil, err
	}
	return priv, set, nil
}

// keyID derives a kid from the RFC 7638 thumbprint of key: stable for a
// key, and different for every other key.
func keyID(key jwk.Key) (string, error) {
	thumb, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("computing the key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(thumb)[:kidLen], nil
}

// writeJSON writes v to path with mode, atomically: a reader never sees a
// half-written key, and an existing file is replaced, never written
// through (which would follow a symlink planted at path).
func writeJSON(path string, v any, mode os.FileMode) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	err = errors.Join(
		tmp.Chmod(mode),
		write(tmp, append(data, '\n')),
		tmp.Sync(),
		tmp.Close(),
	)
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func write(f *os.File, data []byte) error {
	_, err := f.Write(data)
	return err
}
