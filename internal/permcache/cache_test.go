package permcache

import (
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

func TestStaleFillIsDeadOnArrival(t *testing.T) {
	v := NewVersions()
	c, err := New[string](v, 1000)
	if err != nil {
		t.Fatal(err)
	}

	// A fill whose stamp predates a member change never becomes visible.
	stamp := v.Target(v.IDStamp(), "ws_1", "alice")
	v.Apply(store.Change{Kind: store.ChangeMember, WorkspaceID: "ws_1", UserID: "alice"})
	c.Set("alice", "ws_1", stamp, "stale")
	c.Wait()
	if got, ok := c.Get("alice", "ws_1"); ok {
		t.Fatalf("stale fill served: %q", got)
	}

	// A fill stamped after the change is served.
	c.Set("alice", "ws_1", v.Target(v.IDStamp(), "ws_1", "alice"), "fresh")
	c.Wait()
	if got, ok := c.Get("alice", "ws_1"); !ok || got != "fresh" {
		t.Fatalf("fresh fill: got %q, %v", got, ok)
	}

	// A workspace-level change (a role edit, a deletion) kills it too.
	v.Apply(store.Change{Kind: store.ChangeWorkspace, WorkspaceID: "ws_1", Slugs: false})
	if _, ok := c.Get("alice", "ws_1"); ok {
		t.Fatal("entry survived a workspace change")
	}
}

func TestSlugStampSeesMappingChanges(t *testing.T) {
	v := NewVersions()
	c, err := New[string](v, 1000)
	if err != nil {
		t.Fatal(err)
	}
	stamp := v.Target(v.SlugStamp(), "ws_1", "alice")
	c.Set("alice", "acme", stamp, "v1")
	c.Wait()
	if _, ok := c.Get("alice", "acme"); !ok {
		t.Fatal("fresh slug entry missed")
	}
	v.Apply(store.Change{Kind: store.ChangeWorkspace, WorkspaceID: "ws_other", Slugs: true}) // e.g. another workspace took a slug
	if _, ok := c.Get("alice", "acme"); ok {
		t.Fatal("slug entry survived a slug mapping change")
	}
}

func TestGetComparesNamesNotJustHashes(t *testing.T) {
	v := NewVersions()
	c, err := New[string](v, 1000)
	if err != nil {
		t.Fatal(err)
	}
	c.Set("alice", "acme", v.IDStamp(), "alice's")
	c.Wait()
	// Force a collision: store bob's lookup key with alice's entry.
	e, _ := c.rc.Get(c.key("alice", "acme"))
	c.rc.Set(c.key("bob", "acme"), e, 1)
	c.Wait()
	if got, ok := c.Get("bob", "acme"); ok {
		t.Fatalf("bob got alice's entry through a key collision: %q", got)
	}
}

func TestExpireAllKillsEveryEntry(t *testing.T) {
	v := NewVersions()
	c, err := New[string](v, 1000)
	if err != nil {
		t.Fatal(err)
	}
	c.Set("alice", "ws_1", v.Target(v.IDStamp(), "ws_1", "alice"), "a")
	c.Set("bob", "acme", v.Target(v.SlugStamp(), "ws_2", "bob"), "b")
	c.Wait()
	if _, ok := c.Get("alice", "ws_1"); !ok {
		t.Fatal("fresh entry missed")
	}
	v.ExpireAll()
	if _, ok := c.Get("alice", "ws_1"); ok {
		t.Error("id entry survived ExpireAll")
	}
	if _, ok := c.Get("bob", "acme"); ok {
		t.Error("slug entry survived ExpireAll")
	}
}

func TestKeyStampDiesOnKeyChangeAndWorkspaceDeletion(t *testing.T) {
	v := NewVersions()
	fresh := func() Stamp { return v.KeyStamp("k1") }

	s := fresh()
	v.Apply(store.Change{Kind: store.ChangeAPIKey, WorkspaceID: "ws_1", KeyID: "k2"}) // another key: almost surely another stripe
	if v.keyStripe("k1") != v.keyStripe("k2") && !v.Valid(s) {
		t.Fatal("a change of another key killed the entry")
	}
	v.Apply(store.Change{Kind: store.ChangeAPIKey, WorkspaceID: "ws_1", KeyID: "k1"}) // revocation
	if v.Valid(s) {
		t.Fatal("entry survived its key's change")
	}

	s = fresh()
	v.Apply(store.Change{Kind: store.ChangeMember, WorkspaceID: "ws_1", UserID: "apikey:k1"})
	if !v.Valid(s) {
		t.Fatal("a membership change killed a key entry")
	}
	v.Apply(store.Change{Kind: store.ChangeWorkspace, WorkspaceID: "ws_9", Slugs: true}) // a delete or restore anywhere
	if v.Valid(s) {
		t.Fatal("key entry survived a workspace deletion or restore")
	}

	// WithKey on a target stamp: both guards hold.
	s = v.WithKey(v.Target(v.IDStamp(), "ws_1", "apikey:k1"), "k1")
	v.Apply(store.Change{Kind: store.ChangeAPIKey, WorkspaceID: "ws_1", KeyID: "k1"})
	if v.Valid(s) {
		t.Fatal("access entry survived its key's change")
	}
	s = v.WithKey(v.Target(v.IDStamp(), "ws_1", "apikey:k1"), "k1")
	v.Apply(store.Change{Kind: store.ChangeWorkspace, WorkspaceID: "ws_1", Slugs: false})
	if v.Valid(s) {
		t.Fatal("access entry survived its workspace's change")
	}
}

func TestFrontTableSlotSharingNeverMixesEntries(t *testing.T) {
	v := NewVersions()
	c, err := New[string](v, 16) // 16 slots: collisions are easy to find
	if err != nil {
		t.Fatal(err)
	}
	first := "user-0"
	var second string
	for i := 1; second == ""; i++ {
		name := "user-" + string(rune('a'+i%26)) + string(rune('a'+i/26%26))
		if c.key(name, "ws")&c.mask == c.key(first, "ws")&c.mask {
			second = name
		}
	}
	c.Set(first, "ws", v.IDStamp(), "first's")
	c.Set(second, "ws", v.IDStamp(), "second's") // takes the shared slot
	c.Wait()
	for name, want := range map[string]string{first: "first's", second: "second's"} {
		for range 3 { // alternate, so each pushes the other out of the slot
			if got, ok := c.Get(name, "ws"); ok && got != want {
				t.Fatalf("%s got %q", name, got)
			}
		}
	}

	// A fill stale on arrival does not take the slot from a fresh entry.
	stale := v.Target(v.IDStamp(), "ws_9", "carol")
	v.Apply(store.Change{Kind: store.ChangeMember, WorkspaceID: "ws_9", UserID: "carol"})
	c.Set("carol", "ws_9", v.Target(v.IDStamp(), "ws_9", "carol"), "fresh")
	c.Set("carol", "ws_9", stale, "stale")
	if got, ok := c.front[c.key("carol", "ws_9")&c.mask].Load(), true; ok && got.value != "fresh" {
		t.Fatalf("front slot holds %q after a stale fill", got.value)
	}
}

// Fills reach ristretto in batches: a full batch is handed over without a
// Wait, what stays queued reaches it on Wait, and a fill that went stale
// while queued never does.
func TestFillsReachRistrettoInBatches(t *testing.T) {
	v := NewVersions()
	c, err := New[string](v, 1000)
	if err != nil {
		t.Fatal(err)
	}
	inRistretto := func(user string) bool {
		c.rc.Wait()
		_, ok := c.rc.Get(c.key(user, "ws_1"))
		return ok
	}
	stale := v.Target(v.IDStamp(), "ws_1", "stale")
	c.Set("stale", "ws_1", stale, "x")
	v.Apply(store.Change{Kind: store.ChangeMember, WorkspaceID: "ws_1", UserID: "stale"})
	for i := 1; i < setBatchSize-1; i++ {
		user := string(rune('a' + i))
		c.Set(user, "ws_1", v.Target(v.IDStamp(), "ws_1", user), user)
	}
	if inRistretto("b") {
		t.Fatal("a fill reached ristretto before its batch was full")
	}
	c.Set("last", "ws_1", v.Target(v.IDStamp(), "ws_1", "last"), "last") // fills the batch
	if !inRistretto("b") || !inRistretto("last") {
		t.Fatal("a full batch was not handed to ristretto")
	}
	if inRistretto("stale") {
		t.Fatal("a fill that went stale in the batch reached ristretto")
	}
	c.Set("queued", "ws_1", v.Target(v.IDStamp(), "ws_1", "queued"), "queued")
	c.Wait()
	if !inRistretto("queued") {
		t.Fatal("Wait left a queued fill out of ristretto")
	}
}
