package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Export and Import live in package store and use only store.Tx; they are
// tested here, on the one real backend.

// fullStore fills s with every kind of record.
func fullStore(t *testing.T, s *Store) {
	t.Helper()
	del := t0.Add(48 * time.Hour)
	accepted := t0.Add(time.Hour)
	revoked := t0.Add(2 * time.Hour)
	keyUsed := t0.Add(3 * time.Hour)
	keyExpires := t0.Add(90 * 24 * time.Hour)
	update(t, s, func(tx store.Tx) error {
		for _, u := range []store.User{
			{ID: "carol", FirstSeen: t0, LastSeen: t0.Add(time.Minute)},
			{ID: "alice", Email: "alice@example.com", FirstSeen: t0, LastSeen: t0.Add(time.Hour)},
			{ID: "bob", Email: "bob@example.com", FirstSeen: t0.In(time.FixedZone("X", 3600)), LastSeen: t0},
		} {
			if err := tx.PutUser(u); err != nil {
				return err
			}
		}
		live := ws("w2", "acme")
		live.Description = "Acme <Corp> & co"
		gone := ws("w1", "old")
		gone.DeletedAt = &del
		for _, w := range []store.Workspace{live, gone} {
			if err := tx.PutWorkspace(w); err != nil {
				return err
			}
		}
		owner := member("w2", "alice", "owner")
		agent := member("w2", "bob", "agent", "viewer")
		agent.Grants = []string{"message.send", "read:*"}
		agent.Denies = []string{"contact.delete"}
		agent.Restrictions = map[string][]string{"instance": {"i1", "i2"}, "chat": {}}
		for _, m := range []store.Membership{agent, owner, member("w1", "alice", "owner"), member("w1", "carol")} {
			if err := tx.PutMember(m); err != nil {
				return err
			}
		}
		for _, r := range []store.Role{
			{WorkspaceID: "w2", Slug: "agent", Name: "Agent", Description: "answers chats", Permissions: []string{"message.*", "contact.read"}, CreatedAt: t0, UpdatedAt: t0},
			{WorkspaceID: "w2", Slug: "empty", Name: "Empty", Permissions: []string{}, CreatedAt: t0, UpdatedAt: t0},
			{WorkspaceID: "w1", Slug: "legacy", Name: "Legacy", Permissions: []string{"x.y"}, CreatedAt: t0, UpdatedAt: t0},
		} {
			if err := tx.PutRole(r); err != nil {
				return err
			}
		}
		pending := invite("inv-p", "w2", "dave@example.com", "hash-p")
		expired := invite("inv-e", "w2", "erin@example.com", "hash-e")
		expired.ExpiresAt = t0.Add(-time.Hour)
		acc := invite("inv-a", "w2", "bob@example.com", "hash-a")
		acc.Status, acc.AcceptedBy, acc.AcceptedAt = store.InviteAccepted, "bob", &accepted
		rev := invite("inv-r", "w1", "dave@example.com", "hash-r")
		rev.Status, rev.RevokedAt = store.InviteRevoked, &revoked
		for _, inv := range []store.Invite{pending, expired, acc, rev} {
			if err := tx.PutInvite(inv); err != nil {
				return err
			}
		}
		// API keys: every optional time set, none, and one; one of the
		// deleted workspace.
		usedKey := apiKey("key-b", "w2")
		usedKey.ExpiresAt = &keyExpires
		usedKey.RevokedAt = &revoked
		usedKey.LastUsedAt = &keyUsed
		plainKey := apiKey("key-a", "w2")
		plainKey.Permissions = []string{}
		oldKey := apiKey("key-c", "w1")
		oldKey.LastUsedAt = &keyUsed
		for _, k := range []store.APIKey{usedKey, oldKey, plainKey} {
			if err := tx.PutAPIKey(k); err != nil {
				return err
			}
		}
		for _, ev := range []store.AuditEvent{
			{WorkspaceID: "w1", Actor: "cli", Action: "workspace.create", Target: "workspace:w1", Time: t0},
			{WorkspaceID: "w2", Actor: "cli", Action: "workspace.create", Target: "workspace:w2", Time: t0},
			{WorkspaceID: "w2", Actor: "alice", Action: "member.put", Target: "user:bob", Time: t0.Add(time.Minute),
				Summary: json.RawMessage(`{"before": null, "after": {"roles": ["agent", "<viewer>"]}}`)},
			{WorkspaceID: "w1", Actor: "alice", Action: "workspace.delete", Target: "workspace:w1", Time: del},
		} {
			if _, err := tx.AppendAudit(ev); err != nil {
				return err
			}
		}
		return tx.PutSigningKey(store.SigningKey{ID: "k1", JWK: json.RawMessage(`{"kty":"OKP","crv":"Ed25519","x":"abc","d":"secret","kid":"k1"}`), CreatedAt: t0})
	})
}

func export(t *testing.T, s *Store) store.Snapshot {
	t.Helper()
	var snap store.Snapshot
	view(t, s, func(tx store.Tx) (err error) {
		snap, err = store.Export(tx)
		return err
	})
	return snap
}

// jsonRoundTrip returns snap as JSON and decoded again from it.
func jsonRoundTrip(t *testing.T, snap store.Snapshot) ([]byte, store.Snapshot) {
	t.Helper()
	data, err := json.MarshalIndent(snap, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var back store.Snapshot
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&back); err != nil {
		t.Fatal(err)
	}
	return data, back
}

func TestSnapshotRoundTrip(t *testing.T) {
	src, _ := openT(t, Options{})
	fullStore(t, src)
	s1 := export(t, src)

	// Contents and order.
	if s1.Version != store.SnapshotVersion {
		t.Errorf("version %d", s1.Version)
	}
	var got []string
	for _, u := range s1.Users {
		got = append(got, u.ID)
	}
	if !slices.Equal(got, []string{"alice", "bob", "carol"}) {
		t.Errorf("users %q", got)
	}
	got = nil
	for _, w := range s1.Workspaces {
		got = append(got, w.ID)
	}
	if !slices.Equal(got, []string{"w1", "w2"}) || !s1.Workspaces[0].Deleted() {
		t.Errorf("workspaces %q", got)
	}
	got = nil
	for _, m := range s1.Memberships {
		got = append(got, m.WorkspaceID+"/"+m.UserID)
	}
	if !slices.Equal(got, []string{"w1/alice", "w1/carol", "w2/alice", "w2/bob"}) {
		t.Errorf("memberships %q", got)
	}
	got = nil
	for _, r := range s1.Roles {
		got = append(got, r.WorkspaceID+"/"+r.Slug)
	}
	if !slices.Equal(got, []string{"w1/legacy", "w2/agent", "w2/empty"}) {
		t.Errorf("roles %q", got)
	}
	got = nil
	for _, inv := range s1.Invites {
		got = append(got, inv.WorkspaceID+"/"+inv.ID+"/"+inv.Status)
	}
	if !slices.Equal(got, []string{"w1/inv-r/revoked", "w2/inv-a/accepted", "w2/inv-e/pending", "w2/inv-p/pending"}) {
		t.Errorf("invites %q", got)
	}
	got = nil
	for _, k := range s1.APIKeys {
		got = append(got, k.WorkspaceID+"/"+k.ID)
	}
	if !slices.Equal(got, []string{"w1/key-c", "w2/key-a", "w2/key-b"}) {
		t.Errorf("API keys %q", got)
	}
	if k := s1.APIKeys[2]; k.ExpiresAt == nil || !k.ExpiresAt.Equal(t0.Add(90*24*time.Hour)) ||
		k.RevokedAt == nil || !k.RevokedAt.Equal(t0.Add(2*time.Hour)) ||
		k.LastUsedAt == nil || !k.LastUsedAt.Equal(t0.Add(3*time.Hour)) || k.SecretHash != "sha256-of-key-b" {
		t.Errorf("exported key-b %+v", k)
	}
	if k := s1.APIKeys[1]; k.ExpiresAt != nil || k.RevokedAt != nil || k.LastUsedAt != nil || k.Permissions == nil {
		t.Errorf("exported key-a %+v", k)
	}
	got = nil
	for _, ev := range s1.Audit {
		got = append(got, ev.WorkspaceID+"/"+ev.ID[len(ev.ID)-1:]+"/"+ev.Action)
	}
	// Per workspace, oldest first; ids count per workspace.
	if !slices.Equal(got, []string{"w1/1/workspace.create", "w1/2/workspace.delete", "w2/1/workspace.create", "w2/2/member.put"}) {
		t.Errorf("audit %q", got)
	}
	if len(s1.SigningKeys) != 1 || !strings.Contains(string(s1.SigningKeys[0].JWK), `"d":"secret"`) {
		t.Errorf("signing keys %+v", s1.SigningKeys)
	}

	data1, back1 := jsonRoundTrip(t, s1)
	dst, _ := openT(t, Options{})
	update(t, dst, func(tx store.Tx) error { return store.Import(tx, back1) })
	checkIndexes(t, dst)
	s2 := export(t, dst)
	data2, back2 := jsonRoundTrip(t, s2)
	if !reflect.DeepEqual(back1, back2) {
		t.Errorf("snapshots differ after export → import → export:\n%s\n----\n%s", data1, data2)
	}
	if !bytes.Equal(data1, data2) {
		t.Errorf("snapshot JSON differs after export → import → export:\n%s\n----\n%s", data1, data2)
	}
	st1, _ := src.Stats(context.Background())
	st2, _ := dst.Stats(context.Background())
	st1.SizeBytes, st2.SizeBytes = 0, 0
	if st1 != st2 {
		t.Errorf("stats %+v → %+v", st1, st2)
	}

	// The imported store works: indexes answer, and the audit sequence
	// continues after the imported events.
	update(t, dst, func(tx store.Tx) error {
		if inv, err := tx.InviteByTokenHash("hash-a"); err != nil || inv.ID != "inv-a" {
			t.Errorf("InviteByTokenHash after import: %+v %v", inv, err)
		}
		if items, _ := tx.InvitesForEmail("dave@example.com"); len(items) != 2 {
			t.Errorf("InvitesForEmail after import: %+v", items)
		}
		if w, err := tx.WorkspaceBySlug("old"); err != nil || w.ID != "w1" || !w.Deleted() {
			t.Errorf("WorkspaceBySlug after import: %+v %v", w, err)
		}
		if items, _, _ := tx.UserMemberships("alice", "", 0); len(items) != 2 {
			t.Errorf("UserMemberships after import: %+v", items)
		}
		if items, _, _ := tx.APIKeys("w2", "", 0); !reflect.DeepEqual(items, s1.APIKeys[1:]) {
			t.Errorf("APIKeys(w2) after import: %+v, want %+v", items, s1.APIKeys[1:])
		}
		if k, err := tx.APIKey("key-c"); err != nil || !reflect.DeepEqual(k, s1.APIKeys[0]) {
			t.Errorf("APIKey(key-c) after import: %+v %v", k, err)
		}
		ev, err := tx.AppendAudit(store.AuditEvent{WorkspaceID: "w2", Action: "x"})
		if err != nil || ev.ID != "ev_0000000000000003" {
			t.Errorf("first append after import: %q %v", ev.ID, err)
		}
		return err
	})

	// An empty store exports empty lists, not nulls, and imports back.
	empty, _ := openT(t, Options{})
	data, back := jsonRoundTrip(t, export(t, empty))
	if bytes.Contains(data, []byte("null")) {
		t.Errorf("empty snapshot has nulls: %s", data)
	}
	other, _ := openT(t, Options{})
	update(t, other, func(tx store.Tx) error { return store.Import(tx, back) })
}

func TestImportErrors(t *testing.T) {
	src, _ := openT(t, Options{})
	fullStore(t, src)
	good := export(t, src)

	cases := []struct {
		name  string
		edit  func(s *store.Snapshot)
		wants []string // substrings of the error
	}{
		{"wrong version", func(s *store.Snapshot) { s.Version = 2 }, []string{"version 2", "version 1"}},
		{"no version", func(s *store.Snapshot) { s.Version = 0 }, []string{"version 0"}},
		{"membership of an unknown workspace", func(s *store.Snapshot) { s.Memberships[2].WorkspaceID = "w9" }, []string{"memberships[2]", `"w9"`, "not in the snapshot"}},
		{"role of an unknown workspace", func(s *store.Snapshot) { s.Roles[1].WorkspaceID = "w9" }, []string{"roles[1]", `"w9"`}},
		{"invite of an unknown workspace", func(s *store.Snapshot) { s.Invites[3].WorkspaceID = "w9" }, []string{"invites[3]", `"inv-p"`, `"w9"`}},
		{"API key of an unknown workspace", func(s *store.Snapshot) { s.APIKeys[1].WorkspaceID = "w9" }, []string{"api_keys[1]", `"key-a"`, `"w9"`, "not in the snapshot"}},
		{"duplicate API key id", func(s *store.Snapshot) { s.APIKeys[2].ID = "key-c" }, []string{"api_keys[2]", `"key-c"`, "twice"}},
		{"API key without a secret hash", func(s *store.Snapshot) { s.APIKeys[0].SecretHash = "" }, []string{"api_keys[0]", `"key-c"`, "secret hash is empty"}},
		{"audit event without a workspace", func(s *store.Snapshot) { s.Audit[0].WorkspaceID = "" }, []string{"audit[0]", "workspace id is empty"}},
		{"duplicate user", func(s *store.Snapshot) { s.Users[2].ID = "alice" }, []string{"users[2]", "twice"}},
		{"duplicate membership", func(s *store.Snapshot) { s.Memberships[1].UserID = "alice" }, []string{"memberships[1]", "twice"}},
		{"duplicate audit id", func(s *store.Snapshot) { s.Audit[1].ID = s.Audit[0].ID }, []string{"audit[1]", "twice"}},
		// Errors from the store name the record too.
		{"taken slug", func(s *store.Snapshot) { s.Workspaces[1].Slug = "old" }, []string{"workspaces[1]", `"w2"`, "slug already taken"}},
		{"shared token hash", func(s *store.Snapshot) { s.Invites[2].TokenHash = "hash-a" }, []string{"invites[2]", `"inv-e"`, "invalid record"}},
		{"bad audit id", func(s *store.Snapshot) { s.Audit[1].ID = "7" }, []string{"audit[1]", "16 hex digits"}},
		{"empty user id", func(s *store.Snapshot) { s.Users[0].ID = "" }, []string{"users[0]", "user id is empty"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, snap := jsonRoundTrip(t, good) // a deep copy
			c.edit(&snap)
			dst, _ := openT(t, Options{})
			err := dst.Update(context.Background(), func(tx store.Tx) error { return store.Import(tx, snap) })
			if err == nil {
				t.Fatal("imported")
			}
			for _, w := range c.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			// The transaction rolled back: nothing imported.
			st, _ := dst.Stats(context.Background())
			st.SizeBytes = 0
			if st != (store.Stats{}) {
				t.Errorf("a failed import left %+v", st)
			}
		})
	}
	if err := good.Check(); err != nil {
		t.Errorf("Check of a good snapshot: %v", err)
	}
	// Errors wrap the store's sentinels.
	_, snap := jsonRoundTrip(t, good)
	snap.Workspaces[1].Slug = "old"
	dst, _ := openT(t, Options{})
	err := dst.Update(context.Background(), func(tx store.Tx) error { return store.Import(tx, snap) })
	if !errors.Is(err, store.ErrSlugTaken) {
		t.Errorf("taken slug: %v", err)
	}
}

// API keys came within snapshot version 1: a snapshot without the field
// imports with no keys, and Check alone refuses a key whose workspace the
// snapshot lacks.
func TestSnapshotAPIKeysOptional(t *testing.T) {
	src, _ := openT(t, Options{})
	fullStore(t, src)
	good := export(t, src)
	if len(good.APIKeys) != 3 {
		t.Fatalf("fixture has %d API keys", len(good.APIKeys))
	}

	// An older snapshot: the same JSON without "api_keys".
	data, _ := jsonRoundTrip(t, good)
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	if _, ok := fields["api_keys"]; !ok {
		t.Fatalf("export has no api_keys field: %s", data)
	}
	delete(fields, "api_keys")
	old, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	var snap store.Snapshot
	dec := json.NewDecoder(bytes.NewReader(old))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&snap); err != nil {
		t.Fatal(err)
	}
	if snap.APIKeys != nil || snap.Version != store.SnapshotVersion {
		t.Fatalf("old snapshot decoded with API keys %+v, version %d", snap.APIKeys, snap.Version)
	}
	if err := snap.Check(); err != nil {
		t.Fatalf("Check of a snapshot without api_keys: %v", err)
	}
	dst, _ := openT(t, Options{})
	update(t, dst, func(tx store.Tx) error { return store.Import(tx, snap) })
	checkIndexes(t, dst)
	st1, _ := src.Stats(context.Background())
	st2, _ := dst.Stats(context.Background())
	st1.SizeBytes, st2.SizeBytes = 0, 0
	st1.APIKeys = 0
	if st1 != st2 {
		t.Errorf("stats %+v → %+v", st1, st2)
	}
	if again := export(t, dst); again.APIKeys == nil || len(again.APIKeys) != 0 {
		t.Errorf("re-export of a store without keys: %#v", again.APIKeys)
	}

	// Check, without a store.
	_, bad := jsonRoundTrip(t, good)
	bad.APIKeys[0].WorkspaceID = "w9"
	err = bad.Check()
	if err == nil {
		t.Fatal("Check accepted an API key of a workspace missing from the snapshot")
	}
	for _, w := range []string{"api_keys[0]", `"key-c"`, `"w9"`, "not in the snapshot"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	_, bad = jsonRoundTrip(t, good)
	bad.APIKeys = append(bad.APIKeys, bad.APIKeys[0])
	if err := bad.Check(); err == nil || !strings.Contains(err.Error(), "api_keys[3]") || !strings.Contains(err.Error(), "twice") {
		t.Errorf("Check of a duplicate API key: %v", err)
	}
}
