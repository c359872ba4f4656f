package boltstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// checkInviteIndexes checks the three invite indexes against the invites
// (each a bijection with the records) and the keys of audit events. It is
// part of checkIndexes.
func checkInviteIndexes(tx *bbolt.Tx, wsSlug map[string]string) error {
	invites := map[string]store.Invite{}
	err := tx.Bucket(bucketInvites).ForEach(func(k, v []byte) error {
		var inv store.Invite
		if err := unmarshal(v, &inv, bucketInvites, k); err != nil {
			return err
		}
		if inv.ID != string(k) {
			return fmt.Errorf("invite key %q holds id %q", k, inv.ID)
		}
		if _, ok := wsSlug[inv.WorkspaceID]; !ok {
			return fmt.Errorf("invite %q of a missing workspace", k)
		}
		invites[inv.ID] = inv
		return nil
	})
	if err != nil {
		return err
	}
	// index checks that an index bucket holds exactly one entry per invite,
	// as computed by entry.
	index := func(bucket []byte, entry func(store.Invite) (k, v string)) error {
		want := map[string]string{}
		for _, inv := range invites {
			k, v := entry(inv)
			if _, dup := want[k]; dup {
				return fmt.Errorf("%s: two invites want entry %q", bucket, k)
			}
			want[k] = v
		}
		n := 0
		err := tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			n++
			wv, ok := want[string(k)]
			if !ok {
				return fmt.Errorf("%s entry %q indexes no invite", bucket, k)
			}
			if wv != string(v) {
				return fmt.Errorf("%s entry %q → %q, want %q", bucket, k, v, wv)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if n != len(want) {
			return fmt.Errorf("%s: %d entries for %d invites", bucket, n, len(want))
		}
		return nil
	}
	if err := index(bucketInviteWS, func(inv store.Invite) (string, string) { return inv.WorkspaceID + "\x00" + inv.ID, "" }); err != nil {
		return err
	}
	if err := index(bucketInviteTok, func(inv store.Invite) (string, string) { return inv.TokenHash, inv.ID }); err != nil {
		return err
	}
	if err := index(bucketInviteMail, func(inv store.Invite) (string, string) { return inv.Email + "\x00" + inv.ID, "" }); err != nil {
		return err
	}
	return tx.Bucket(bucketAudit).ForEach(func(k, v []byte) error {
		var ev store.AuditEvent
		if err := unmarshal(v, &ev, bucketAudit, k); err != nil {
			return err
		}
		if string(k) != ev.WorkspaceID+"\x00"+ev.ID {
			return fmt.Errorf("audit key %q holds %s/%s", k, ev.WorkspaceID, ev.ID)
		}
		if _, ok := store.ParseAuditID(ev.ID); !ok && !store.IsLegacyAuditID(ev.ID) {
			return fmt.Errorf("audit event id %q is malformed", ev.ID)
		}
		return nil
	})
}

func invite(id, wsID, email, hash string) store.Invite {
	return store.Invite{
		ID: id, WorkspaceID: wsID, Email: email, Roles: []string{"viewer"}, TokenHash: hash,
		Status: store.InvitePending, CreatedBy: "alice", CreatedAt: t0, ExpiresAt: t0.Add(7 * 24 * time.Hour),
	}
}

func inviteIDs(items []store.Invite) []string {
	ids := []string{}
	for _, inv := range items {
		ids = append(ids, inv.ID)
	}
	return ids
}

// ---- users

func TestUsersList(t *testing.T) {
	s, _ := openT(t, Options{})
	view(t, s, func(tx store.Tx) error {
		items, next, err := tx.Users("", 10)
		if err != nil || items == nil || len(items) != 0 || next != "" {
			t.Errorf("Users on an empty store = %#v %q %v", items, next, err)
		}
		return nil
	})
	var want []string
	update(t, s, func(tx store.Tx) error {
		for _, i := range []int{7, 3, 9, 0, 5, 1, 8, 2, 6, 4, 10} {
			id := fmt.Sprintf("u%02d", i)
			if err := tx.PutUser(store.User{ID: id, Email: id + "@example.com", FirstSeen: t0, LastSeen: t0}); err != nil {
				return err
			}
			want = append(want, id)
		}
		return nil
	})
	slices.Sort(want)
	for _, limit := range []int{0, 1, 2, 3, 10, 11, 12} {
		view(t, s, func(tx store.Tx) error {
			got := walk(t, limit, func(c string) ([]string, string, error) {
				items, next, err := tx.Users(c, limit)
				var ids []string
				for _, u := range items {
					if u.Email != u.ID+"@example.com" || !u.FirstSeen.Equal(t0) {
						t.Errorf("user %+v", u)
					}
					ids = append(ids, u.ID)
				}
				return ids, next, err
			})
			if !slices.Equal(got, want) {
				t.Errorf("limit %d: Users walk = %q, want %q", limit, got, want)
			}
			return nil
		})
	}
}

// ---- invites

func TestInviteCRUD(t *testing.T) {
	s, _ := openT(t, Options{})
	rec := newRecorder(s)
	update(t, s, func(tx store.Tx) error {
		for _, id := range []string{"w1", "w2"} {
			if err := tx.PutWorkspace(ws(id, "slug-"+id)); err != nil {
				return err
			}
		}
		return nil
	})
	rec.take(t)

	inv1 := invite("i1", "w1", "a@example.com", "h1")
	inv2 := invite("i2", "w1", "b@example.com", "h2")
	inv3 := invite("i3", "w2", "a@example.com", "h3")
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutInvite(invite("i0", "nope", "a@example.com", "h0")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("invite to a missing workspace: %v", err)
		}
		for _, inv := range []store.Invite{inv3, inv2, inv1} {
			if err := tx.PutInvite(inv); err != nil {
				return err
			}
		}
		return nil
	})
	wantEvents(t, rec) // invites carry no access decision
	checkIndexes(t, s)

	var kept store.Invite
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Invite("i1")
		if err != nil || !reflect.DeepEqual(got, inv1) {
			t.Errorf("Invite(i1) = %+v, %v; want %+v", got, err, inv1)
		}
		kept = got
		if _, err := tx.Invite("i0"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing invite: %v", err)
		}
		got, err = tx.InviteByTokenHash("h3")
		if err != nil || !reflect.DeepEqual(got, inv3) {
			t.Errorf("InviteByTokenHash(h3) = %+v, %v", got, err)
		}
		if _, err := tx.InviteByTokenHash("i1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an id as token hash: %v", err)
		}
		if items, _, err := tx.Invites("w1", "", 0); err != nil || !slices.Equal(inviteIDs(items), []string{"i1", "i2"}) {
			t.Errorf("Invites(w1) = %q %v", inviteIDs(items), err)
		}
		if items, _, err := tx.Invites("w2", "", 0); err != nil || !reflect.DeepEqual(items, []store.Invite{inv3}) {
			t.Errorf("Invites(w2) = %+v %v", items, err)
		}
		items, err := tx.InvitesForEmail("a@example.com")
		if err != nil || !reflect.DeepEqual(items, []store.Invite{inv1, inv3}) {
			t.Errorf("InvitesForEmail(a) = %+v %v", items, err)
		}
		// Exact match: the caller lower-cases.
		if items, err := tx.InvitesForEmail("A@example.com"); err != nil || items == nil || len(items) != 0 {
			t.Errorf("InvitesForEmail(A) = %#v %v", items, err)
		}
		// A prefix of an email is not that email.
		if items, _ := tx.InvitesForEmail("a@example.co"); len(items) != 0 {
			t.Errorf("InvitesForEmail(prefix) = %+v", items)
		}
		if items, next, err := tx.Invites("w3", "", 10); err != nil || items == nil || len(items) != 0 || next != "" {
			t.Errorf("Invites(w3) = %#v %q %v", items, next, err)
		}
		if err := tx.PutInvite(inv1); !errors.Is(err, ErrTxReadOnly) {
			t.Errorf("PutInvite in View: %v", err)
		}
		return nil
	})
	// A returned invite is a copy.
	kept.Roles[0] = "hacked"
	view(t, s, func(tx store.Tx) error {
		if got, _ := tx.Invite("i1"); !reflect.DeepEqual(got, inv1) {
			t.Errorf("stored invite changed through a returned copy: %+v", got)
		}
		return nil
	})

	t.Run("token hash is unique", func(t *testing.T) {
		// The conflict leaves nothing behind (and dooms its transaction:
		// doom.go).
		refused(t, s, func(tx store.Tx) error {
			if err := tx.PutInvite(invite("i4", "w2", "d@example.com", "h1")); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("new invite with a used token hash: %v", err)
			} else if strings.Contains(err.Error(), "h1") {
				t.Errorf("the error shows the token hash: %v", err)
			}
			return nil
		})
		refused(t, s, func(tx store.Tx) error {
			moved := inv2
			moved.TokenHash = "h3"
			if err := tx.PutInvite(moved); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("replacing onto a used token hash: %v", err)
			}
			return nil
		})
		update(t, s, func(tx store.Tx) error { return tx.PutInvite(invite("i5", "w2", "e@example.com", "h5")) })
		view(t, s, func(tx store.Tx) error {
			if _, err := tx.Invite("i4"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("refused invite stored: %v", err)
			}
			if got, err := tx.InviteByTokenHash("h1"); err != nil || got.ID != "i1" {
				t.Errorf("h1 → %+v %v", got, err)
			}
			if got, err := tx.InviteByTokenHash("h2"); err != nil || !reflect.DeepEqual(got, inv2) {
				t.Errorf("h2 → %+v %v", got, err)
			}
			if items, _ := tx.InvitesForEmail("d@example.com"); len(items) != 0 {
				t.Errorf("refused invite indexed by email: %+v", items)
			}
			return nil
		})
		checkIndexes(t, s)
	})

	t.Run("replace with the same indexes", func(t *testing.T) {
		accepted := inv1
		accepted.Status = store.InviteAccepted
		accepted.AcceptedBy = "bob"
		at := t0.Add(time.Hour)
		accepted.AcceptedAt = &at
		update(t, s, func(tx store.Tx) error { return tx.PutInvite(accepted) })
		view(t, s, func(tx store.Tx) error {
			for _, get := range []func() (store.Invite, error){
				func() (store.Invite, error) { return tx.Invite("i1") },
				func() (store.Invite, error) { return tx.InviteByTokenHash("h1") },
			} {
				if got, err := get(); err != nil || !reflect.DeepEqual(got, accepted) {
					t.Errorf("replaced invite = %+v %v", got, err)
				}
			}
			items, _ := tx.InvitesForEmail("a@example.com")
			if !reflect.DeepEqual(items, []store.Invite{accepted, inv3}) {
				t.Errorf("InvitesForEmail after replace = %+v", items)
			}
			return nil
		})
		inv1 = accepted
		checkIndexes(t, s)
	})

	t.Run("email change moves the email entry", func(t *testing.T) {
		inv1.Email = "c@example.com"
		update(t, s, func(tx store.Tx) error { return tx.PutInvite(inv1) })
		view(t, s, func(tx store.Tx) error {
			if items, _ := tx.InvitesForEmail("a@example.com"); !slices.Equal(inviteIDs(items), []string{"i3"}) {
				t.Errorf("old email still lists %q", inviteIDs(items))
			}
			if items, _ := tx.InvitesForEmail("c@example.com"); !reflect.DeepEqual(items, []store.Invite{inv1}) {
				t.Errorf("new email lists %+v", items)
			}
			return nil
		})
		checkIndexes(t, s)
	})

	t.Run("token change frees the old hash", func(t *testing.T) {
		inv1.TokenHash = "h9"
		update(t, s, func(tx store.Tx) error { return tx.PutInvite(inv1) })
		view(t, s, func(tx store.Tx) error {
			if _, err := tx.InviteByTokenHash("h1"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("old hash still resolves: %v", err)
			}
			if got, err := tx.InviteByTokenHash("h9"); err != nil || !reflect.DeepEqual(got, inv1) {
				t.Errorf("new hash → %+v %v", got, err)
			}
			return nil
		})
		// Somebody else may take the freed hash.
		update(t, s, func(tx store.Tx) error { return tx.PutInvite(invite("i6", "w1", "f@example.com", "h1")) })
		checkIndexes(t, s)
	})

	t.Run("swap hashes in one transaction", func(t *testing.T) {
		a, b := inv2, inv3 // h2, h3
		update(t, s, func(tx store.Tx) error {
			a.TokenHash = "tmp"
			if err := tx.PutInvite(a); err != nil {
				return err
			}
			b.TokenHash = "h2"
			if err := tx.PutInvite(b); err != nil {
				return err
			}
			a.TokenHash = "h3"
			return tx.PutInvite(a)
		})
		view(t, s, func(tx store.Tx) error {
			if got, _ := tx.InviteByTokenHash("h3"); got.ID != "i2" {
				t.Errorf("h3 → %q", got.ID)
			}
			if got, _ := tx.InviteByTokenHash("h2"); got.ID != "i3" {
				t.Errorf("h2 → %q", got.ID)
			}
			if _, err := tx.InviteByTokenHash("tmp"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("tmp: %v", err)
			}
			return nil
		})
		inv2, inv3 = a, b
		checkIndexes(t, s)
	})

	t.Run("workspace change moves the workspace entry", func(t *testing.T) {
		inv2.WorkspaceID = "w2"
		revoked := t0.Add(2 * time.Hour)
		inv2.Status, inv2.RevokedAt = store.InviteRevoked, &revoked
		update(t, s, func(tx store.Tx) error { return tx.PutInvite(inv2) })
		view(t, s, func(tx store.Tx) error {
			if items, _, _ := tx.Invites("w1", "", 0); !slices.Equal(inviteIDs(items), []string{"i1", "i6"}) {
				t.Errorf("Invites(w1) = %q", inviteIDs(items))
			}
			if items, _, _ := tx.Invites("w2", "", 0); !slices.Equal(inviteIDs(items), []string{"i2", "i3", "i5"}) {
				t.Errorf("Invites(w2) = %q", inviteIDs(items))
			}
			if got, _ := tx.Invite("i2"); !reflect.DeepEqual(got, inv2) {
				t.Errorf("moved invite = %+v", got)
			}
			return nil
		})
		// Moving to a missing workspace is refused and changes nothing.
		update(t, s, func(tx store.Tx) error {
			bad := inv2
			bad.WorkspaceID = "nope"
			if err := tx.PutInvite(bad); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("move to a missing workspace: %v", err)
			}
			return nil
		})
		checkIndexes(t, s)
	})

	t.Run("invalid", func(t *testing.T) {
		long := strings.Repeat("x", MaxIDLen+1)
		for name, inv := range map[string]store.Invite{
			"empty id":        invite("", "w1", "z@example.com", "hz"),
			"NUL id":          invite("i\x00", "w1", "z@example.com", "hz"),
			"empty workspace": invite("iz", "", "z@example.com", "hz"),
			"empty email":     invite("iz", "w1", "", "hz"),
			"NUL email":       invite("iz", "w1", "z@example.com\x00i1", "hz"),
			"long email":      invite("iz", "w1", long, "hz"),
			"empty hash":      invite("iz", "w1", "z@example.com", ""),
		} {
			refused(t, s, func(tx store.Tx) error {
				if err := tx.PutInvite(inv); !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "boltstore: ") {
					t.Errorf("%s: %v, want ErrInvalid", name, err)
				}
				return nil
			})
		}
		view(t, s, func(tx store.Tx) error {
			for _, id := range []string{"", "i\x00", long} {
				if _, err := tx.Invite(id); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Invite(%q): %v", id, err)
				}
				if _, err := tx.InviteByTokenHash(id); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("InviteByTokenHash(%q): %v", id, err)
				}
				if items, err := tx.InvitesForEmail(id); err != nil || items == nil || len(items) != 0 {
					t.Errorf("InvitesForEmail(%q): %#v %v", id, items, err)
				}
				if items, next, err := tx.Invites(id, "", 0); err != nil || items == nil || len(items) != 0 || next != "" {
					t.Errorf("Invites(%q): %#v %q %v", id, items, next, err)
				}
			}
			return nil
		})
		checkIndexes(t, s)
	})
	wantEvents(t, rec)

	// Durable like everything else, indexes included.
	path := s.Path()
	s.Close()
	s2, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	view(t, s2, func(tx store.Tx) error {
		if got, err := tx.InviteByTokenHash("h9"); err != nil || !reflect.DeepEqual(got, inv1) {
			t.Errorf("after reopen: %+v %v", got, err)
		}
		return nil
	})
}

func TestInvitePagination(t *testing.T) {
	s, _ := openT(t, Options{})
	const n = 10
	wss := []string{"w0", "w1", "w10", "w1-"}
	want := map[string][]string{}
	update(t, s, func(tx store.Tx) error {
		for _, w := range wss {
			if err := tx.PutWorkspace(ws(w, "s-"+w)); err != nil {
				return err
			}
		}
		for i := n - 1; i >= 0; i-- {
			for _, w := range wss {
				id := fmt.Sprintf("%s-inv%02d", w, i)
				want[w] = append(want[w], id)
				if err := tx.PutInvite(invite(id, w, "same@example.com", "hash-"+id)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	for _, w := range wss {
		slices.Sort(want[w])
	}
	walkEachWorkspace(t, s, want, n, "Invites", store.Tx.Invites,
		func(inv store.Invite) (string, string) { return inv.ID, inv.WorkspaceID })
	view(t, s, func(tx store.Tx) error {
		items, err := tx.InvitesForEmail("same@example.com")
		ids := inviteIDs(items)
		if err != nil || len(ids) != n*len(wss) || !slices.IsSorted(ids) {
			t.Errorf("InvitesForEmail = %q %v", ids, err)
		}
		return nil
	})
}

// ---- audit

func event(wsID, action string) store.AuditEvent {
	return store.AuditEvent{WorkspaceID: wsID, Actor: "alice", Action: action, Target: "user:bob", Time: t0,
		Summary: json.RawMessage(`{"before":null,"after":{"roles":["viewer"]}}`)}
}

func TestAuditAppendAndList(t *testing.T) {
	s, _ := openT(t, Options{})
	rec := newRecorder(s)
	wss := []string{"w1", "w10", "w1-"}
	update(t, s, func(tx store.Tx) error {
		for _, w := range wss {
			if err := tx.PutWorkspace(ws(w, "s-"+w)); err != nil {
				return err
			}
		}
		return nil
	})
	rec.take(t)

	const n = 12
	byWS := map[string][]store.AuditEvent{} // oldest first
	for i := 0; i < n; i++ {
		update(t, s, func(tx store.Tx) error {
			// Interleaved: neighbours sharing a prefix with w1 must not leak.
			for _, w := range wss {
				in := event(w, fmt.Sprintf("member.put.%d", i))
				got, err := tx.AppendAudit(in)
				if err != nil {
					return err
				}
				if _, ok := store.ParseAuditID(got.ID); !ok || len(got.ID) != len("ev_")+16 {
					t.Errorf("id %q is not ev_ and 16 hex digits", got.ID)
				}
				in.ID = got.ID
				if !reflect.DeepEqual(got, in) {
					t.Errorf("AppendAudit returned %+v, want %+v", got, in)
				}
				byWS[w] = append(byWS[w], got)
			}
			return nil
		})
	}
	wantEvents(t, rec) // audit carries no access decision
	for _, w := range wss {
		var wids []string
		for _, ev := range byWS[w] {
			wids = append(wids, ev.ID)
		}
		// Each workspace counts its own events, interleaved or not.
		if !slices.IsSorted(wids) || len(slices.Compact(slices.Clone(wids))) != len(wids) {
			t.Fatalf("ids of %s not strictly increasing: %q", w, wids)
		}
		if wids[0] != "ev_0000000000000001" || wids[n-1] != fmt.Sprintf("ev_%016x", n) {
			t.Errorf("ids of %s: %q", w, wids)
		}
	}
	checkIndexes(t, s)

	for _, limit := range []int{-1, 0, 1, 2, 3, 5, n - 1, n, n + 1, 100} {
		view(t, s, func(tx store.Tx) error {
			for _, w := range wss {
				var wantIDs []string
				for i := len(byWS[w]) - 1; i >= 0; i-- {
					wantIDs = append(wantIDs, byWS[w][i].ID)
				}
				var events []store.AuditEvent
				got := walk(t, limit, func(c string) ([]string, string, error) {
					items, next, err := tx.Audit(w, c, limit)
					var ids []string
					for _, ev := range items {
						if ev.WorkspaceID != w {
							t.Errorf("Audit(%s) returned an event of %q", w, ev.WorkspaceID)
						}
						ids = append(ids, ev.ID)
					}
					events = append(events, items...)
					return ids, next, err
				})
				if !slices.Equal(got, wantIDs) {
					t.Errorf("limit %d: Audit(%s) walk = %q, want newest first %q", limit, w, got, wantIDs)
				}
				if limit == 0 {
					slices.Reverse(events)
					if !reflect.DeepEqual(events, byWS[w]) {
						t.Errorf("Audit(%s) events = %+v, want %+v", w, events, byWS[w])
					}
				}
			}
			return nil
		})
	}

	view(t, s, func(tx store.Tx) error {
		all := byWS["w1"]
		// The cursor is exclusive: the page holds strictly older events.
		items, next, err := tx.Audit("w1", all[5].ID, 2)
		if err != nil || len(items) != 2 || items[0].ID != all[4].ID || items[1].ID != all[3].ID || next != all[3].ID {
			t.Errorf("Audit(w1, #5, 2) = %+v %q %v", items, next, err)
		}
		// A page that ends exactly at the oldest event has no next.
		items, next, _ = tx.Audit("w1", all[3].ID, 3)
		if len(items) != 3 || items[2].ID != all[0].ID || next != "" {
			t.Errorf("exact last page: %d items, next %q", len(items), next)
		}
		items, next, _ = tx.Audit("w1", "", n)
		if len(items) != n || next != "" {
			t.Errorf("exact single page: %d items, next %q", len(items), next)
		}
		// Cursors before and after every key, and between keys (another
		// workspace's id).
		if items, next, _ := tx.Audit("w1", all[0].ID, 0); len(items) != 0 || next != "" {
			t.Errorf("cursor at the oldest event: %+v %q", items, next)
		}
		if items, _, _ := tx.Audit("w1", "ev_g", 1); len(items) != 1 || items[0].ID != all[n-1].ID {
			t.Errorf("cursor after every event: %+v", items)
		}
		if items, _, _ := tx.Audit("w1", all[5].ID+"0", 1); len(items) != 1 || items[0].ID != all[5].ID {
			t.Errorf("cursor between events: %+v", items)
		}
		// The last workspace of the bucket (no key after its range).
		if items, _, _ := tx.Audit("w1-", "", 1); len(items) != 1 || items[0].ID != byWS["w1-"][n-1].ID {
			t.Errorf("Audit(w1-) newest = %+v", items)
		}
		for _, id := range []string{"w2", "", "w1\x00", "w"} {
			if items, next, err := tx.Audit(id, "", 0); err != nil || items == nil || len(items) != 0 || next != "" {
				t.Errorf("Audit(%q) = %#v %q %v", id, items, next, err)
			}
		}
		if _, err := tx.AppendAudit(event("w1", "x")); !errors.Is(err, ErrTxReadOnly) {
			t.Errorf("AppendAudit in View: %v", err)
		}
		return nil
	})

	// Events outlive their workspace: a missing workspace is fine, an
	// impossible id is not.
	update(t, s, func(tx store.Tx) error {
		if _, err := tx.AppendAudit(event("gone", "workspace.delete")); err != nil {
			t.Errorf("event of a missing workspace: %v", err)
		}
		return nil
	})
	for _, id := range []string{"", "w\x00", strings.Repeat("x", MaxIDLen+1)} {
		refused(t, s, func(tx store.Tx) error {
			if _, err := tx.AppendAudit(event(id, "x")); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("event of workspace %q: %v", id, err)
			}
			return nil
		})
	}
	view(t, s, func(tx store.Tx) error {
		if items, _, _ := tx.Audit("gone", "", 0); len(items) != 1 || items[0].Action != "workspace.delete" {
			t.Errorf("Audit(gone) = %+v", items)
		}
		return nil
	})
	wantEvents(t, rec)
}

func TestAuditSequence(t *testing.T) {
	s, path := openT(t, Options{})
	id := func(n uint64) string { return fmt.Sprintf("ev_%016x", n) }
	appendOne := func(s *Store, wsID string) string {
		t.Helper()
		var got string
		update(t, s, func(tx store.Tx) error {
			ev, err := tx.AppendAudit(event(wsID, "x"))
			got = ev.ID
			return err
		})
		return got
	}

	// Many appends, in many transactions and in one, interleaved over
	// workspaces: each workspace's ids count 1, 2, 3... whatever the
	// others do, so an id reveals nothing about other tenants' activity.
	counts := map[string]uint64{}
	check := func(w, got string) {
		t.Helper()
		counts[w]++
		if got != id(counts[w]) {
			t.Fatalf("event %d of %s got id %q, want %q", counts[w], w, got, id(counts[w]))
		}
	}
	for i := 0; i < 50; i++ {
		w := fmt.Sprint("w", i%3)
		check(w, appendOne(s, w))
	}
	update(t, s, func(tx store.Tx) error {
		for i := 0; i < 150; i++ {
			w := fmt.Sprint("w", i%7)
			ev, err := tx.AppendAudit(event(w, "x"))
			if err != nil {
				return err
			}
			check(w, ev.ID)
		}
		return nil
	})

	// Across a reopen.
	s.Close()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check("w1", appendOne(s, "w1"))

	// An imported id is kept, and later appends follow the greatest one;
	// a lower one changes nothing.
	update(t, s, func(tx store.Tx) error {
		for _, x := range []string{id(1000), id(500)} {
			ev := event("w9", "imported")
			ev.ID = x
			got, err := tx.AppendAudit(ev)
			if err != nil || got.ID != x {
				t.Errorf("AppendAudit(%s) = %+v %v", x, got, err)
			}
		}
		return nil
	})
	if got := appendOne(s, "w9"); got != id(1001) {
		t.Errorf("after importing id 1000: %q", got)
	}
	check("w1", appendOne(s, "w1")) // other workspaces are unaffected
	view(t, s, func(tx store.Tx) error {
		items, _, _ := tx.Audit("w9", "", 0)
		if len(items) != 3 || items[0].ID != id(1001) || items[1].ID != id(1000) || items[2].ID != id(500) {
			t.Errorf("Audit(w9) = %+v", items)
		}
		return nil
	})

	// Ids this store could not have assigned, and an id already taken, are
	// refused, and leave nothing behind.
	for _, x := range []string{"12", "abc", "ev_12", "ev_000000000000000A", "ev_000000000000000g", "EV_0000000000000001",
		"ev_00000000000000001", "0000000000000000000a", "99999999999999999999", " 0000000000000000001", id(1000)} {
		refused(t, s, func(tx store.Tx) error {
			ev := event("w9", "bad")
			ev.ID = x
			if _, err := tx.AppendAudit(ev); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("AppendAudit with id %q: %v", x, err)
			}
			return nil
		})
	}
	view(t, s, func(tx store.Tx) error {
		if items, _, _ := tx.Audit("w9", "", 0); len(items) != 3 {
			t.Errorf("refused events stored: %+v", items)
		}
		return nil
	})

	// Ids of stores written before per-workspace ids (20 decimal digits of
	// a store-wide sequence) import as they are, and sort before every id
	// assigned since: newest first still holds.
	update(t, s, func(tx store.Tx) error {
		for _, x := range []string{"00000000000000000007", "00000000000000000042"} {
			ev := event("old", "legacy")
			ev.ID = x
			if _, err := tx.AppendAudit(ev); err != nil {
				return err
			}
		}
		return nil
	})
	if got := appendOne(s, "old"); got != id(1) {
		t.Errorf("first append after legacy ids: %q", got)
	}
	view(t, s, func(tx store.Tx) error {
		items, _, _ := tx.Audit("old", "", 0)
		if len(items) != 3 || items[0].ID != id(1) || items[1].ID != "00000000000000000042" || items[2].ID != "00000000000000000007" {
			t.Errorf("Audit(old) = %+v", items)
		}
		return nil
	})

	// The last id of a uint64: importable, but then the sequence is done
	// rather than wrapping to ids that sort first.
	update(t, s, func(tx store.Tx) error {
		ev := event("w9", "max")
		ev.ID = id(math.MaxUint64)
		_, err := tx.AppendAudit(ev)
		return err
	})
	err = s.Update(context.Background(), func(tx store.Tx) error {
		_, err := tx.AppendAudit(event("w9", "x"))
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "exhausted") {
		t.Errorf("append after the last id: %v", err)
	}
	check("w1", appendOne(s, "w1"))
	checkIndexes(t, s)
}

func TestAuditRollback(t *testing.T) {
	s, _ := openT(t, Options{})
	var first string
	update(t, s, func(tx store.Tx) error {
		ev, err := tx.AppendAudit(event("w1", "a"))
		first = ev.ID
		return err
	})
	before, _ := s.Stats(context.Background())

	var rolledBack string
	sentinel := errors.New("check failed")
	err := s.Update(context.Background(), func(tx store.Tx) error {
		ev, err := tx.AppendAudit(event("w1", "b"))
		if err != nil {
			return err
		}
		rolledBack = ev.ID
		if items, _, _ := tx.Audit("w1", "", 0); len(items) != 2 {
			t.Errorf("the transaction does not see its own append: %+v", items)
		}
		return sentinel
	})
	if err != sentinel {
		t.Fatalf("Update = %v", err)
	}
	if rolledBack <= first {
		t.Fatalf("rolled-back id %q not after %q", rolledBack, first)
	}
	after, _ := s.Stats(context.Background())
	if after.AuditEvents != before.AuditEvents || after.AuditEvents != 1 {
		t.Errorf("audit events %d → %d", before.AuditEvents, after.AuditEvents)
	}
	view(t, s, func(tx store.Tx) error {
		items, next, err := tx.Audit("w1", "", 0)
		if err != nil || len(items) != 1 || items[0].ID != first || next != "" {
			t.Errorf("Audit after rollback = %+v %q %v", items, next, err)
		}
		return nil
	})
	// The sequence rolled back too: nobody saw the rolled-back id, and the
	// next event takes it, right after the last visible one.
	update(t, s, func(tx store.Tx) error {
		ev, err := tx.AppendAudit(event("w1", "c"))
		if err == nil && ev.ID != rolledBack {
			t.Errorf("next id %q, want %q", ev.ID, rolledBack)
		}
		return err
	})
	checkIndexes(t, s)
}

func TestStatsCountsInvitesAndAudit(t *testing.T) {
	s, _ := openT(t, Options{})
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutWorkspace(ws("w1", "one")); err != nil {
			return err
		}
		for i := 0; i < 3; i++ {
			if err := tx.PutInvite(invite(fmt.Sprint("i", i), "w1", "a@example.com", fmt.Sprint("h", i))); err != nil {
				return err
			}
		}
		// A replace is not a new invite.
		if err := tx.PutInvite(invite("i0", "w1", "b@example.com", "h9")); err != nil {
			return err
		}
		for i := 0; i < 4; i++ {
			if _, err := tx.AppendAudit(event(fmt.Sprint("w", i%2), "x")); err != nil {
				return err
			}
		}
		return nil
	})
	st, err := s.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(s.Path())
	want := store.Stats{Workspaces: 1, Invites: 3, AuditEvents: 4, SizeBytes: fi.Size()}
	if st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}
}

func TestNewMethodsAfterTxEnds(t *testing.T) {
	s, _ := openT(t, Options{})
	var leaked store.Tx
	update(t, s, func(tx store.Tx) error { leaked = tx; return nil })
	checks := map[string]error{}
	_, _, checks["Users"] = leaked.Users("", 0)
	_, checks["Invite"] = leaked.Invite("i")
	_, checks["InviteByTokenHash"] = leaked.InviteByTokenHash("h")
	checks["PutInvite"] = leaked.PutInvite(invite("i", "w", "e", "h"))
	_, _, checks["Invites"] = leaked.Invites("w", "", 0)
	_, checks["InvitesForEmail"] = leaked.InvitesForEmail("e")
	_, checks["AppendAudit"] = leaked.AppendAudit(event("w", "x"))
	_, _, checks["Audit"] = leaked.Audit("w", "", 0)
	for name, err := range checks {
		if !errors.Is(err, ErrTxDone) {
			t.Errorf("%s after the transaction: %v", name, err)
		}
	}
}
