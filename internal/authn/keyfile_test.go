package authn

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/signing"
)

// jwks_file naming a private key (the other file of a keygen pair, or a
// set that includes one) is refused with the file and the fix.
func TestJWKSFileWithAPrivateKeyIsRefused(t *testing.T) {
	dir := t.TempDir()
	if err := signing.Generate(dir, false); err != nil {
		t.Fatal(err)
	}
	private := filepath.Join(dir, signing.SigningKeyFile)
	raw, err := os.ReadFile(private)
	if err != nil {
		t.Fatal(err)
	}
	inSet := filepath.Join(dir, "mixed.json")
	public, err := os.ReadFile(filepath.Join(dir, signing.JWKSFile))
	if err != nil {
		t.Fatal(err)
	}
	mixed := strings.Replace(string(public), `"keys":[`, `"keys":[`+strings.TrimSpace(string(raw))+`,`, 1)
	if mixed == string(public) {
		mixed = strings.Replace(string(public), `"keys": [`, `"keys": [`+strings.TrimSpace(string(raw))+`,`, 1)
	}
	if mixed == string(public) {
		t.Fatalf("setup: no keys array in %s", public)
	}
	if err := os.WriteFile(inSet, []byte(mixed), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{private, inSet} {
		_, err := NewVerifier(context.Background(), Config{JWKSFile: path})
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "private") || !strings.Contains(err.Error(), "jwks.json") {
			t.Errorf("jwks_file %s: error %v", path, err)
		}
	}
	// The public set still loads.
	v, err := NewVerifier(context.Background(), Config{JWKSFile: filepath.Join(dir, signing.JWKSFile)})
	if err != nil {
		t.Fatalf("the public set: %v", err)
	}
	v.Close()
}
