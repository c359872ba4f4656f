package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// seedFull writes one or more records of every kind, with every optional
// field set somewhere, in one Update: 2 users, 2 workspaces (ws_b
// deleted), 3 memberships, 1 role, 2 invites (one accepted), 2 API keys
// (one revoked and used), 3 audit events (one store-wide), 1 signing key.
func seedFull(t testing.TB, s store.Store) {
	t.Helper()
	a := ws("ws_a", "acme")
	a.Description = "the first"
	b := ws("ws_b", "beta")
	b.DeletedAt = tp(t0.Add(time.Hour))
	m := member("ws_a", "alice", "admin", "exporter")
	m.Grants = []string{"billing:read"}
	m.Denies = []string{"instance:delete"}
	m.Restrictions = map[string][]string{"instance": {"i1"}}
	acc := invite("inv_2", "ws_a", "dave@example.com", "h2")
	acc.Status, acc.AcceptedBy, acc.AcceptedAt = store.InviteAccepted, "dave", tp(t0.Add(time.Minute))
	acc.Restrictions = map[string][]string{"instance": {"i1"}}
	k2 := apiKey("k2", "ws_a")
	k2.ExpiresAt, k2.RevokedAt, k2.LastUsedAt = tp(t0.Add(48*time.Hour)), tp(t0.Add(time.Hour)), tp(t0.Add(time.Minute))
	k2.Restrictions = map[string][]string{"instance": {"i1"}}
	ev := event("ws_a", "member.put", t0)
	ev.Summary = json.RawMessage(`{"before":null,"after":{"roles":["admin"]}}`)
	update(t, s, func(tx store.Tx) error {
		for _, err := range []error{
			tx.PutUser(store.User{ID: "alice", Email: "alice@example.com", FirstSeen: t0, LastSeen: t0.Add(time.Hour)}),
			tx.PutUser(store.User{ID: "bob", FirstSeen: t0, LastSeen: t0}),
			tx.PutWorkspace(a),
			tx.PutWorkspace(b),
			tx.PutMember(m),
			tx.PutMember(member("ws_a", "bob", "viewer")),
			tx.PutMember(member("ws_b", "alice", "admin")),
			tx.PutRole(role("ws_a", "exporter", "export:*")),
			tx.PutInvite(invite("inv_1", "ws_a", "carol@example.com", "h1")),
			tx.PutInvite(acc),
			tx.PutAPIKey(apiKey("k1", "ws_a")),
			tx.PutAPIKey(k2),
			tx.PutSigningKey(store.SigningKey{ID: "kid1", JWK: json.RawMessage(`{"kty":"OKP","crv":"Ed25519","x":"a"}`), CreatedAt: t0}),
		} {
			if err != nil {
				return err
			}
		}
		for _, e := range []store.AuditEvent{ev, event("ws_a", "role.put", t0.Add(time.Minute)), event(store.GlobalAuditWorkspace, "store.backup", t0)} {
			if _, err := tx.AppendAudit(e); err != nil {
				return err
			}
		}
		return nil
	})
}

// export reads the whole store through store.Export.
func export(t testing.TB, s store.Store) store.Snapshot {
	t.Helper()
	var snap store.Snapshot
	view(t, s, func(tx store.Tx) (err error) {
		snap, err = store.Export(tx)
		return err
	})
	return snap
}
