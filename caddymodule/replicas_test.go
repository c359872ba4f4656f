package caddymodule

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/internal/assertion"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore/pgtest"
)

// postgresCaddyfile is testCaddyfile on PostgreSQL, with Caddy's metrics
// endpoint at /metrics.
func postgresCaddyfile(maxStaleness string) string {
	cfg := strings.Replace(testCaddyfile, "store {{dir}}/gatehouse.db",
		"store postgres {env.GATEHOUSE_TEST_DATABASE_URL} {\n\t\t\tmax_staleness "+maxStaleness+"\n\t\t\tconsistency_wait 20ms\n\t\t}", 1)
	return strings.Replace(cfg, "\thandle_path /gatehouse/* {", "\thandle /metrics {\n\t\tmetrics\n\t}\n\thandle_path /gatehouse/* {", 1)
}

// metric reads one unlabelled sample from the metrics endpoint (-1 when
// absent).
func (s *server) metric(name string) float64 {
	s.t.Helper()
	r := s.do("GET", "/metrics", "")
	if r.StatusCode != http.StatusOK {
		s.t.Fatalf("GET /metrics: %d", r.StatusCode)
	}
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(r.body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		s.t.Fatal(err)
	}
	return v
}

func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A gateway on PostgreSQL, through real Caddy: a write by another process
// (a second Store on the database, like the CLI or another replica)
// reaches it through the feed; the store metrics move; stopping the
// database gives 503 with Retry-After on member rules and on the
// management API once max_staleness has passed, never a stale 200, while
// public rules answer; after the restart it recovers by itself.
func TestGatewayOnPostgresStaleAndMetrics(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	t.Setenv("GATEHOUSE_TEST_DATABASE_URL", dbURL)
	s := newServer(t)
	const maxStale = 500 * time.Millisecond
	s.load(postgresCaddyfile("500ms"))

	other, err := pgstore.Open(context.Background(), dbURL, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	now := time.Now().UTC()
	ws := store.Workspace{ID: "ws_acme0000000000000000000000", Slug: "acme", Name: "Acme", CreatedAt: now, UpdatedAt: now}
	rev, err := other.UpdateRev(context.Background(), func(tx store.Tx) error {
		if err := tx.PutWorkspace(ws); err != nil {
			return err
		}
		return tx.PutMember(store.Membership{WorkspaceID: ws.ID, UserID: "dave", Roles: []string{"operator"}, JoinedAt: now, UpdatedAt: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	dave := s.token("dave")
	waitFor(t, "the other process's write reaches the gateway", 5*time.Second, func() bool {
		return s.do("GET", "/w/acme/messages", dave).StatusCode == http.StatusOK
	})
	waitFor(t, "gatehouse_store_revision reaches the write", time.Second, func() bool {
		return s.metric("gatehouse_store_revision") >= float64(rev)
	})
	// dave's decision is cached now, filled after the feed applied the
	// write: the first fill may predate that (it read the database
	// directly), and the write's late bump outdated it. The stale check
	// below is about a replica answering from its cache, so it needs one.
	if r := s.do("GET", "/w/acme/messages", dave); r.StatusCode != http.StatusOK {
		t.Fatalf("dave after the feed applied the write: %d %s", r.StatusCode, r.body)
	}
	if got := s.metric("gatehouse_store_listener_up"); got != 1 {
		t.Errorf("gatehouse_store_listener_up = %v with the database up", got)
	}
	if got := s.metric("gatehouse_store_lag_seconds"); got < 0 || got >= maxStale.Seconds() {
		t.Errorf("gatehouse_store_lag_seconds = %v on a healthy replica", got)
	}
	reconnects := s.metric("gatehouse_store_reconnects_total")
	readThroughs := s.metric("gatehouse_store_read_through_total")
	if reconnects < 0 || readThroughs < 0 {
		t.Fatalf("missing counters: reconnects %v, read-throughs %v", reconnects, readThroughs)
	}
	// A token beyond the database's revision reads through, then is 400.
	future := store.FormatToken(other.ID(), rev+1000)
	if r := s.do("GET", "/w/acme/messages", dave, "Gatehouse-Consistency", future); r.StatusCode != http.StatusBadRequest {
		t.Errorf("a token from the database's future: %d", r.StatusCode)
	}
	if got := s.metric("gatehouse_store_read_through_total"); got != readThroughs+1 {
		t.Errorf("gatehouse_store_read_through_total = %v after one read-through, was %v", got, readThroughs)
	}

	stopped := time.Now()
	pgtest.StopServer(t)
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			pgtest.Restart(t)
		}
	})
	waitFor(t, "member rules fail closed", maxStale+5*time.Second, func() bool {
		r := s.do("GET", "/w/acme/messages", dave)
		if r.StatusCode == http.StatusOK && time.Since(stopped) > maxStale+time.Second {
			t.Fatalf("a 200 %s after the database stopped (max_staleness %s)", time.Since(stopped), maxStale)
		}
		return r.StatusCode == http.StatusServiceUnavailable
	})
	r := s.do("GET", "/w/acme/messages", dave)
	if r.StatusCode != http.StatusServiceUnavailable || r.problem(t)["code"] != "unavailable" {
		t.Fatalf("stale member rule: %d %s", r.StatusCode, r.body)
	}
	if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After = %q", r.Header.Get("Retry-After"))
	}
	if r := s.do("GET", "/healthz", ""); r.StatusCode != http.StatusOK {
		t.Errorf("a public rule while stale: %d", r.StatusCode)
	}
	if r := s.do("GET", "/gatehouse/v1/me", dave); r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
		t.Errorf("the management API while stale: %d %s", r.StatusCode, r.body)
	}
	if got := s.metric("gatehouse_store_listener_up"); got != 0 {
		t.Errorf("gatehouse_store_listener_up = %v with the database down", got)
	}
	if got := s.metric("gatehouse_store_lag_seconds"); got < maxStale.Seconds() {
		t.Errorf("gatehouse_store_lag_seconds = %v while stale", got)
	}

	pgtest.Restart(t)
	restarted = true
	waitFor(t, "recovery after the restart", 30*time.Second, func() bool {
		return s.do("GET", "/w/acme/messages", dave).StatusCode == http.StatusOK
	})
	waitFor(t, "the listener is back", 10*time.Second, func() bool { return s.metric("gatehouse_store_listener_up") == 1 })
	if got := s.metric("gatehouse_store_reconnects_total"); got <= reconnects {
		t.Errorf("gatehouse_store_reconnects_total = %v after a database restart, was %v", got, reconnects)
	}
}

// Two gateways (two pools: as two processes) starting at once on one
// PostgreSQL database end with one gateway signing key, and both publish
// the same JWK set; a key another process adds is published by both
// within the refresh bound, without a restart.
func TestReplicasShareOneSigningKey(t *testing.T) {
	old := signingKeyRefresh
	signingKeyRefresh = 50 * time.Millisecond
	t.Cleanup(func() { signingKeyRefresh = old })
	dbURL := pgtest.NewDatabase(t)
	logger := zap.NewNop()
	start := func(app string) *sharedStore {
		// Another URL of the same database: its own pool, as in another
		// process.
		p := &PostgresStore{URL: dbURL + "&application_name=" + app}
		if err := p.Provision(caddy.Context{}); err != nil {
			t.Fatal(err)
		}
		shared, key, err := acquireStore(p, logger)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = releaseStore(key) })
		if _, err := shared.signer(time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		return shared
	}
	a, b := start("gatehouse_a"), start("gatehouse_b")
	errs := make(chan error, 2)
	for _, s := range []*sharedStore{a, b} {
		go func() { errs <- s.open(logger) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	other, err := pgstore.Open(context.Background(), dbURL, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	keys := func() []store.SigningKey {
		var ks []store.SigningKey
		if err := other.View(context.Background(), func(tx store.Tx) error {
			var err error
			ks, err = tx.SigningKeys()
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return ks
	}
	if ks := keys(); len(ks) != 1 {
		t.Fatalf("two gateways starting at once left %d signing keys, want 1", len(ks))
	}
	jwks := func(s *sharedStore) string {
		g, err := s.signer(time.Now().UTC())
		if err != nil {
			t.Fatal(err)
		}
		j, err := g.JWKS()
		if err != nil {
			t.Fatal(err)
		}
		return string(j)
	}
	if ja, jb := jwks(a), jwks(b); ja != jb {
		t.Fatalf("the two gateways publish different key sets:\n%s\n%s", ja, jb)
	}
	key, err := assertion.NewStoredKey(time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Update(context.Background(), func(tx store.Tx) error { return tx.PutSigningKey(key) }); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*sharedStore{a, b} {
		waitFor(t, "the added key is published", 5*time.Second, func() bool { return strings.Contains(jwks(s), key.ID) })
	}
}
