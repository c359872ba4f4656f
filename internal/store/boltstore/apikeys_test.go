package boltstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// checkAPIKeyIndexes checks api_keys_ws against the API keys (a bijection)
// and that every key belongs to an existing workspace. It is part of
// checkIndexes.
func checkAPIKeyIndexes(tx *bbolt.Tx, wsSlug map[string]string) error {
	want := map[string]bool{}
	err := tx.Bucket(bucketAPIKeys).ForEach(func(k, v []byte) error {
		var key store.APIKey
		if err := unmarshal(v, &key, bucketAPIKeys, k); err != nil {
			return err
		}
		if key.ID != string(k) {
			return fmt.Errorf("API key %q holds id %q", k, key.ID)
		}
		if _, ok := wsSlug[key.WorkspaceID]; !ok {
			return fmt.Errorf("API key %q of a missing workspace", k)
		}
		want[key.WorkspaceID+"\x00"+key.ID] = true
		return nil
	})
	if err != nil {
		return err
	}
	n := 0
	err = tx.Bucket(bucketAPIKeyWS).ForEach(func(k, v []byte) error {
		n++
		if !want[string(k)] {
			return fmt.Errorf("api_keys_ws entry %q indexes no API key", k)
		}
		if len(v) != 0 {
			return fmt.Errorf("api_keys_ws entry %q has value %q", k, v)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n != len(want) {
		return fmt.Errorf("api_keys_ws: %d entries for %d API keys", n, len(want))
	}
	return nil
}

func apiKey(id, wsID string) store.APIKey {
	return store.APIKey{
		ID: id, WorkspaceID: wsID, Name: "key " + id, Permissions: []string{"message.send", "contact.read"},
		SecretHash: "sha256-of-" + id, CreatedBy: "alice", CreatedAt: t0,
	}
}

func apiKeyIDs(items []store.APIKey) []string {
	ids := []string{}
	for _, k := range items {
		ids = append(ids, k.ID)
	}
	return ids
}

func tp(t time.Time) *time.Time { return &t }

func TestAPIKeyCRUD(t *testing.T) {
	s, _ := openT(t, Options{})
	update(t, s, func(tx store.Tx) error {
		for _, id := range []string{"w1", "w2"} {
			if err := tx.PutWorkspace(ws(id, "slug-"+id)); err != nil {
				return err
			}
		}
		return nil
	})

	full := apiKey("k1", "w1")
	full.ExpiresAt = tp(t0.Add(30 * 24 * time.Hour))
	full.RevokedAt = tp(t0.Add(2 * time.Hour))
	full.LastUsedAt = tp(t0.Add(time.Hour))
	bare := apiKey("k2", "w1") // no optional time
	bare.Permissions = []string{}
	other := apiKey("k3", "w2")
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutAPIKey(apiKey("k0", "nope")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("API key of a missing workspace: %v", err)
		}
		for _, k := range []store.APIKey{other, bare, full} {
			if err := tx.PutAPIKey(k); err != nil {
				return err
			}
		}
		return nil
	})
	checkIndexes(t, s)

	var kept store.APIKey
	view(t, s, func(tx store.Tx) error {
		for _, want := range []store.APIKey{full, bare, other} {
			got, err := tx.APIKey(want.ID)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("APIKey(%s) = %+v, %v; want %+v", want.ID, got, err, want)
			}
		}
		got, _ := tx.APIKey("k1")
		if got.ExpiresAt == nil || !got.ExpiresAt.Equal(t0.Add(30*24*time.Hour)) ||
			got.RevokedAt == nil || !got.RevokedAt.Equal(t0.Add(2*time.Hour)) ||
			got.LastUsedAt == nil || !got.LastUsedAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("optional times of k1: %v %v %v", got.ExpiresAt, got.RevokedAt, got.LastUsedAt)
		}
		kept = got
		if got, _ := tx.APIKey("k2"); got.ExpiresAt != nil || got.RevokedAt != nil || got.LastUsedAt != nil {
			t.Errorf("k2 gained times: %+v", got)
		}
		for _, id := range []string{"k0", "k", "k10", "K1"} {
			if _, err := tx.APIKey(id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("APIKey(%q): %v", id, err)
			}
		}
		if items, next, err := tx.APIKeys("w1", "", 0); err != nil || next != "" || !reflect.DeepEqual(items, []store.APIKey{full, bare}) {
			t.Errorf("APIKeys(w1) = %+v %q %v", items, next, err)
		}
		if items, _, err := tx.APIKeys("w2", "", 0); err != nil || !reflect.DeepEqual(items, []store.APIKey{other}) {
			t.Errorf("APIKeys(w2) = %+v %v", items, err)
		}
		if items, next, err := tx.APIKeys("nope", "", 10); err != nil || items == nil || len(items) != 0 || next != "" {
			t.Errorf("APIKeys(nope) = %#v %q %v", items, next, err)
		}
		if err := tx.PutAPIKey(full); !errors.Is(err, ErrTxReadOnly) {
			t.Errorf("PutAPIKey in View: %v", err)
		}
		if err := tx.TouchAPIKey("k1", t0.Add(time.Hour*9)); !errors.Is(err, ErrTxReadOnly) {
			t.Errorf("TouchAPIKey in View: %v", err)
		}
		return nil
	})
	// A returned key is a copy.
	kept.Permissions[0] = "hacked"
	*kept.LastUsedAt = t0.Add(99 * time.Hour)
	view(t, s, func(tx store.Tx) error {
		if got, _ := tx.APIKey("k1"); !reflect.DeepEqual(got, full) {
			t.Errorf("stored key changed through a returned copy: %+v", got)
		}
		return nil
	})

	t.Run("replace", func(t *testing.T) {
		revoked := bare
		revoked.RevokedAt = tp(t0.Add(3 * time.Hour))
		revoked.Name = "renamed"
		update(t, s, func(tx store.Tx) error { return tx.PutAPIKey(revoked) })
		view(t, s, func(tx store.Tx) error {
			if got, err := tx.APIKey("k2"); err != nil || !reflect.DeepEqual(got, revoked) {
				t.Errorf("replaced key = %+v %v", got, err)
			}
			// Revoked keys are listed.
			if items, _, _ := tx.APIKeys("w1", "", 0); !reflect.DeepEqual(items, []store.APIKey{full, revoked}) {
				t.Errorf("APIKeys(w1) after replace = %+v", items)
			}
			return nil
		})
		bare = revoked
		checkIndexes(t, s)
	})

	t.Run("workspace change moves the index entry", func(t *testing.T) {
		moved := bare
		moved.WorkspaceID = "w2"
		update(t, s, func(tx store.Tx) error { return tx.PutAPIKey(moved) })
		view(t, s, func(tx store.Tx) error {
			if items, _, _ := tx.APIKeys("w1", "", 0); !slices.Equal(apiKeyIDs(items), []string{"k1"}) {
				t.Errorf("APIKeys(w1) = %q", apiKeyIDs(items))
			}
			if items, _, _ := tx.APIKeys("w2", "", 0); !reflect.DeepEqual(items, []store.APIKey{moved, other}) {
				t.Errorf("APIKeys(w2) = %+v", items)
			}
			return nil
		})
		checkIndexes(t, s)
		// Moving to a missing workspace is refused and changes nothing.
		update(t, s, func(tx store.Tx) error {
			bad := moved
			bad.WorkspaceID = "nope"
			if err := tx.PutAPIKey(bad); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("move to a missing workspace: %v", err)
			}
			return nil
		})
		view(t, s, func(tx store.Tx) error {
			if got, _ := tx.APIKey("k2"); !reflect.DeepEqual(got, moved) {
				t.Errorf("refused move changed the key: %+v", got)
			}
			return nil
		})
		bare = moved
		checkIndexes(t, s)
	})

	t.Run("invalid", func(t *testing.T) {
		long := strings.Repeat("x", MaxIDLen+1)
		with := func(f func(*store.APIKey)) store.APIKey {
			k := apiKey("kz", "w1")
			f(&k)
			return k
		}
		for name, k := range map[string]store.APIKey{
			"empty id":        with(func(k *store.APIKey) { k.ID = "" }),
			"NUL id":          with(func(k *store.APIKey) { k.ID = "k\x00" }),
			"long id":         with(func(k *store.APIKey) { k.ID = long }),
			"empty workspace": with(func(k *store.APIKey) { k.WorkspaceID = "" }),
			"NUL workspace":   with(func(k *store.APIKey) { k.WorkspaceID = "w1\x00k1" }),
			"long workspace":  with(func(k *store.APIKey) { k.WorkspaceID = long }),
			"empty hash":      with(func(k *store.APIKey) { k.SecretHash = "" }),
			"NUL hash":        with(func(k *store.APIKey) { k.SecretHash = "ab\x00cd" }),
			"long hash":       with(func(k *store.APIKey) { k.SecretHash = long }),
		} {
			refused(t, s, func(tx store.Tx) error {
				if err := tx.PutAPIKey(k); !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "boltstore: ") {
					t.Errorf("%s: %v, want ErrInvalid", name, err)
				}
				return nil
			})
		}
		view(t, s, func(tx store.Tx) error {
			for _, id := range []string{"", "k\x00", long} {
				if _, err := tx.APIKey(id); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("APIKey(%q): %v", id, err)
				}
				if items, next, err := tx.APIKeys(id, "", 0); err != nil || items == nil || len(items) != 0 || next != "" {
					t.Errorf("APIKeys(%q): %#v %q %v", id, items, next, err)
				}
			}
			if _, err := tx.APIKey("kz"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a refused key was stored: %v", err)
			}
			return nil
		})
		update(t, s, func(tx store.Tx) error {
			for _, id := range []string{"", "k\x00", long} {
				if err := tx.TouchAPIKey(id, t0); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("TouchAPIKey(%q): %v", id, err)
				}
			}
			return nil
		})
		checkIndexes(t, s)
	})

	// Durable, index included.
	path := s.Path()
	s.Close()
	s2, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	view(t, s2, func(tx store.Tx) error {
		if got, err := tx.APIKey("k1"); err != nil || !reflect.DeepEqual(got, full) {
			t.Errorf("after reopen: %+v %v", got, err)
		}
		if items, _, _ := tx.APIKeys("w2", "", 0); !reflect.DeepEqual(items, []store.APIKey{bare, other}) {
			t.Errorf("APIKeys(w2) after reopen: %+v", items)
		}
		return nil
	})
}

func TestAPIKeyPagination(t *testing.T) {
	s, _ := openT(t, Options{})
	const n = 7
	// Workspace ids sharing prefixes: one workspace's keys must never
	// leak into another's list.
	wss := []string{"w1", "w10", "w1-", "w2"}
	want := map[string][]string{}
	update(t, s, func(tx store.Tx) error {
		for _, w := range wss {
			if err := tx.PutWorkspace(ws(w, "s-"+w)); err != nil {
				return err
			}
		}
		for i := n - 1; i >= 0; i-- {
			for _, w := range wss[:3] {
				id := fmt.Sprintf("%s-key%02d", w, i)
				want[w] = append(want[w], id)
				if err := tx.PutAPIKey(apiKey(id, w)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	for _, w := range wss {
		slices.Sort(want[w])
	}
	if want["w1"][0] != "w1-key00" || len(want["w1"]) != n {
		t.Fatalf("fixture: %q", want["w1"])
	}
	want["w2"] = nil // a workspace without keys lists none
	walkEachWorkspace(t, s, want, n, "APIKeys", store.Tx.APIKeys,
		func(k store.APIKey) (string, string) { return k.ID, k.WorkspaceID })
	view(t, s, func(tx store.Tx) error {
		all := want["w1"]
		// Limit 1 and 2 pages, by hand.
		items, next, err := tx.APIKeys("w1", "", 1)
		if err != nil || !slices.Equal(apiKeyIDs(items), all[:1]) || next != all[0] {
			t.Errorf("APIKeys(w1, \"\", 1) = %q %q %v", apiKeyIDs(items), next, err)
		}
		items, next, _ = tx.APIKeys("w1", next, 2)
		if !slices.Equal(apiKeyIDs(items), all[1:3]) || next != all[2] {
			t.Errorf("APIKeys(w1, %q, 2) = %q %q", all[0], apiKeyIDs(items), next)
		}
		// The cursor is exclusive.
		items, next, _ = tx.APIKeys("w1", all[3], 2)
		if !slices.Equal(apiKeyIDs(items), all[4:6]) || next != all[5] {
			t.Errorf("APIKeys(w1, #3, 2) = %q %q", apiKeyIDs(items), next)
		}
		// A page ending exactly at the last key has no next.
		items, next, _ = tx.APIKeys("w1", all[n-3], 2)
		if !slices.Equal(apiKeyIDs(items), all[n-2:]) || next != "" {
			t.Errorf("exact last page: %q %q", apiKeyIDs(items), next)
		}
		// Cursors between keys, before and after all of them.
		items, _, _ = tx.APIKeys("w1", "w1-key03x", 1)
		if !slices.Equal(apiKeyIDs(items), []string{"w1-key04"}) {
			t.Errorf("cursor between keys: %q", apiKeyIDs(items))
		}
		items, _, _ = tx.APIKeys("w1", "a", 1)
		if !slices.Equal(apiKeyIDs(items), all[:1]) {
			t.Errorf("cursor before all keys: %q", apiKeyIDs(items))
		}
		items, next, _ = tx.APIKeys("w1", "zzz", 0)
		if len(items) != 0 || next != "" {
			t.Errorf("cursor after all keys: %q %q", apiKeyIDs(items), next)
		}
		// A workspace without keys.
		items, next, err = tx.APIKeys("w2", "", 1)
		if err != nil || items == nil || len(items) != 0 || next != "" {
			t.Errorf("APIKeys(w2) = %#v %q %v", items, next, err)
		}
		return nil
	})
}

func TestAPIKeyTouch(t *testing.T) {
	s, _ := openT(t, Options{})
	rec := newRecorder(s)
	k := apiKey("k1", "w1")
	k.ExpiresAt = tp(t0.Add(24 * time.Hour))
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutWorkspace(ws("w1", "one")); err != nil {
			return err
		}
		return tx.PutAPIKey(k)
	})
	rec.take(t)

	lastUsed := func() *time.Time {
		t.Helper()
		var got store.APIKey
		view(t, s, func(tx store.Tx) (err error) {
			got, err = tx.APIKey("k1")
			return err
		})
		// Touch changes nothing else.
		rest := got
		rest.LastUsedAt = nil
		if !reflect.DeepEqual(rest, k) {
			t.Errorf("Touch changed more than LastUsedAt: %+v, want %+v", rest, k)
		}
		return got.LastUsedAt
	}
	touch := func(at time.Time) {
		t.Helper()
		update(t, s, func(tx store.Tx) error { return tx.TouchAPIKey("k1", at) })
	}

	if got := lastUsed(); got != nil {
		t.Fatalf("new key LastUsedAt = %v", got)
	}
	t1 := t0.Add(time.Hour)
	touch(t1) // first use
	if got := lastUsed(); got == nil || !got.Equal(t1) {
		t.Errorf("after first touch: %v, want %v", got, t1)
	}
	touch(t1.Add(-time.Minute)) // earlier: ignored
	if got := lastUsed(); got == nil || !got.Equal(t1) {
		t.Errorf("after an earlier touch: %v, want %v", got, t1)
	}
	touch(t1) // equal: ignored
	if got := lastUsed(); got == nil || !got.Equal(t1) {
		t.Errorf("after an equal touch: %v, want %v", got, t1)
	}
	t2 := t1.Add(time.Second)
	touch(t2) // later: moves
	if got := lastUsed(); got == nil || !got.Equal(t2) {
		t.Errorf("after a later touch: %v, want %v", got, t2)
	}
	// Several in one transaction: the latest wins, whatever the order.
	t3 := t2.Add(time.Hour)
	update(t, s, func(tx store.Tx) error {
		for _, at := range []time.Time{t3, t2, t3.Add(-time.Minute)} {
			if err := tx.TouchAPIKey("k1", at); err != nil {
				return err
			}
		}
		return nil
	})
	if got := lastUsed(); got == nil || !got.Equal(t3) {
		t.Errorf("after a batch: %v, want %v", got, t3)
	}
	wantEvents(t, rec) // touching notifies nothing

	// A missing key.
	update(t, s, func(tx store.Tx) error {
		if err := tx.TouchAPIKey("k9", t3); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("TouchAPIKey(missing): %v", err)
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.APIKey("k9"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("touching created a key: %v", err)
		}
		return nil
	})
	// A touch in a rolled-back transaction leaves nothing.
	sentinel := errors.New("no")
	err := s.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.TouchAPIKey("k1", t3.Add(time.Hour)); err != nil {
			return err
		}
		return sentinel
	})
	if err != sentinel {
		t.Fatalf("Update = %v", err)
	}
	if got := lastUsed(); got == nil || !got.Equal(t3) {
		t.Errorf("after a rolled-back touch: %v, want %v", got, t3)
	}
	wantEvents(t, rec)
	checkIndexes(t, s)
}

func TestAPIKeyFeed(t *testing.T) {
	s, _ := openT(t, Options{})
	rec := newRecorder(s)
	update(t, s, func(tx store.Tx) error {
		for _, w := range []string{"w1", "w2"} {
			if err := tx.PutWorkspace(ws(w, "s-"+w)); err != nil {
				return err
			}
		}
		return nil
	})
	rec.take(t)

	k1 := apiKey("k1", "w1")
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutAPIKey(k1); err != nil {
			return err
		}
		if got := rec.take(t); len(got) != 0 {
			t.Errorf("the feed shows changes before the commit: %q", got)
		}
		return nil
	})
	wantEvents(t, rec, "apikey w1 k1")

	// Once per key per transaction, after workspaces and members, in
	// first-change order.
	update(t, s, func(tx store.Tx) error {
		k1.RevokedAt = tp(t0.Add(time.Hour))
		steps := []error{
			tx.PutAPIKey(apiKey("k2", "w2")),
			tx.PutAPIKey(k1),
			tx.PutAPIKey(k1), // dedup
			tx.TouchAPIKey("k1", t0.Add(time.Hour)),
			tx.PutMember(member("w1", "u1")),
			tx.PutAPIKey(apiKey("k2", "w2")), // dedup
			tx.PutRole(store.Role{WorkspaceID: "w2", Slug: "r"}),
		}
		for _, err := range steps {
			if err != nil {
				return err
			}
		}
		return nil
	})
	wantEvents(t, rec, "ws w2 false", "member w1 u1", "apikey w2 k2", "apikey w1 k1")

	// A touch alone notifies nothing.
	update(t, s, func(tx store.Tx) error { return tx.TouchAPIKey("k1", t0.Add(5*time.Hour)) })
	wantEvents(t, rec)

	// A rolled-back transaction notifies nothing and writes nothing.
	sentinel := errors.New("check failed")
	err := s.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.PutAPIKey(apiKey("k3", "w1")); err != nil {
			return err
		}
		return sentinel
	})
	if err != sentinel {
		t.Fatalf("Update = %v", err)
	}
	wantEvents(t, rec)
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.APIKey("k3"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("key written by a rolled-back tx: %v", err)
		}
		return nil
	})

	// A refused put whose error the caller handled: nothing to announce.
	refused(t, s, func(tx store.Tx) error {
		if err := tx.PutAPIKey(apiKey("k4", "missing")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expected ErrNotFound, got %v", err)
		}
		if err := tx.PutAPIKey(apiKey("", "w1")); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("expected ErrInvalid, got %v", err)
		}
		return nil
	})
	wantEvents(t, rec)

	// A key moving to another workspace is announced for both.
	moved := apiKey("k2", "w1")
	update(t, s, func(tx store.Tx) error { return tx.PutAPIKey(moved) })
	wantEvents(t, rec, "apikey w2 k2", "apikey w1 k2")
	checkIndexes(t, s)
}

func TestStatsCountsAPIKeys(t *testing.T) {
	s, _ := openT(t, Options{})
	update(t, s, func(tx store.Tx) error {
		for _, w := range []string{"w1", "w2"} {
			if err := tx.PutWorkspace(ws(w, "s-"+w)); err != nil {
				return err
			}
		}
		for i := 0; i < 3; i++ {
			if err := tx.PutAPIKey(apiKey(fmt.Sprint("k", i), fmt.Sprint("w", 1+i%2))); err != nil {
				return err
			}
		}
		// A replace (here a revocation) is not a new key, nor a touch.
		revoked := apiKey("k0", "w1")
		revoked.RevokedAt = tp(t0)
		if err := tx.PutAPIKey(revoked); err != nil {
			return err
		}
		return tx.TouchAPIKey("k1", t0)
	})
	st, err := s.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(s.Path())
	want := store.Stats{Workspaces: 2, APIKeys: 3, SizeBytes: fi.Size()}
	if st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}
}

func TestAPIKeyMethodsAfterTxEnds(t *testing.T) {
	s, _ := openT(t, Options{})
	var leaked store.Tx
	update(t, s, func(tx store.Tx) error { leaked = tx; return nil })
	checks := map[string]error{}
	_, checks["APIKey"] = leaked.APIKey("k")
	checks["PutAPIKey"] = leaked.PutAPIKey(apiKey("k", "w"))
	checks["TouchAPIKey"] = leaked.TouchAPIKey("k", t0)
	_, _, checks["APIKeys"] = leaked.APIKeys("w", "", 0)
	for name, err := range checks {
		if !errors.Is(err, ErrTxDone) {
			t.Errorf("%s after the transaction: %v", name, err)
		}
	}
}

// A file written before API keys existed gets their buckets on the next
// read-write open, and keeps its data.
func TestOpenAddsAPIKeyBuckets(t *testing.T) {
	s, path := openT(t, Options{})
	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(ws("w1", "one")) })
	if err := s.db.Update(func(tx *bbolt.Tx) error {
		if err := tx.DeleteBucket(bucketAPIKeys); err != nil {
			return err
		}
		return tx.DeleteBucket(bucketAPIKeyWS)
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(path, Options{ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "api_keys") || !strings.Contains(err.Error(), "open it once read-write") {
		t.Fatalf("read-only open of an old file: %v", err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	update(t, s, func(tx store.Tx) error { return tx.PutAPIKey(apiKey("k1", "w1")) })
	view(t, s, func(tx store.Tx) error {
		if w, err := tx.WorkspaceBySlug("one"); err != nil || w.ID != "w1" {
			t.Errorf("old data after the upgrade: %+v %v", w, err)
		}
		if items, _, err := tx.APIKeys("w1", "", 0); err != nil || !slices.Equal(apiKeyIDs(items), []string{"k1"}) {
			t.Errorf("APIKeys after the upgrade: %q %v", apiKeyIDs(items), err)
		}
		return nil
	})
	checkIndexes(t, s)
}
