package caddymodule

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// `store bolt <path>` names the backend and means exactly `store <path>`;
// an unknown backend name, a wrong number of arguments or a bad postgres
// URL or option is refused, with the line and what to write.
func TestStoreBoltSpelling(t *testing.T) {
	s := newServer(t)
	const plain = "store {{dir}}/gatehouse.db"
	if !strings.Contains(testCaddyfile, plain) {
		t.Fatalf("setup: %q not in the test Caddyfile", plain)
	}
	bolt := strings.Replace(testCaddyfile, plain, "store bolt {{dir}}/gatehouse.db", 1)
	if got, want := string(adapt(t, s.expand(bolt))), string(adapt(t, s.expand(testCaddyfile))); got != want {
		t.Errorf("store bolt <path> adapts to\n%s\nwant the same as store <path>:\n%s", got, want)
	}
	s.load(bolt)
	if r := s.do(http.MethodGet, "/healthz", ""); r.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz with store bolt: %d %s", r.StatusCode, r.body)
	}
	pooledStore(t, s.storePath()) // the file the plain spelling names

	for bad, want := range map[string]string{
		"store":                               "expected `store <path>`, `store bolt <path>` or `store postgres <url>",
		"store bolt a b":                      "expected `store <path>`, `store bolt <path>` or `store postgres <url>",
		"store mysql {{dir}}/gatehouse.db":    `unknown store backend "mysql"`,
		"store bolt":                          "the bolt backend needs a path",
		"store postgres":                      "the postgres backend needs a url",
		"store postgres {{dir}}/gatehouse.db": "not a PostgreSQL URL",
		"store bolt {{dir}}/g.db {\n\t\t\tmax_staleness 1s\n\t\t}":      "store bolt takes no block",
		"store mysql://gh:" + testDBPassword + "@db/x":                  `unsupported URL scheme "mysql"`,
		"store postgres postgres://gh:" + testDBPassword + "@db:port/x": "not a valid URL",
		"store postgres {env.X} {\n\t\t\tmax_staleness -1s\n\t\t}":      "max_staleness -1s: must be positive",
		"store postgres {env.X} {\n\t\t\tconsistency_wait 0s\n\t\t}":    "consistency_wait 0s: must be positive",
		"store postgres {env.X} {\n\t\t\tmax_wait 1s\n\t\t}":            `unknown store postgres option "max_wait"`,
	} {
		cfg := strings.Replace(testCaddyfile, plain, bad, 1)
		err := validate(t, s.expand(cfg))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want it to contain %q", bad, err, want)
			continue
		}
		// A Caddyfile mistake names its line (the store option is line 11).
		if !strings.Contains(err.Error(), "Caddyfile:1") {
			t.Errorf("%q: error %v does not name the line", bad, err)
		}
		if strings.Contains(err.Error(), testDBPassword) {
			t.Errorf("%q: error %v shows the password", bad, err)
		}
	}
}

// store_timeout reaches the JSON config as a duration; a negative or
// malformed one is a config error.
func TestStoreTimeoutOption(t *testing.T) {
	s := newServer(t)
	const anchor = "store {{dir}}/gatehouse.db"
	with := func(opt string) string {
		return s.expand(strings.Replace(testCaddyfile, anchor, anchor+"\n\t\t"+opt, 1))
	}
	if raw := string(adapt(t, with("store_timeout 750ms"))); !strings.Contains(raw, `"store_timeout":750000000`) {
		t.Errorf("adapted config lacks store_timeout 750ms: %s", raw)
	}
	if err := validate(t, with("store_timeout 750ms")); err != nil {
		t.Errorf("store_timeout 750ms: %v", err)
	}
	for opt, want := range map[string]string{
		"store_timeout -1s":  "store_timeout -1s: must be positive",
		"store_timeout soon": `invalid duration "soon"`,
		"store_timeout":      "store_timeout",
	} {
		if err := validate(t, with(opt)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want it to contain %q", opt, err, want)
		}
	}
}

// A read of a store the app has not created yet waits for it only as long
// as the caller's context allows (the request path's store_timeout), not
// the pool's full wait.
func TestStoreNotCreatedYetHonoursTheContext(t *testing.T) {
	backend := &BoltStore{Path: filepath.Join(t.TempDir(), "later.db")}
	if err := backend.Provision(caddy.Context{}); err != nil {
		t.Fatal(err)
	}
	shared, key, err := acquireStore(backend, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = releaseStore(key) })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = shared.View(ctx, func(store.Tx) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("View on a store not created yet: %v, want the context's deadline", err)
	}
	if took := time.Since(start); took > storeReadyWait/2 {
		t.Errorf("View waited %s, past its context's 100ms", took)
	}
}
