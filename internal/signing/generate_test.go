package signing

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

func TestGenerateWritesKeyPair(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dev", "keys")
	if err := Generate(dir, false); err != nil {
		t.Fatal(err)
	}
	wantMode(t, dir, 0o700|os.ModeDir)
	wantMode(t, filepath.Join(dir, SigningKeyFile), 0o600)
	wantMode(t, filepath.Join(dir, JWKSFile), 0o644)

	priv := readKey(t, filepath.Join(dir, SigningKeyFile))
	if priv.KeyType() != jwa.OKP || priv.Algorithm() != jwa.EdDSA || priv.KeyUsage() != "sig" {
		t.Errorf("signing key kty %s alg %s use %s, want OKP EdDSA sig", priv.KeyType(), priv.Algorithm(), priv.KeyUsage())
	}
	if ok, _ := jwk.IsPrivateKey(priv); !ok {
		t.Error("signing.jwk holds no private key")
	}
	kid, err := keyID(priv)
	must(t, err)
	if priv.KeyID() != kid || len(kid) != kidLen {
		t.Errorf("kid %q, want the thumbprint-derived %q", priv.KeyID(), kid)
	}

	setJSON, err := os.ReadFile(filepath.Join(dir, JWKSFile))
	must(t, err)
	set, err := jwk.Parse(setJSON)
	must(t, err)
	if set.Len() != 1 {
		t.Fatalf("jwks.json holds %d keys, want 1", set.Len())
	}
	pub, _ := set.Key(0)
	if pub.KeyID() != kid || pub.Algorithm() != jwa.EdDSA || pub.KeyUsage() != "sig" {
		t.Errorf("public key kid %q alg %s use %s", pub.KeyID(), pub.Algorithm(), pub.KeyUsage())
	}
	if ok, _ := jwk.IsPrivateKey(pub); ok || bytes.Contains(setJSON, []byte(`"d"`)) {
		t.Error("jwks.json leaks the private key")
	}
}

func TestGenerateRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	must(t, Generate(dir, false))
	before := snapshot(t, dir)

	err := Generate(dir, false)
	if err == nil || !strings.Contains(err.Error(), SigningKeyFile) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("error %v, want one naming %s and --force", err, SigningKeyFile)
	}
	if snapshot(t, dir) != before {
		t.Error("files changed by a refused Generate")
	}

	// One file alone is enough to refuse, and neither is written.
	must(t, os.Remove(filepath.Join(dir, SigningKeyFile)))
	err = Generate(dir, false)
	if err == nil || !strings.Contains(err.Error(), JWKSFile) {
		t.Fatalf("error %v, want one naming %s", err, JWKSFile)
	}
	if _, err := os.Stat(filepath.Join(dir, SigningKeyFile)); !os.IsNotExist(err) {
		t.Error("signing.jwk written by a refused Generate")
	}

	must(t, Generate(dir, true))
	after := snapshot(t, dir)
	if after == before {
		t.Error("--force kept the old key")
	}
	wantMode(t, filepath.Join(dir, SigningKeyFile), 0o600)
	wantMode(t, filepath.Join(dir, JWKSFile), 0o644)
	entries, err := os.ReadDir(dir)
	must(t, err)
	if len(entries) != 2 {
		t.Errorf("%d files in the key directory, want 2 (temporary files left?)", len(entries))
	}
}

// Keys are unique, and kids with them.
func TestGenerateNewKeyEachTime(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	must(t, Generate(a, false))
	must(t, Generate(b, false))
	ka, kb := readKey(t, filepath.Join(a, SigningKeyFile)), readKey(t, filepath.Join(b, SigningKeyFile))
	if ka.KeyID() == kb.KeyID() {
		t.Error("two keys share a kid")
	}
}

func wantMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	must(t, err)
	if fi.Mode() != want {
		t.Errorf("%s: mode %v, want %v", path, fi.Mode(), want)
	}
}

func readKey(t *testing.T, path string) jwk.Key {
	t.Helper()
	data, err := os.ReadFile(path)
	must(t, err)
	key, err := jwk.ParseKey(data)
	must(t, err)
	return key
}

// snapshot is the content of the key files.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	for _, name := range []string{SigningKeyFile, JWKSFile} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		must(t, err)
		b.Write(data)
	}
	return b.String()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func writeJSONFile(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	must(t, err)
	path := filepath.Join(t.TempDir(), "key.jwk")
	must(t, os.WriteFile(path, data, 0o600))
	return path
}
