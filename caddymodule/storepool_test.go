package caddymodule

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
)

// validation creates nothing: `caddy validate` with a store path that does
// not exist (a typo, say) leaves no file and no directory behind, even with
// the API and assertions, which need the gateway signing key.
func TestValidateCreatesNoStore(t *testing.T) {
	s := newServer(t)
	missing := filepath.Join(s.dir, "typo", "deeper")
	cfg := strings.Replace(testCaddyfile, "store {{dir}}/gatehouse.db", "store "+missing+"/gatehouse.db", 1)
	cfg = strings.Replace(cfg, "workspace param workspace", "workspace param workspace\n\t\t\tassertion on", 1)
	if err := validate(t, s.expand(cfg)); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.dir, "typo")); !os.IsNotExist(err) {
		t.Fatalf("validate created %s (stat: %v)", filepath.Join(s.dir, "typo"), err)
	}
}

// The first run creates the store and logs it, with the absolute path; the
// gateway key made before the file existed is the one stored, so the JWKS
// the API serves verifies what the gateway signs.
func TestRunCreatesStoreAndLogsIt(t *testing.T) {
	s := newServer(t)
	path := filepath.Join(s.dir, "new", "gatehouse.db")
	cfg := strings.Replace(testCaddyfile, "store {{dir}}/gatehouse.db", "store "+path, 1)
	s.load(cfg)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("run did not create the store: %v", err)
	}
	logs := readFile(t, filepath.Join(s.dir, "caddy.log"))
	if !strings.Contains(logs, `"msg":"created a new Gatehouse store"`) || !strings.Contains(logs, `"path":"`+path+`"`) {
		t.Fatalf("no creation line with the absolute path in the log:\n%s", logs)
	}
	r := s.do("GET", "/gatehouse/v1/jwks.json", "")
	s.mustStatus(r, 200, "jwks")
	var keys []store.SigningKey
	if err := pooledStore(t, path).View(context.Background(), func(tx store.Tx) (err error) {
		keys, err = tx.SigningKeys()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || !strings.Contains(string(r.body), `"kid":"`+keys[0].ID+`"`) {
		t.Errorf("the API serves %s, the store holds %d key(s) %v", r.body, len(keys), keys)
	}

	// A reload keeps the store and does not log a creation again.
	s.load(cfg)
	if n := strings.Count(readFile(t, filepath.Join(s.dir, "caddy.log")), "created a new Gatehouse store"); n != 1 {
		t.Errorf("%d creation lines after a reload, want 1", n)
	}
}

// Validating next to a running server (another process holding the file
// lock) succeeds: validation does not need the store.
func TestValidateNextToLockedStore(t *testing.T) {
	s := newServer(t)
	held, err := boltstore.Open(s.storePath(), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if err := validate(t, s.expand(testCaddyfile)); err != nil {
		t.Fatalf("validate next to a held store: %v", err)
	}
}
