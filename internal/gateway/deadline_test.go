package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/changefeed"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// stuckStore is the real bbolt store (through the fixture's Live) whose reads, while stuck is set, hang
// until released — ignoring ctx, as a bbolt read waiting on a remap or a
// network backend that does not answer would.
type stuckStore struct {
	*changefeed.Live
	stuck   atomic.Bool
	views   atomic.Int32 // reads that got stuck
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func newStuckStore(f *fixture) *stuckStore {
	s := &stuckStore{Live: f.store, entered: make(chan struct{}, 64), release: make(chan struct{})}
	s.stuck.Store(true)
	return s
}

func (s *stuckStore) View(ctx context.Context, fn func(store.Tx) error) error {
	if s.stuck.Load() {
		s.views.Add(1)
		s.entered <- struct{}{}
		<-s.release
	}
	return s.Live.View(ctx, fn)
}

// unstick lets every stuck read through, once.
func (s *stuckStore) unstick() {
	s.once.Do(func() {
		s.stuck.Store(false)
		close(s.release)
	})
}

// engineOn returns an engine reading from s with the given store timeout;
// the store is unstuck before the engine closes.
func (f *fixture) engineOn(s store.Store, timeout time.Duration) *gateway.Engine {
	f.t.Helper()
	e := f.newEngineWith(func(o *gateway.Options) {
		o.Live = f.liveOn(s)
		o.StoreTimeout = timeout
	})
	if st, ok := s.(*stuckStore); ok {
		f.t.Cleanup(st.unstick) // runs before the engine's Close
	}
	return e
}

// decideWithin runs the decision for r and fails the test if it does not
// return within limit (the old code waited for the store forever).
func decideWithin(t *testing.T, limit time.Duration, p *gateway.Policy, r *http.Request) (*gateway.Decision, time.Duration) {
	t.Helper()
	done := make(chan *gateway.Decision, 1)
	start := time.Now()
	go func() { done <- decide(p, r) }()
	select {
	case d := <-done:
		return d, time.Since(start)
	case <-time.After(limit):
		t.Fatalf("%s %s: no decision after %s: the store read has no deadline", r.Method, r.URL.Path, limit)
		return nil, 0
	}
}

// A cache miss whose store read hangs is answered 503 unavailable within
// about the store timeout — not an allow, not a 404 — for a membership by
// slug and by id and for an API key lookup, with the cause for the log.
func TestStoreReadDeadlineFailsClosed(t *testing.T) {
	f := newFixture(t)
	key, _ := f.putKey(f.acme, []string{"message.read"}, nil)
	stuck := newStuckStore(f)
	const timeout = 150 * time.Millisecond
	f.engine = f.engineOn(stuck, timeout)
	p := f.policy(gateway.DefaultWorkspaceSource)

	for _, c := range []struct{ name, path, token string }{
		{"member by slug", "/w/acme/messages", f.token("alice")},
		{"member by id", "/w/" + f.acme.ID + "/messages", f.token("olga")},
		{"API key", "/w/acme/messages", key},
	} {
		d, took := decideWithin(t, 3*time.Second, p, request("GET", c.path, c.token))
		check(t, c.name, d, want{503, "unavailable", ""})
		if took < timeout || took > timeout+time.Second {
			t.Errorf("%s: answered after %s, want about %s", c.name, took, timeout)
		}
		if !errors.Is(d.Err, context.DeadlineExceeded) || !strings.Contains(d.Err.Error(), "store_timeout") {
			t.Errorf("%s: the logged cause is %v, want the store timeout", c.name, d.Err)
		}
	}
	if stuck.views.Load() == 0 {
		t.Fatal("no read reached the store")
	}

	// Once the store answers again, the same requests are decided normally:
	// nothing about the failure was cached.
	stuck.unstick()
	check(t, "member by slug, store back", decide(p, request("GET", "/w/acme/messages", f.token("alice"))), want{})
	check(t, "API key, store back", decide(p, request("GET", "/w/acme/messages", key)), want{})
}

// A request whose context has ended (its client went away) is never
// allowed on a cache miss, even when the store would answer.
func TestCancelledRequestIsNotAllowed(t *testing.T) {
	f := newFixture(t)
	key, _ := f.putKey(f.acme, []string{"message.read"}, nil)
	p := f.policy(gateway.DefaultWorkspaceSource)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct{ name, token string }{
		{"member", f.token("alice")},
		{"API key", key},
	} {
		r := request("GET", "/w/acme/messages", c.token).WithContext(ctx)
		d := decide(p, r)
		check(t, c.name+", cancelled", d, want{503, "unavailable", ""})
		if !errors.Is(d.Err, context.Canceled) {
			t.Errorf("%s: the logged cause is %v, want context.Canceled", c.name, d.Err)
		}
		// The same request from a client still there is allowed.
		check(t, c.name+", live", decide(p, request("GET", "/w/acme/messages", c.token)), want{})
	}
}

// Concurrent misses share one store read. The client that started it
// hanging up stops its own wait at once, and does not fail the read the
// others are waiting for.
func TestCancelledWaiterDoesNotFailTheSharedFill(t *testing.T) {
	f := newFixture(t)
	stuck := newStuckStore(f)
	f.engine = f.engineOn(stuck, 5*time.Second)
	p := f.policy(gateway.DefaultWorkspaceSource)
	tok := f.token("alice")

	ctxA, cancelA := context.WithCancel(context.Background())
	doneA := make(chan *gateway.Decision, 1)
	go func() { doneA <- decide(p, request("GET", "/w/acme/messages", tok).WithContext(ctxA)) }()
	<-stuck.entered // A's read is in the store

	doneB := make(chan *gateway.Decision, 1)
	go func() { doneB <- decide(p, request("GET", "/w/acme/messages", tok)) }()

	cancelA()
	select {
	case d := <-doneA:
		check(t, "A, cancelled while waiting", d, want{503, "unavailable", ""})
	case <-time.After(2 * time.Second):
		t.Fatal("A's wait did not end with its context")
	}
	select {
	case d := <-doneB:
		t.Fatalf("B was answered (%v) before the store: the shared read failed with A", d.Problem)
	case <-time.After(100 * time.Millisecond):
	}
	stuck.unstick()
	select {
	case d := <-doneB:
		check(t, "B, waiting on the read A started", d, want{})
	case <-time.After(3 * time.Second):
		t.Fatal("B got no decision")
	}
	if n := stuck.views.Load(); n != 1 {
		t.Errorf("%d store reads for one key, want 1 (misses coalesced)", n)
	}
}

// viewStore is the real store whose reads go through view, which a test
// writes: to count them, hold them, make them panic, or answer from
// elsewhere.
type viewStore struct {
	*changefeed.Live
	view func(ctx context.Context, fn func(store.Tx) error) error
}

func (s *viewStore) View(ctx context.Context, fn func(store.Tx) error) error { return s.view(ctx, fn) }

// A store read that panics fails its request closed (503, the panic as the
// logged cause) without taking the process down, and the goroutine it ran
// on goes on serving the misses after it: many panics in a row, then the
// same request, are answered normally.
func TestStoreReadPanicFailsClosed(t *testing.T) {
	f := newFixture(t)
	const panics = 20
	var panicsLeft atomic.Int32
	panicsLeft.Store(panics)
	f.engine = f.engineOn(&viewStore{Live: f.store, view: func(ctx context.Context, fn func(store.Tx) error) error {
		if panicsLeft.Add(-1) >= 0 {
			panic("a read went wrong")
		}
		return f.store.View(ctx, fn)
	}}, time.Second)
	p := f.policy(gateway.DefaultWorkspaceSource)
	for i := range panics {
		d, _ := decideWithin(t, 3*time.Second, p, request("GET", "/w/acme/messages", f.token("alice")))
		check(t, fmt.Sprintf("read %d, panicking", i), d, want{503, "unavailable", ""})
		if d.Err == nil || !strings.Contains(d.Err.Error(), "store read panicked: a read went wrong") {
			t.Fatalf("read %d: the logged cause is %v, want the panic", i, d.Err)
		}
	}
	check(t, "after the panics", decide(p, request("GET", "/w/acme/messages", f.token("alice"))), want{})
}

// Misses one after another reuse the reader goroutines instead of starting
// one each (a new goroutine grows its stack through the read's frames again
// on every miss): 300 sequential misses start only a handful.
func TestSequentialMissesReuseReaders(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	check(t, "first miss", decide(p, request("GET", "/w/acme/messages", f.token("alice"))), want{})
	const misses = 300
	tokens := make([]string, misses)
	for i := range tokens {
		tokens[i] = f.token(fmt.Sprintf("nobody%d", i)) // a new user each time: every decision is a miss
	}
	before := goroutinesCreated()
	for _, tok := range tokens {
		check(t, "miss", decide(p, request("GET", "/w/acme/messages", tok)), want{404, "workspace_not_found", ""})
	}
	if n := goroutinesCreated() - before; n > misses/10 {
		t.Errorf("%d goroutines started for %d sequential misses: reads do not reuse readers", n, misses)
	}
}

func goroutinesCreated() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// A burst of concurrent misses starts a reader for each, and once it is
// over only a bounded number of readers stay waiting for the next miss:
// the others exit at once instead of holding their stacks.
func TestReadersAfterABurstAreBounded(t *testing.T) {
	f := newFixture(t)
	// Every read waits until open is closed.
	open := make(chan struct{})
	var waiting atomic.Int32
	f.engine = f.engineOn(&viewStore{Live: f.store, view: func(ctx context.Context, fn func(store.Tx) error) error {
		waiting.Add(1)
		<-open
		return f.store.View(ctx, fn)
	}}, 10*time.Second)
	p := f.policy(gateway.DefaultWorkspaceSource)
	const burst = 3 * gateway.MaxIdleReaders
	tokens := make([]string, burst)
	for i := range tokens {
		tokens[i] = f.token(fmt.Sprintf("burst%d", i))
	}
	before := runtime.NumGoroutine()
	var wg sync.WaitGroup
	for _, tok := range tokens {
		wg.Go(func() {
			check(t, "burst miss", decide(p, request("GET", "/w/acme/messages", tok)), want{404, "workspace_not_found", ""})
		})
	}
	within(t, "every miss waiting in the store", 5*time.Second, func() bool { return waiting.Load() == burst })
	// One goroutine per decision and one reader per read (other tests'
	// idle readers may be exiting meanwhile: half a burst of slack).
	if n := runtime.NumGoroutine(); n < before+burst+burst/2 {
		t.Errorf("%d goroutines during a burst of %d stuck misses (from %d): each read should have its reader", n, burst, before)
	}
	close(open)
	wg.Wait()
	// Well before the readers' idle timeout (10 s).
	within(t, "readers beyond the idle bound gone", 3*time.Second, func() bool {
		return runtime.NumGoroutine() <= before+gateway.MaxIdleReaders+8
	})
}

// within fails t unless cond holds within d.
func within(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
