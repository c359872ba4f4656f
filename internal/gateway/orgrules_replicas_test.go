package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/changefeed"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore/pgtest"
)

// orgReplica is one gateway with the organization rules on the shared
// PostgreSQL database dbURL.
func (f *fixture) orgReplica(t *testing.T, dbURL string) (*gateway.Policy, *changefeed.Live) {
	t.Helper()
	pg, err := pgstore.Open(context.Background(), dbURL, pgstore.Options{})
	if err != nil {
		t.Fatalf("opening PostgreSQL: %v", err)
	}
	live, err := changefeed.New(pg, changefeed.Options{MaxStaleness: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = live.Close() })
	cfg := testConfig()
	cfg.OrgRoles = []model.OrgRole{{Slug: "biller", Permissions: []string{model.PermOrgBilling}}, {Slug: "member"}}
	e := f.newEngineWith(func(o *gateway.Options) { o.Live, o.Model = live, newModel(t, cfg) })
	p, err := e.NewPolicyWith(orgRules, orgSources)
	if err != nil {
		t.Fatal(err)
	}
	return p, live
}

// An organization role change and a soft delete on gateway A reach the
// cached organization decisions of gateway B through the change feed
// (LISTEN/NOTIFY), and A's own at once.
func TestOrgRuleChangesReachOtherReplicas(t *testing.T) {
	f := newFixture(t)
	dbURL := pgtest.NewDatabase(t)
	a, liveA := f.orgReplica(t, dbURL)
	b, _ := f.orgReplica(t, dbURL)
	now := time.Now().UTC()
	alpha := store.Organization{ID: "org_a", Slug: "alpha", Name: "Alpha", CreatedAt: now, UpdatedAt: now}
	write := func(fn func(store.Tx) error) {
		t.Helper()
		if err := liveA.Update(context.Background(), fn); err != nil {
			t.Fatal(err)
		}
	}
	write(func(tx store.Tx) error {
		if err := tx.PutOrganization(alpha); err != nil {
			return err
		}
		return tx.PutOrgMember(store.OrgMember{OrganizationID: "org_a", UserID: "bill", Roles: []string{"biller"}, JoinedAt: now, UpdatedAt: now})
	})
	tok := f.token("bill")
	get := func(p *gateway.Policy, path string) *gateway.Decision { return decide(p, request("GET", path, tok)) }
	eventuallyDecide(t, "B sees the seed", func() bool { return get(b, "/o/alpha/billing").Allowed })
	if !get(a, "/o/alpha/billing").Allowed {
		t.Fatal("A denies before the change")
	}
	write(func(tx store.Tx) error {
		return tx.PutOrgMember(store.OrgMember{OrganizationID: "org_a", UserID: "bill", Roles: []string{"member"}, JoinedAt: now, UpdatedAt: now})
	})
	check(t, "A right after its own change", get(a, "/o/alpha/billing"), want{403, "forbidden", "organization.billing"})
	eventuallyDecide(t, "B sees the role change", func() bool {
		d := get(b, "/o/alpha/billing")
		return !d.Allowed && d.Problem.Code == "forbidden"
	})
	check(t, "B org_member", get(b, "/o/alpha"), want{})
	deleted := alpha
	deleted.DeletedAt = &now
	write(func(tx store.Tx) error { return tx.PutOrganization(deleted) })
	check(t, "A after the delete", get(a, "/o/alpha"), want{404, "organization_not_found", ""})
	eventuallyDecide(t, "B sees the delete", func() bool {
		d := get(b, "/o/alpha")
		return !d.Allowed && d.Problem.Code == "organization_not_found"
	})
}
