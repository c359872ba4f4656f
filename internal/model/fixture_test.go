package model_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
)

// fixture is a model over a real bbolt store in a temp dir, seeded with
// one workspace (acme) and its members.
type fixture struct {
	t     testing.TB
	store *boltstore.Store
	model *model.Model
	acme  store.Workspace // alice owner, olga operator, dave operator - message.send, eve member + exporter + campaign.*
}

var testPermissions = []model.Permission{
	{Name: "message.read"},
	{Name: "message.send", Implies: []string{"message.read"}},
	{Name: "contact.manage", Implies: []string{"contact.read"}},
	{Name: "contact.read"},
	{Name: "campaign.read"},
	{Name: "campaign.run", Implies: []string{"campaign.read"}},
}

var testRoles = []model.SystemRole{
	{Slug: "owner", Name: "Owner", Permissions: []string{authz.PermAdmin}},
	{Slug: "operator", Name: "Operator", Permissions: []string{"message.read", "message.send", "contact.read", "campaign.read"}},
	{Slug: "member", Name: "Member", Permissions: []string{"message.read"}},
}

func testConfig() model.Config {
	return model.Config{Permissions: testPermissions, Roles: testRoles, GlobalAdmins: []string{"root"}}
}

func newModel(t testing.TB, cfg model.Config) *model.Model {
	t.Helper()
	m, err := model.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "gatehouse.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f := &fixture{t: t, store: s, model: newModel(t, testConfig())}
	now := time.Now().UTC()
	f.acme = store.Workspace{ID: "ws_acme0000000000000000000000", Slug: "acme", Name: "Acme", CreatedAt: now, UpdatedAt: now}
	f.update(func(tx store.Tx) error {
		must(t, tx.PutWorkspace(f.acme))
		must(t, tx.PutRole(store.Role{WorkspaceID: f.acme.ID, Slug: "exporter", Name: "Exporter", Permissions: []string{"contact.manage"}}))
		for _, m := range []store.Membership{
			{WorkspaceID: f.acme.ID, UserID: "alice", Roles: []string{"owner"}},
			{WorkspaceID: f.acme.ID, UserID: "olga", Roles: []string{"operator"}, Restrictions: map[string][]string{"instance": {"i1", "i2"}, "chat": {"assigned_only"}}},
			{WorkspaceID: f.acme.ID, UserID: "dave", Roles: []string{"operator"}, Denies: []string{"message.send"}},
			{WorkspaceID: f.acme.ID, UserID: "eve", Roles: []string{"member", "exporter"}, Grants: []string{"campaign.*"}},
		} {
			m.JoinedAt, m.UpdatedAt = now, now
			must(t, tx.PutMember(m))
		}
		return nil
	})
	return f
}

func (f *fixture) update(fn func(store.Tx) error) {
	f.t.Helper()
	must(f.t, f.store.Update(context.Background(), fn))
}

func (f *fixture) view(fn func(store.Tx) error) {
	f.t.Helper()
	must(f.t, f.store.View(context.Background(), fn))
}

// access compiles user's membership in acme.
func (f *fixture) access(user string) *model.Access {
	f.t.Helper()
	var a *model.Access
	f.view(func(tx store.Tx) error {
		m, err := tx.Member(f.acme.ID, user)
		if err != nil {
			return err
		}
		a, err = f.model.MemberAccess(tx, f.acme, m)
		return err
	})
	return a
}

func (f *fixture) names(s authz.Set) []string { return s.Names(f.model.Catalog()) }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
