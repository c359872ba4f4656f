package gateway_test

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/changefeed"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore/pgtest"
)

// The tests below start a real PostgreSQL (pgtest); it stops with the
// test binary, and the miss benchmark's fixture is removed with it.
func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	removeMissFixture()
	os.Exit(code)
}

// replica is one gateway on the shared PostgreSQL database: its own
// pgstore (pool and listener), Live and engine, like one process.
type replica struct {
	live   *changefeed.Live
	policy *gateway.Policy
}

// hideWakeUps hides a store's NOTIFY wake-ups, so that its Live learns of
// other replicas' commits only by polling or reading through.
type hideWakeUps struct{ store.Store }

func (hideWakeUps) Subscribe() (<-chan struct{}, func()) { return make(chan struct{}), func() {} }

// newReplica opens dbURL as one more replica with f's verifier and rules.
func (f *fixture) newReplica(dbURL string, opts changefeed.Options, wrap func(store.Store) store.Store) *replica {
	f.t.Helper()
	pg, err := pgstore.Open(context.Background(), dbURL, pgstore.Options{})
	if err != nil {
		f.t.Fatalf("opening PostgreSQL: %v", err)
	}
	var s store.Store = pg
	if wrap != nil {
		s = wrap(pg)
	}
	live, err := changefeed.New(s, opts)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = live.Close() })
	e := f.newEngineWith(func(o *gateway.Options) { o.Live = live })
	p, err := e.NewPolicy(testRules, gateway.DefaultWorkspaceSource)
	if err != nil {
		f.t.Fatal(err)
	}
	return &replica{live: live, policy: p}
}

// seedPG writes f's workspaces and members through r.
func (f *fixture) seedPG(r *replica) {
	f.t.Helper()
	now := time.Now().UTC()
	err := r.live.Update(context.Background(), func(tx store.Tx) error {
		for _, ws := range []store.Workspace{f.acme, f.globex} {
			if err := tx.PutWorkspace(ws); err != nil {
				return err
			}
		}
		for _, m := range []store.Membership{
			{WorkspaceID: f.acme.ID, UserID: "alice", Roles: []string{"owner"}, JoinedAt: now, UpdatedAt: now},
			{WorkspaceID: f.acme.ID, UserID: "dave", Roles: []string{"operator"}, JoinedAt: now, UpdatedAt: now},
		} {
			if err := tx.PutMember(m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

func removeMember(ws, user string) func(store.Tx) error {
	return func(tx store.Tx) error { return tx.DeleteMember(ws, user) }
}

func (r *replica) get(path, token string, headers ...string) *gateway.Decision {
	req := request("GET", path, token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return decide(r.policy, req)
}

// A revoke on replica A is refused on A's very next request and on
// replica B (which had the allow cached) within 100 ms, through LISTEN/
// NOTIFY.
func TestReplicasRevokePropagates(t *testing.T) {
	f := newFixture(t)
	dbURL := pgtest.NewDatabase(t)
	opts := changefeed.Options{MaxStaleness: 5 * time.Second, ConsistencyWait: 50 * time.Millisecond}
	a, b := f.newReplica(dbURL, opts, nil), f.newReplica(dbURL, opts, nil)
	f.seedPG(a)
	tok := f.token("dave")
	eventuallyDecide(t, "B sees the seed", func() bool { return b.get("/w/acme/messages", tok).Allowed })
	for _, r := range []*replica{a, b} {
		if d := r.get("/w/acme/messages", tok); !d.Allowed {
			t.Fatalf("before the revoke: denied %+v", d.Problem)
		}
	}
	if _, err := a.live.UpdateRev(context.Background(), removeMember(f.acme.ID, "dave")); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	if d := a.get("/w/acme/messages", tok); d.Allowed {
		t.Fatal("A allowed the request right after its own revoke")
	}
	for b.get("/w/acme/messages", tok).Allowed {
		if time.Since(revoked) > 100*time.Millisecond {
			t.Fatalf("B still allowed the revoked member %s after the revoke", time.Since(revoked))
		}
		time.Sleep(time.Millisecond)
	}
	t.Logf("B refused the revoked member %s after the revoke", time.Since(revoked))
}

// A request carrying the revoke's consistency token is refused on its
// first try on a replica whose follower has not seen the revoke (its
// wake-ups hidden, no poll due): it waits, then reads through. The header
// is rate-limited per subject (503, never a stale answer), a token beyond
// the database's latest revision stays 400, and upstream gets the
// read-through's revision.
func TestReplicaConsistencyTokenReadsThrough(t *testing.T) {
	f := newFixture(t)
	dbURL := pgtest.NewDatabase(t)
	a := f.newReplica(dbURL, changefeed.Options{MaxStaleness: time.Hour}, nil)
	b := f.newReplica(dbURL, changefeed.Options{PollInterval: time.Hour, MaxStaleness: time.Hour, ConsistencyWait: 10 * time.Millisecond},
		func(s store.Store) store.Store { return hideWakeUps{s} })
	f.seedPG(a)
	tok := f.token("dave")
	seedTok := store.FormatToken(a.live.ID(), a.live.Revision())
	if d := b.get("/w/acme/messages", tok, gateway.HeaderConsistency, seedTok); !d.Allowed {
		t.Fatalf("with the seed's token B must read through and allow: %+v", d.Problem)
	}
	rev, err := a.live.UpdateRev(context.Background(), removeMember(f.acme.ID, "dave"))
	if err != nil {
		t.Fatal(err)
	}
	// The test needs B behind: its follower has not applied the revoke
	// (no wake-ups, no poll due), so its cache may still hold the allow.
	if b.live.Applied() >= rev {
		t.Fatalf("B applied %d before any token asked for it: the test proves nothing", b.live.Applied())
	}
	writeTok := store.FormatToken(a.live.ID(), rev)
	d := b.get("/w/acme/messages", tok, gateway.HeaderConsistency, writeTok)
	if d.Allowed || d.Problem == nil || d.Problem.Status != http.StatusNotFound {
		t.Fatalf("with the revoke's token: allowed=%v problem=%+v, want 404", d.Allowed, d.Problem)
	}
	// Upstream learns the revision the decision was made on.
	d = b.get("/w/acme", f.token("alice"), gateway.HeaderConsistency, writeTok)
	h := http.Header{}
	d.SetIdentityHeaders(h)
	// At least the token's: the read-through reads the log to its end, and
	// a background write (users seen) may have committed after the revoke.
	if got, err := strconv.ParseUint(h.Get(gateway.HeaderRevision), 10, 64); err != nil || got < rev {
		t.Errorf("%s = %q after the read-through to %d", gateway.HeaderRevision, h.Get(gateway.HeaderRevision), rev)
	}

	future := store.FormatToken(a.live.ID(), rev+1000)
	d = b.get("/w/acme/messages", f.token("alice"), gateway.HeaderConsistency, future)
	if d.Allowed || d.Problem == nil || d.Problem.Status != http.StatusBadRequest || d.Problem.Code != problem.CodeInvalidConsistencyToken {
		t.Fatalf("a token beyond the database: allowed=%v problem=%+v, want 400", d.Allowed, d.Problem)
	}

	// Each token is ahead of B (and of the database: 400 after its
	// read-through): after a small burst, alice's read-throughs are
	// refused with 503 before they reach the database.
	limited := false
	for i := 0; i < 20 && !limited; i++ {
		d := b.get("/w/acme/messages", f.token("alice"), gateway.HeaderConsistency, future)
		switch {
		case d.Problem != nil && d.Problem.Status == http.StatusBadRequest:
		case d.Problem != nil && d.Problem.Status == http.StatusServiceUnavailable && d.Problem.Code == problem.CodeUnavailable:
			limited = true
			if i < 2 {
				t.Errorf("limited after %d read-throughs", i)
			}
		default:
			t.Fatalf("read-through %d: allowed=%v %+v", i, d.Allowed, d.Problem)
		}
	}
	if !limited {
		t.Fatal("20 read-throughs in a row by one subject were never limited")
	}
	if d := b.get("/w/acme/messages", f.token("dave"), gateway.HeaderConsistency, future); d.Problem == nil || d.Problem.Status != http.StatusBadRequest {
		t.Fatalf("one subject's budget limited another: %+v", d.Problem)
	}
	// Over budget with a token B is really behind: 503, or (if the
	// follower got there) a decision at least that fresh, never an
	// answer from older data.
	r, err := a.live.UpdateRev(context.Background(), func(tx store.Tx) error { return tx.PutWorkspace(f.globex) })
	if err != nil {
		t.Fatal(err)
	}
	if d := b.get("/w/acme", f.token("alice"), gateway.HeaderConsistency, store.FormatToken(a.live.ID(), r)); d.Allowed {
		// alice is still over budget: fine only if the follower caught up.
		if b.live.Applied() < r {
			t.Fatal("an over-budget read-through was answered from data older than the token")
		}
	}
	if n := b.live.ReadThroughs(); n < 3 {
		t.Errorf("ReadThroughs = %d", n)
	}
}

// With the database down, a replica answers member and permission rules
// with 503 once max_staleness has passed since its last confirmed
// catch-up, never with a cached allow after that; public rules keep
// working; after the database is back it recovers by itself.
func TestReplicaFailsClosedWhenStale(t *testing.T) {
	f := newFixture(t)
	dbURL := pgtest.NewDatabase(t)
	// A second, not less: under load (CI on two cores, race detector) a
	// healthy follower's catch-up has been seen 460 ms apart.
	const maxStale = time.Second
	a := f.newReplica(dbURL, changefeed.Options{MaxStaleness: maxStale}, nil)
	f.seedPG(a)
	tok := f.token("dave")
	if d := a.get("/w/acme/messages", tok); !d.Allowed {
		t.Fatalf("before the stop: %+v", d.Problem)
	}
	for i := 0; i < 100; i++ {
		if a.live.Stale() {
			t.Fatalf("a healthy replica read as stale (last catch-up %s ago)", time.Since(a.live.CaughtUpAt()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Stopping takes a while (a fast shutdown): the clock starts before.
	stopped := time.Now()
	pgtest.StopServer(t)
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			pgtest.Restart(t)
		}
	})
	var first503 time.Duration
	for first503 == 0 {
		// Read before the decision: the decision can only be younger.
		caught := a.live.CaughtUpAt()
		d := a.get("/w/acme/messages", tok)
		switch {
		case d.Allowed:
			if time.Since(caught) > maxStale+50*time.Millisecond {
				t.Fatalf("a cached allow %s after the last confirmed catch-up (max_staleness %s)", time.Since(caught), maxStale)
			}
		case d.Problem != nil && d.Problem.Status == http.StatusServiceUnavailable && d.Problem.Code == problem.CodeUnavailable:
			// A failed fill is a 503 too; wait for the staleness check's.
			if gateway.IsStale(d.Err) {
				first503 = time.Since(stopped)
			}
		default:
			t.Fatalf("while stale: %+v", d.Problem)
		}
		if time.Since(stopped) > maxStale+2*time.Second {
			t.Fatalf("still no 503 %s after the database stopped", time.Since(stopped))
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("first staleness 503 %s after the database stopped (max_staleness %s)", first503, maxStale)
	if d := a.get("/healthz", ""); !d.Allowed {
		t.Errorf("a public rule failed while stale: %+v", d.Problem)
	}
	if d := a.get("/me", tok); !d.Allowed {
		t.Errorf("an authenticated rule (no store data) failed while stale: %+v", d.Problem)
	}
	if d := a.get("/w/acme", f.token("alice")); d.Allowed {
		t.Error("a member rule was allowed while stale")
	}
	pgtest.Restart(t)
	restarted = true
	eventuallyDecide(t, "recovery after the database restart", func() bool { return a.get("/w/acme/messages", tok).Allowed })
}

func eventuallyDecide(t *testing.T, what string, cond func() bool) {
	t.Helper()
	within(t, what, 20*time.Second, cond)
}

// pausingView pauses the first armed View after its read, until resume is
// closed: a cache fill that read the database and has not cached yet.
type pausingView struct {
	store.Store
	armed  chan struct{} // receives once to arm
	read   chan struct{} // closed when the armed View has read
	resume chan struct{}
}

func (p *pausingView) View(ctx context.Context, fn func(store.Tx) error) error {
	err := p.Store.View(ctx, fn)
	select {
	case <-p.armed:
		close(p.read)
		<-p.resume
	default:
	}
	return err
}

// A fill on replica B that read the database before a revoke committed
// on replica A (another Store value, another pool) and was applied by B's
// follower is never served afterwards: its stamp was taken before the
// read, and the apply outdated it.
func TestReplicaFillFencedByRevision(t *testing.T) {
	f := newFixture(t)
	dbURL := pgtest.NewDatabase(t)
	opts := changefeed.Options{MaxStaleness: 5 * time.Second}
	a := f.newReplica(dbURL, opts, nil)
	f.seedPG(a)
	pv := &pausingView{armed: make(chan struct{}, 1), read: make(chan struct{}), resume: make(chan struct{})}
	b := f.newReplica(dbURL, opts, func(s store.Store) store.Store { pv.Store = s; return pv })
	eventuallyDecide(t, "B sees the seed", func() bool { return b.live.Applied() >= a.live.Revision() })
	path := "/w/" + f.acme.ID + "/messages"
	tok := f.token("dave")

	pv.armed <- struct{}{}
	first := make(chan *gateway.Decision, 1)
	go func() { first <- b.get(path, tok) }()
	<-pv.read // B's fill has read dave's membership
	rev, err := a.live.UpdateRev(context.Background(), removeMember(f.acme.ID, "dave"))
	if err != nil {
		t.Fatal(err)
	}
	eventuallyDecide(t, "B applies the revoke", func() bool { return b.live.Applied() >= rev })
	close(pv.resume) // the fill caches what it read before the revoke
	<-first          // decided on data read before the revoke: either answer
	deadline := time.Now().Add(200 * time.Millisecond)
	for n := 0; time.Now().Before(deadline); n++ {
		if d := b.get(path, tok); d.Allowed {
			t.Fatalf("request %d after the revoke was applied: served the fill that read before it", n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// BenchmarkDecideCachedMemberPostgres is BenchmarkDecideCachedMember/slug
// with the store on PostgreSQL (spec §9: a cached decision costs what it
// costs on bbolt). The difference is the staleness check, which reads the
// real clock once per decision because max_staleness is set.
func BenchmarkDecideCachedMemberPostgres(b *testing.B) {
	f := newFixture(b)
	pg, err := pgstore.Open(context.Background(), pgtest.NewDatabase(b), pgstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	live, err := changefeed.New(pg, changefeed.Options{MaxStaleness: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = live.Close() })
	f.seedPG(&replica{live: live})
	e := f.newEngineWith(func(o *gateway.Options) {
		o.Live = live
		o.Authenticator = staticAuth{authn.Principal{Subject: "dave", Cached: true}}
	})
	p, err := e.NewPolicy(testRules, gateway.DefaultWorkspaceSource)
	if err != nil {
		b.Fatal(err)
	}
	benchDecide(b, p, "/w/acme/messages", "t")
}
