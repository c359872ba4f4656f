package gateway_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/signing"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// localEngine returns an engine with local_workspaces on, reading
// through live (nil: the fixture's store), and its policy.
func (f *fixture) localEngine(t *testing.T, live store.Store) *gateway.Policy {
	t.Helper()
	cfg := testConfig()
	cfg.LocalWorkspaces = true
	f.engine = f.newEngineWith(func(o *gateway.Options) {
		o.Model = newModel(t, cfg)
		if live != nil {
			o.Live = f.liveOn(live)
		}
	})
	return f.policy(gateway.DefaultWorkspaceSource)
}

// localWorkspaces lists the LOCAL workspaces of user.
func (f *fixture) localWorkspaces(user string) []store.Workspace {
	f.t.Helper()
	var out []store.Workspace
	must(f.t, f.store.View(context.Background(), func(tx store.Tx) error {
		out = nil
		all, _, err := tx.Workspaces("", 0)
		for _, w := range all {
			if w.Scope == store.ScopeLocal && w.OwnerID == user {
				out = append(out, w)
			}
		}
		return err
	}))
	return out
}

// tokenWithID signs a token of sub that differs from every other (a
// fresh token of the same user, not the verified-token cache's).
func (f *fixture) tokenWithID(sub, id string) string {
	f.t.Helper()
	tok, err := signing.Sign(f.key, signing.TokenSpec{Subject: sub, Email: sub + "@example.com", Claims: map[string]any{"jti": id}})
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

func TestLocalWorkspaceMadeOnFirstRequest(t *testing.T) {
	f := newFixture(t)
	p := f.localEngine(t, nil)
	if got := f.localWorkspaces("zoe"); len(got) != 0 {
		t.Fatalf("before any request: %v", got)
	}
	slug := model.LocalSlug("zoe", 0)
	// The very first request, on the workspace itself, reaches it.
	check(t, "first request", decide(p, request("GET", "/w/"+slug+"/messages", f.token("zoe"))), want{})
	got := f.localWorkspaces("zoe")
	if len(got) != 1 || got[0].Slug != slug || got[0].Name != model.LocalWorkspaceName {
		t.Fatalf("after the first request: %+v", got)
	}
	check(t, "by id", decide(p, request("GET", "/w/"+got[0].ID, f.token("zoe"))), want{})
	// Invisible to others, byte for byte like an unknown workspace.
	check(t, "another user", decide(p, request("GET", "/w/"+slug+"/messages", f.token("alice"))), want{404, "workspace_not_found", ""})
	// A second token, and many more, make no second one.
	for i := range 3 {
		check(t, "another token", decide(p, request("GET", "/me", f.tokenWithID("zoe", string(rune('a'+i))))), want{})
	}
	if got := f.localWorkspaces("zoe"); len(got) != 1 {
		t.Errorf("after more tokens: %d local workspaces", len(got))
	}
	// A public request without credentials makes nothing; an API key
	// neither.
	check(t, "public", decide(p, request("GET", "/healthz", "")), want{})
	key, _ := f.putKey(f.acme, []string{"message.read"}, nil)
	check(t, "api key", decide(p, request("GET", "/w/acme/messages", key)), want{})
	var n int
	must(t, f.store.View(context.Background(), func(tx store.Tx) error {
		all, _, err := tx.Workspaces("", 0)
		n = len(all)
		return err
	}))
	if n != 5 { // acme, globex, gone, zoe's and alice's (her token above)
		t.Errorf("%d workspaces, want 5", n)
	}
	if got := f.localWorkspaces("alice"); len(got) != 1 || got[0].Slug == slug {
		t.Errorf("alice's local workspace: %+v", got)
	}
}

// Concurrent first requests of one user, each with its own token, make
// exactly one local workspace, and every one of them reaches it.
func TestLocalWorkspaceConcurrentFirstRequests(t *testing.T) {
	f := newFixture(t)
	p := f.localEngine(t, nil)
	slug := model.LocalSlug("zoe", 0)
	tokens := make([]string, 8)
	for i := range tokens {
		tokens[i] = f.tokenWithID("zoe", string(rune('a'+i)))
	}
	var wg sync.WaitGroup
	for _, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if d := decide(p, request("GET", "/w/"+slug+"/messages", tok)); !d.Allowed {
				t.Errorf("concurrent first request denied: %+v", d.Problem)
			}
		}()
	}
	wg.Wait()
	if got := f.localWorkspaces("zoe"); len(got) != 1 {
		t.Errorf("%d local workspaces, want 1", len(got))
	}
}

// failingWrites refuses every write while fail is set.
type failingWrites struct {
	store.Store
	fail   atomic.Bool
	writes atomic.Int64
}

var errWritesDown = errors.New("writes are down")

func (s *failingWrites) Update(ctx context.Context, fn func(store.Tx) error) error {
	s.writes.Add(1)
	if s.fail.Load() {
		return errWritesDown
	}
	return s.Store.Update(ctx, fn)
}

func (s *failingWrites) UpdateRev(ctx context.Context, fn func(store.Tx) error) (uint64, error) {
	s.writes.Add(1)
	if s.fail.Load() {
		return 0, errWritesDown
	}
	return s.Store.UpdateRev(ctx, fn)
}

// A store that cannot write when the local workspace is due fails the
// request neither open nor closed: it is decided as without the hook (an
// authenticated rule passes, the missing workspace is a 404), and the
// same token retries it once the store is back.
func TestLocalWorkspaceStoreFailure(t *testing.T) {
	f := newFixture(t)
	s := &failingWrites{Store: f.raw}
	s.fail.Store(true)
	p := f.localEngine(t, s)
	slug := model.LocalSlug("zoe", 0)
	tok := f.token("zoe")
	check(t, "authenticated rule while writes fail", decide(p, request("GET", "/me", tok)), want{})
	check(t, "the missing workspace", decide(p, request("GET", "/w/"+slug+"/messages", tok)), want{404, "workspace_not_found", ""})
	if got := f.localWorkspaces("zoe"); len(got) != 0 {
		t.Fatalf("made while writes fail: %v", got)
	}
	s.fail.Store(false)
	deadline := time.Now().Add(5 * time.Second)
	for {
		d := decide(p, request("GET", "/w/"+slug+"/messages", tok)) // the cached token
		if d.Allowed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not retried with the cached token: %+v", d.Problem)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := f.localWorkspaces("zoe"); len(got) != 1 {
		t.Errorf("%d local workspaces, want 1", len(got))
	}
	// Once made, a cached token writes nothing more.
	before := s.writes.Load()
	for range 5 {
		decide(p, request("GET", "/me", tok))
	}
	if after := s.writes.Load(); after != before {
		t.Errorf("%d writes on cached requests after success", after-before)
	}
}

// With local_workspaces off, nothing is made.
func TestLocalWorkspaceOff(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	check(t, "request", decide(p, request("GET", "/me", f.token("zoe"))), want{})
	if got := f.localWorkspaces("zoe"); len(got) != 0 {
		t.Errorf("made with local_workspaces off: %v", got)
	}
}
