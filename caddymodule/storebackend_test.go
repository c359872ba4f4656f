package caddymodule

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gatehouse-authz/gatehouse/internal/assertion"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/storeopen"
)

// testDBPassword is the password of the test's database URLs: no error,
// log line or adapted output may show it, except the JSON config itself
// when the Caddyfile spells it out.
const testDBPassword = "pw-5e7d0a"

// storeJSON adapts the test Caddyfile with its store line replaced and
// returns the app's store field.
func storeJSON(t *testing.T, s *server, line string) map[string]any {
	t.Helper()
	cfg := strings.Replace(testCaddyfile, "store {{dir}}/gatehouse.db", line, 1)
	var adapted struct {
		Apps struct {
			Gatehouse struct {
				Store json.RawMessage `json:"store"`
			} `json:"gatehouse"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(adapt(t, s.expand(cfg)), &adapted); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(adapted.Apps.Gatehouse.Store, &got); err != nil {
		t.Fatalf("%s: store is %s, want a module object: %v", line, adapted.Apps.Gatehouse.Store, err)
	}
	return got
}

// Each Caddyfile form of the store option adapts to its gatehouse.stores
// module object.
func TestStoreCaddyfileToJSON(t *testing.T) {
	s := newServer(t)
	path := filepath.Join(s.dir, "gatehouse.db")
	for line, want := range map[string]map[string]any{
		"store {{dir}}/gatehouse.db":                  {"backend": "bolt", "path": path},
		"store bolt {{dir}}/gatehouse.db":             {"backend": "bolt", "path": path},
		"store postgres {env.GATEHOUSE_DATABASE_URL}": {"backend": "postgres", "url": "{env.GATEHOUSE_DATABASE_URL}"},
		"store postgres {env.GATEHOUSE_DATABASE_URL} {\n\t\t\tmax_staleness 2s\n\t\t\tconsistency_wait 20ms\n\t\t}": {
			"backend": "postgres", "url": "{env.GATEHOUSE_DATABASE_URL}", "max_staleness": 2e9, "consistency_wait": 2e7},
		"store postgres postgresql://gh@db.internal:5432/gatehouse?sslmode=verify-full": {
			"backend": "postgres", "url": "postgresql://gh@db.internal:5432/gatehouse?sslmode=verify-full"},
		// A lone URL is classified as `gatehouse store --store` is.
		"store postgres://gh@db/gatehouse": {"backend": "postgres", "url": "postgres://gh@db/gatehouse"},
	} {
		if got := storeJSON(t, s, line); !reflect.DeepEqual(got, want) {
			t.Errorf("%q adapts to %v, want %v", line, got, want)
		}
	}
}

// loadJSON loads the test config with the app's store field replaced by
// store (raw JSON), the way a JSON config written by hand would have it.
func (s *server) loadJSON(store string) error {
	s.t.Helper()
	var cfg map[string]any
	if err := json.Unmarshal(adapt(s.t, s.expand(testCaddyfile)), &cfg); err != nil {
		s.t.Fatal(err)
	}
	app := cfg["apps"].(map[string]any)["gatehouse"].(map[string]any)
	app["store"] = json.RawMessage(store)
	raw, err := json.Marshal(cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	return caddy.Load(raw, true)
}

// JSON configs: the module object and, for configs already written, a
// plain string (a bbolt path) both run a real Caddy on the same file; an
// unknown backend, an object without a backend and a non-string non-object
// are config errors that say what to write.
func TestStoreJSONForms(t *testing.T) {
	s := newServer(t)
	path := s.storePath()
	quoted, _ := json.Marshal(path)
	for _, form := range []string{
		string(quoted),
		`{"backend": "bolt", "path": ` + string(quoted) + `}`,
	} {
		if err := s.loadJSON(form); err != nil {
			t.Fatalf("store %s: %v", form, err)
		}
		s.client.CloseIdleConnections()
		s.waitUp()
		if r := s.do(http.MethodGet, "/healthz", ""); r.StatusCode != http.StatusOK {
			t.Fatalf("store %s: GET /healthz %d %s", form, r.StatusCode, r.body)
		}
		if refs, ok := storePool.References(path); !ok || refs != 1 {
			t.Errorf("store %s: pool holds %s %d time(s) (%v), want once under its absolute path", form, path, refs, ok)
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the bolt backend did not create %s: %v", path, err)
	}

	for form, want := range map[string]string{
		`{"backend": "mysql", "path": "x"}`: `unknown store backend "mysql": use "bolt" or "postgres"`,
		`{"path": "x.db"}`:                  `names no backend: add "backend": "bolt" or "backend": "postgres"`,
		`42`:                                `expected a backend object such as {"backend":"bolt"`,
		`"mysql://u:` + testDBPassword + `@db/x"`:                                 `unsupported URL scheme "mysql"`,
		`{"backend": "bolt", "path": "postgres://u:` + testDBPassword + `@db/x"}`: "a URL, not a file path: for PostgreSQL write `store postgres <url>`",
	} {
		err := s.loadJSON(form)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("store %s: %v, want an error containing %q", form, err, want)
		}
		if err != nil && strings.Contains(err.Error(), testDBPassword) {
			t.Errorf("store %s: error %v shows the password", form, err)
		}
	}
}

// A postgres store validates without connecting (no side effect, as for
// bolt) and, started, reaches the PostgreSQL opener: this build's stub
// answers, and neither the error nor the log shows the password. An
// environment placeholder is resolved; an unset one is a config error.
func TestStorePostgresStart(t *testing.T) {
	s := newServer(t)
	url := "postgres://gatehouse:" + testDBPassword + "@127.0.0.1:1/gatehouse?sslmode=disable"
	t.Setenv("GATEHOUSE_TEST_DATABASE_URL", url)
	cfg := strings.Replace(testCaddyfile, "store {{dir}}/gatehouse.db",
		"store postgres {env.GATEHOUSE_TEST_DATABASE_URL} {\n\t\t\tmax_staleness 2s\n\t\t}", 1)
	if err := validate(t, s.expand(cfg)); err != nil {
		t.Fatalf("validate with a postgres store: %v", err)
	}

	err := s.tryLoad(cfg)
	if err == nil {
		t.Fatal("a postgres store on a closed port started")
	}
	if !strings.Contains(err.Error(), "connect") {
		t.Errorf("start: %v, want the PostgreSQL opener's connect error", err)
	}
	if !strings.Contains(err.Error(), "postgres://gatehouse:xxxxx@127.0.0.1:1/gatehouse") {
		t.Errorf("start: %v, want the store named with its password redacted", err)
	}
	if strings.Contains(err.Error(), testDBPassword) {
		t.Errorf("start error shows the password: %v", err)
	}
	if logs := readFile(t, filepath.Join(s.dir, "caddy.log")); strings.Contains(logs, testDBPassword) {
		t.Errorf("the log shows the password:\n%s", logs)
	}
	storePool.Range(func(key, _ any) bool {
		t.Errorf("a failed start left %s in the store pool", storeopen.Describe(key.(string)))
		return true
	})

	t.Setenv("GATEHOUSE_TEST_DATABASE_URL", "")
	if err := validate(t, s.expand(cfg)); err == nil || !strings.Contains(err.Error(), "empty once its placeholders are resolved") {
		t.Errorf("validate with the URL's variable unset: %v", err)
	}
}

// Two configs of one PostgreSQL database share one pooled store; when the
// second changes its options, a warning says they wait for a restart, and
// names the store without its password.
func TestStorePostgresReloadWithOtherOptionsWarns(t *testing.T) {
	url := "postgres://gh:" + testDBPassword + "@127.0.0.1:1/reload"
	backend := func(staleness time.Duration) *PostgresStore {
		p := &PostgresStore{URL: url, MaxStaleness: caddy.Duration(staleness)}
		if err := p.Provision(caddy.Context{}); err != nil {
			t.Fatal(err)
		}
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	core, logs := observer.New(zap.InfoLevel)
	logger := zap.New(core)
	first, key1, err := acquireStore(backend(time.Second), logger)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseStore(key1)
	same, key2, err := acquireStore(backend(time.Second), logger)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseStore(key2)
	if same != first || logs.Len() != 0 {
		t.Fatalf("same options: shared=%v, %d log lines", same == first, logs.Len())
	}
	other, key3, err := acquireStore(backend(3*time.Second), logger)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseStore(key3)
	if other != first {
		t.Fatal("one database, two pooled stores")
	}
	entries := logs.FilterMessageSnippet("take effect when the process restarts").All()
	if len(entries) != 1 {
		t.Fatalf("%d warnings, want 1: %v", len(entries), logs.All())
	}
	fields := entries[0].ContextMap()
	if fields["store"] != "postgres://gh:xxxxx@127.0.0.1:1/reload" || fields["options_configured"] != "max_staleness=3s consistency_wait=50ms" {
		t.Errorf("warning fields %v", fields)
	}
	for _, e := range logs.All() {
		if strings.Contains(fmt.Sprint(e.Message, e.ContextMap()), testDBPassword) {
			t.Errorf("a log line shows the password: %v", e)
		}
	}
}

// A bolt path may be a placeholder, resolved when the config loads.
func TestStoreBoltPathPlaceholder(t *testing.T) {
	s := newServer(t)
	path := filepath.Join(s.dir, "from-env.db")
	t.Setenv("GATEHOUSE_TEST_STORE", path)
	s.load(strings.Replace(testCaddyfile, "store {{dir}}/gatehouse.db", "store bolt {env.GATEHOUSE_TEST_STORE}", 1))
	if r := s.do(http.MethodGet, "/healthz", ""); r.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz: %d %s", r.StatusCode, r.body)
	}
	pooledStore(t, path)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the placeholder's path was not created: %v", err)
	}
}

// A store that opens at Start and turns out to hold gateway keys already
// (another process or replica made them after this config provisioned)
// is no error: the signer handed out at Provision takes the store's keys
// before any request can use it, so every gateway on one database signs
// and publishes the same keys. A request that asks for the keys before
// the store opened waits for them.
func TestSignerAdoptsTheKeysOfAStoreOpenedAtStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "later.db")
	backend := &BoltStore{Path: path}
	if err := backend.Provision(caddy.Context{}); err != nil {
		t.Fatal(err)
	}
	shared, key, err := acquireStore(backend, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer releaseStore(key)
	signer, err := shared.signer(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	again, err := shared.signer(time.Now())
	if err != nil || again != signer {
		t.Fatalf("a second config got another pending signer (%v)", err)
	}
	early := make(chan []byte, 1)
	go func() {
		jwks, _ := signer.JWKS() // before the store opens: waits
		early <- jwks
	}()

	// Another process creates the store, with its key, meanwhile.
	stored, err := assertion.NewStoredKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	seed(t, path, func(tx store.Tx) error { return tx.PutSigningKey(stored) })

	if err := shared.open(zap.NewNop()); err != nil {
		t.Fatalf("open of a store that has keys: %v", err)
	}
	want := `"kid":"` + stored.ID + `"`
	for name, jwks := range map[string][]byte{"waiting": <-early, "after": must(signer.JWKS())} {
		if !strings.Contains(string(jwks), want) || strings.Count(string(jwks), `"kid"`) != 1 {
			t.Errorf("JWKS (%s) %s, want only the store's key %s", name, jwks, stored.ID)
		}
	}
	token, err := signer.Sign(assertion.Facts{Subject: "alice"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if !strings.Contains(string(header), want) {
		t.Errorf("assertion header %s, want it signed with the store's key", header)
	}
	var keys []store.SigningKey
	if err := shared.View(context.Background(), func(tx store.Tx) (err error) {
		keys, err = tx.SigningKeys()
		return err
	}); err != nil || len(keys) != 1 {
		t.Errorf("the store holds %d keys (%v), want its own one only", len(keys), err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
