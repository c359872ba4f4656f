package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore/pgtest"
)

// binary is the gatehouse binary built once for these tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatehouse-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "gatehouse")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		panic("building gatehouse: " + err.Error())
	}
	code := m.Run()
	// The cluster tests' PostgreSQL server (started on first use).
	pgtest.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run runs the binary and returns stdout, stderr and whether it succeeded.
func run(t *testing.T, args ...string) (stdout, stderr string, ok bool) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), errOut.String(), err == nil
	case <-ctx.Done():
		cmd.Process.Kill()
		t.Fatalf("gatehouse %s: hung", strings.Join(args, " "))
		return
	}
}

func TestKeygenAndToken(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, ok := run(t, "keygen", "--dir", dir); !ok {
		t.Fatalf("keygen: %s", stderr)
	}
	if _, stderr, ok := run(t, "keygen", "--dir", dir); ok || !strings.Contains(stderr, "--force") {
		t.Fatalf("keygen over existing keys: ok=%v %s", ok, stderr)
	}
	if _, stderr, ok := run(t, "keygen", "--dir", dir, "--force"); !ok {
		t.Fatalf("keygen --force: %s", stderr)
	}

	out, stderr, ok := run(t, "token", "--key", filepath.Join(dir, "signing.jwk"), "--sub", "alice",
		"--email", "alice@example.com", "--email-verified=false", "--iss", "https://idp/", "--aud", "api",
		"--ttl", "10m", "--claim", "tier=3", "--claim", "team=blue")
	if !ok {
		t.Fatalf("token: %s", stderr)
	}
	v, err := authn.NewVerifier(context.Background(), authn.Config{
		JWKSFile: filepath.Join(dir, "jwks.json"), Issuer: "https://idp/", Audience: "api"})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	p, err := v.Verify(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("the printed token does not verify with the generated JWK set: %v", err)
	}
	if p.Subject != "alice" || p.Email != "alice@example.com" || p.EmailVerified != authn.False {
		t.Errorf("principal %+v", p)
	}
	if ttl := time.Until(p.ExpiresAt); ttl < 9*time.Minute || ttl > 10*time.Minute {
		t.Errorf("expires in %v, want 10m", ttl)
	}
	claims := payload(t, strings.TrimSpace(out))
	if claims["tier"] != float64(3) || claims["team"] != "blue" {
		t.Errorf("extra claims %v", claims)
	}

	if _, stderr, ok := run(t, "token", "--key", filepath.Join(dir, "signing.jwk")); ok || !strings.Contains(stderr, "--sub") {
		t.Errorf("token without --sub: ok=%v %s", ok, stderr)
	}
	if _, stderr, ok := run(t, "token", "--key", filepath.Join(dir, "signing.jwk"), "--sub", "a", "--claim", "novalue"); ok || !strings.Contains(stderr, "key=value") {
		t.Errorf("token with a bad claim: ok=%v %s", ok, stderr)
	}
	// A subject the gateway would refuse is refused here too.
	for _, sub := range []string{"alice ", " apikey:abc", "apikey:abc", "al\tice"} {
		if _, stderr, ok := run(t, "token", "--key", filepath.Join(dir, "signing.jwk"), "--sub", sub); ok || !strings.Contains(stderr, "--sub") {
			t.Errorf("token --sub %q: ok=%v %s", sub, ok, stderr)
		}
	}
}

func TestStoreBootstrapAndStats(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "gatehouse.db")
	out, stderr, ok := run(t, "store", "bootstrap", "--store", path, "--workspace", "Acme Corp", "--owner", "alice", "--email", "alice@example.com")
	if !ok || !strings.Contains(out, "slug acme-corp") {
		t.Fatalf("bootstrap: %s %s", out, stderr)
	}
	// An owner no token could name is refused, and nothing is written.
	other := filepath.Join(t.TempDir(), "other.db")
	for _, owner := range []string{"alice ", " alice", "apikey:abc", "al\x7fice"} {
		if _, stderr, ok := run(t, "store", "bootstrap", "--store", other, "--workspace", "W", "--owner", owner); ok || !strings.Contains(stderr, "--owner") {
			t.Errorf("bootstrap --owner %q: ok=%v %s", owner, ok, stderr)
		}
	}
	if _, err := os.Stat(other); !os.IsNotExist(err) {
		t.Errorf("a refused bootstrap created the store: %v", err)
	}
	// --if-empty leaves a store with a workspace alone.
	if out, stderr, ok := run(t, "store", "bootstrap", "--store", path, "--workspace", "Other", "--owner", "bob", "--if-empty"); !ok || !strings.Contains(out, "nothing to do") {
		t.Fatalf("bootstrap --if-empty: %s %s", out, stderr)
	}
	// An explicit slug that is taken is refused.
	if _, stderr, ok := run(t, "store", "bootstrap", "--store", path, "--workspace", "Again", "--slug", "acme-corp", "--owner", "bob"); ok || !strings.Contains(stderr, "taken") {
		t.Fatalf("bootstrap with a taken slug: ok=%v %s", ok, stderr)
	}

	out, stderr, ok = run(t, "store", "stats", "--store", path)
	if !ok {
		t.Fatalf("stats: %s", stderr)
	}
	var stats store.Stats
	if err := json.Unmarshal([]byte(out), &stats); err != nil {
		t.Fatalf("stats output %q: %v", out, err)
	}
	if stats.Workspaces != 1 || stats.Memberships != 1 || stats.Users != 1 {
		t.Errorf("stats %+v", stats)
	}

	// The owner is a member with the owner role.
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(context.Background(), func(tx store.Tx) error {
		ws, err := tx.WorkspaceBySlug("acme-corp")
		if err != nil {
			return err
		}
		m, err := tx.Member(ws.ID, "alice")
		if err != nil {
			return err
		}
		if len(m.Roles) != 1 || m.Roles[0] != "owner" || ws.Name != "Acme Corp" {
			t.Errorf("workspace %+v member %+v", ws, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// While something holds the store, the commands fail fast and say why.
	start := time.Now()
	for _, args := range [][]string{
		{"store", "stats", "--store", path},
		{"store", "bootstrap", "--store", path, "--workspace", "X", "--owner", "x"},
	} {
		if _, stderr, ok := run(t, args...); ok || !strings.Contains(stderr, "locked by another process") {
			t.Errorf("%v on a held store: ok=%v %s", args, ok, stderr)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("held-store errors took %v", d)
	}
	s.Close()

	if _, stderr, ok := run(t, "store", "stats", "--store", filepath.Join(t.TempDir(), "missing.db")); ok || !strings.Contains(stderr, "no such file") {
		t.Errorf("stats of a missing file: ok=%v %s", ok, stderr)
	}
}

// payload decodes a JWT's claims without verifying it.
func payload(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}
