package gateway_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Every committed change is seen by the very next decision, even when the
// previous decision was served from the cache (README "Management API": the very next request sees it).
func TestChangesTakeEffectOnTheNextRequest(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	eve, olga := f.token("eve"), f.token("olga")
	export := func() *gateway.Decision { return decide(p, request("GET", "/w/acme/contacts/export", eve)) }

	// Warm the cache, twice so the second answer is a hit.
	check(t, "warm", export(), want{})
	check(t, "warm hit", export(), want{})

	// Custom role edited: contact.manage removed from "exporter".
	f.update(func(tx store.Tx) error {
		r, err := tx.Role(f.acme.ID, "exporter")
		must(t, err)
		r.Permissions = []string{"contact.read"}
		return tx.PutRole(r)
	})
	check(t, "after role edit", export(), want{403, "forbidden", "contact.manage"})

	// Membership changed: a grant gives it back.
	f.update(func(tx store.Tx) error {
		m, err := tx.Member(f.acme.ID, "eve")
		must(t, err)
		m.Grants = append(m.Grants, "contact.manage")
		return tx.PutMember(m)
	})
	check(t, "after grant", export(), want{})

	// Restriction added to a cached member.
	chats := func() *gateway.Decision { return decide(p, request("GET", "/w/acme/instances/i1/chats", olga)) }
	check(t, "olga i1", chats(), want{})
	f.update(func(tx store.Tx) error {
		m, err := tx.Member(f.acme.ID, "olga")
		must(t, err)
		m.Restrictions["instance"] = []string{"i2"}
		return tx.PutMember(m)
	})
	check(t, "olga i1 after restriction", chats(), want{403, "restricted", "message.read"})

	// Member removed.
	f.update(func(tx store.Tx) error { return tx.DeleteMember(f.acme.ID, "eve") })
	check(t, "after removal", export(), want{404, "workspace_not_found", ""})

	// Slug renamed: the old slug stops resolving at once, the new one works.
	alice := f.token("alice")
	check(t, "old slug warm", decide(p, request("GET", "/w/acme/messages", alice)), want{})
	f.update(func(tx store.Tx) error {
		ws, err := tx.Workspace(f.acme.ID)
		must(t, err)
		ws.Slug = "acme-corp"
		return tx.PutWorkspace(ws)
	})
	check(t, "old slug", decide(p, request("GET", "/w/acme/messages", alice)), want{404, "workspace_not_found", ""})
	check(t, "new slug", decide(p, request("GET", "/w/acme-corp/messages", alice)), want{})

	// Workspace soft-deleted: gone by slug and by id.
	check(t, "by id warm", decide(p, request("GET", "/w/"+f.acme.ID+"/messages", alice)), want{})
	f.update(func(tx store.Tx) error {
		ws, err := tx.Workspace(f.acme.ID)
		must(t, err)
		now := time.Now()
		ws.DeletedAt = &now
		return tx.PutWorkspace(ws)
	})
	check(t, "deleted by slug", decide(p, request("GET", "/w/acme-corp/messages", alice)), want{404, "workspace_not_found", ""})
	check(t, "deleted by id", decide(p, request("GET", "/w/"+f.acme.ID+"/messages", alice)), want{404, "workspace_not_found", ""})
}

// Under concurrent load, no decision that starts after a revoke has been
// acknowledged may allow.
func TestRevokeUnderConcurrentLoad(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	olga := f.token("olga")
	var revoked atomic.Bool
	var stale, allowedBefore atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				after := revoked.Load()
				d := decide(p, request("POST", "/w/acme/messages", olga))
				switch {
				case d.Allowed && after:
					stale.Add(1)
				case d.Allowed:
					allowedBefore.Add(1)
				}
			}
		}()
	}
	// Until a fair number were allowed (not a fixed time: a loaded
	// machine may take long to run the first ones).
	for deadline := time.Now().Add(10 * time.Second); allowedBefore.Load() < 200 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	f.update(func(tx store.Tx) error {
		m, err := tx.Member(f.acme.ID, "olga")
		must(t, err)
		m.Denies = []string{"message.send"}
		return tx.PutMember(m)
	})
	revoked.Store(true)
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	if allowedBefore.Load() == 0 {
		t.Fatal("no request was allowed before the revoke: the test proves nothing")
	}
	if n := stale.Load(); n > 0 {
		t.Fatalf("%d decisions started after the revoke still allowed", n)
	}
}

// A user's first authenticated request records them in the store.
func TestUsersAreRecorded(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	check(t, "newcomer", decide(p, request("GET", "/me", f.token("newcomer"))), want{})
	deadline := time.Now().Add(5 * time.Second)
	for {
		var u store.User
		err := f.store.View(t.Context(), func(tx store.Tx) error {
			var err error
			u, err = tx.User("newcomer")
			return err
		})
		if err == nil {
			if u.Email != "newcomer@example.com" || u.FirstSeen.IsZero() || u.LastSeen.IsZero() {
				t.Fatalf("recorded user %+v", u)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("user not recorded after 5s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A commit that bypasses the engine's Live (another Store value or process
// on the database) reaches a cached decision through the change feed: the
// follower applies it, and the cached allow turns into a denial without
// any write through the Live.
func TestRawCommitReachesCacheThroughFeed(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	eve := f.token("eve")
	export := func() *gateway.Decision { return decide(p, request("GET", "/w/acme/contacts/export", eve)) }
	check(t, "warm", export(), want{})
	check(t, "warm hit", export(), want{})
	rev, err := f.raw.UpdateRev(t.Context(), func(tx store.Tx) error { return tx.DeleteMember(f.acme.ID, "eve") })
	must(t, err)
	deadline := time.Now().Add(10 * time.Second)
	for f.store.Applied() < rev {
		if time.Now().After(deadline) {
			t.Fatalf("the follower did not apply revision %d within 10s (applied %d)", rev, f.store.Applied())
		}
		time.Sleep(5 * time.Millisecond)
	}
	check(t, "after the raw removal", export(), want{404, "workspace_not_found", ""})
}
