package gateway_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// BenchmarkExplain: one explain for a member with 10 roles, read from the
// store in a View as the API does (README "Why was I denied?": ≤ 1 ms).
func BenchmarkExplain(b *testing.B) {
	f := newFixture(b)
	p := f.policy(gateway.DefaultWorkspaceSource)
	roles := make([]string, 10)
	f.update(func(tx store.Tx) error {
		for i := range roles {
			roles[i] = "r" + strconv.Itoa(i)
			must(b, tx.PutRole(store.Role{WorkspaceID: f.acme.ID, Slug: roles[i], Name: roles[i],
				Permissions: []string{"message.read", "contact.*", "campaign.run"}}))
		}
		now := time.Now().UTC()
		return tx.PutMember(store.Membership{WorkspaceID: f.acme.ID, UserID: "tenroles", Roles: roles,
			Grants: []string{"message.send"}, Denies: []string{"message.send"}, JoinedAt: now, UpdatedAt: now})
	})
	in := gateway.ExplainInput{Method: "POST", Path: "/w/acme/messages", Subject: "tenroles", Workspace: f.acme}
	run := func() *gateway.Explanation {
		var ex *gateway.Explanation
		must(b, f.store.View(t0(), func(tx store.Tx) error {
			var err error
			ex, err = p.Explain(tx, in)
			return err
		}))
		return ex
	}
	if ex := run(); ex.Decision.Reason != "denied_by_member_deny" || len(ex.Roles) != 10 {
		b.Fatalf("explanation %+v", ex)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		run()
	}
}
