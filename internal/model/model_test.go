package model_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Config errors name what to change and, when known, the declaration's
// source line.
func TestNewRefusesBadConfig(t *testing.T) {
	cases := []struct {
		name string
		edit func(*model.Config)
		want string
	}{
		{"duplicate permission", func(c *model.Config) {
			c.Permissions = append(c.Permissions, model.Permission{Name: "message.read", Source: "Caddyfile:9"})
		}, "Caddyfile:9: permission message.read is declared twice"},
		{"implication of nothing", func(c *model.Config) {
			c.Permissions = append(c.Permissions, model.Permission{Name: "x.y", Implies: []string{"nope.nothing"}, Source: "Caddyfile:7"})
		}, "Caddyfile:7: permission x.y implies nope.nothing"},
		{"role with an unknown permission", func(c *model.Config) {
			c.Roles = append(c.Roles, model.SystemRole{Slug: "typo", Permissions: []string{"message.raed"}, Source: "Caddyfile:12"})
		}, "Caddyfile:12: role typo"},
		{"duplicate role", func(c *model.Config) {
			c.Roles = append(c.Roles, model.SystemRole{Slug: "owner", Source: "Caddyfile:13"})
		}, "Caddyfile:13: role owner is declared twice"},
		{"bad role slug", func(c *model.Config) {
			c.Roles = append(c.Roles, model.SystemRole{Slug: "Bad Slug", Source: "Caddyfile:14"})
		}, `Caddyfile:14: role "Bad Slug"`},
		{"unknown creator role", func(c *model.Config) { c.CreatorRole = "boss" }, `creator_role "boss" is not a declared role`},
		{"creator role without admin", func(c *model.Config) { c.CreatorRole = "operator" }, `creator_role "operator" must grant workspace.admin`},
	}
	for _, c := range cases {
		cfg := testConfig()
		cfg.Permissions = slices.Clone(cfg.Permissions)
		cfg.Roles = slices.Clone(cfg.Roles)
		c.edit(&cfg)
		_, err := model.New(cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

// No roles declared: owner (workspace.admin) and member, and owner is the
// creator role.
func TestDefaults(t *testing.T) {
	m := newModel(t, model.Config{})
	var slugs []string
	for _, r := range m.SystemRoles() {
		slugs = append(slugs, r.Slug)
	}
	if !slices.Equal(slugs, []string{"owner", "member"}) || m.CreatorRole() != "owner" || !m.RoleGrantsAdmin("owner") || m.RoleGrantsAdmin("member") {
		t.Fatalf("roles %v, creator %s", slugs, m.CreatorRole())
	}
	if !m.Catalog().HasName(m.Catalog().Expand([]string{"*"}), authz.PermAPIKeys) {
		t.Fatal("the built-in permissions are missing from an empty catalog")
	}
	if m.IsGlobalAdmin("root") {
		t.Fatal("nobody is a global admin unless listed")
	}
}

// Compiling a member: roles ∪ grants closed under implications, minus
// denies; Granted keeps what a deny removed; restrictions as stored; a
// custom role resolves before a system role.
func TestMemberAccess(t *testing.T) {
	f := newFixture(t)
	eve := f.access("eve")
	if got := f.names(eve.Permissions); !slices.Equal(got, []string{"campaign.read", "campaign.run", "contact.manage", "contact.read", "message.read"}) {
		t.Errorf("eve: %v", got)
	}
	dave := f.access("dave")
	send, _ := f.model.Catalog().ID("message.send")
	if dave.Permissions.Has(send) || !dave.Granted.Has(send) {
		t.Errorf("dave's deny: effective %v granted %v", f.names(dave.Permissions), f.names(dave.Granted))
	}
	olga := f.access("olga")
	if !olga.Allows("instance", "i1") || olga.Allows("instance", "i3") || !olga.Allows("contact", "any") || olga.RestrictedToNothing != "" {
		t.Errorf("olga's restrictions: %+v", olga)
	}
	f.update(func(tx store.Tx) error {
		m, _ := tx.Member(f.acme.ID, "olga")
		m.Restrictions = map[string][]string{"zone": {}, "instance": {}}
		return tx.PutMember(m)
	})
	if got := f.access("olga").RestrictedToNothing; got != "instance" {
		t.Errorf("restricted to nothing: %q, want the first empty type in name order", got)
	}
}

// The invariants: no escalation, outranking, last admin.
func TestInvariants(t *testing.T) {
	f := newFixture(t)
	alice, olga, eve := f.access("alice"), f.access("olga"), f.access("eve")
	f.view(func(tx store.Tx) error {
		granted, err := f.model.Grantable(tx, f.acme.ID, []string{"exporter"}, []string{"campaign.run"})
		must(t, err)
		if got := f.names(granted); !slices.Equal(got, []string{"campaign.read", "campaign.run", "contact.manage", "contact.read"}) {
			t.Errorf("grantable: %v", got)
		}
		if err := f.model.NoEscalation(alice.Permissions, granted); err != nil {
			t.Errorf("the owner may grant anything: %v", err)
		}
		var esc *model.EscalationError
		if err := f.model.NoEscalation(olga.Permissions, granted); !errors.As(err, &esc) ||
			!slices.Equal(esc.Missing, []string{"campaign.run", "contact.manage"}) {
			t.Errorf("operator granting exporter+campaign.run: %v", err)
		}
		if err := f.model.Outranks(eve.Permissions, alice.Permissions); !errors.As(err, &esc) || !slices.Contains(esc.Missing, authz.PermAdmin) {
			t.Errorf("eve outranks the owner: %v", err)
		}
		if err := f.model.Outranks(alice.Permissions, eve.Permissions); err != nil {
			t.Errorf("the owner does not outrank eve: %v", err)
		}
		return f.model.AdminRemains(tx, f.acme)
	})
	f.update(func(tx store.Tx) error {
		m, _ := tx.Member(f.acme.ID, "alice")
		m.Roles = []string{"member"}
		must(t, tx.PutMember(m))
		var last *model.LastAdminError
		if err := f.model.AdminRemains(tx, f.acme); !errors.As(err, &last) || last.Workspace != "acme" {
			t.Errorf("no admin left: %v", err)
		}
		// A custom role granting workspace.admin counts.
		must(t, tx.PutRole(store.Role{WorkspaceID: f.acme.ID, Slug: "boss", Name: "Boss", Permissions: []string{authz.PermAdmin}}))
		m.Roles = []string{"boss"}
		must(t, tx.PutMember(m))
		if err := f.model.AdminRemains(tx, f.acme); err != nil {
			t.Errorf("admin through a custom role: %v", err)
		}
		return nil
	})
}

// Provenance: where each effective permission comes from.
func TestEffectivePermissionsProvenance(t *testing.T) {
	f := newFixture(t)
	f.view(func(tx store.Tx) error {
		m, err := tx.Member(f.acme.ID, "eve")
		must(t, err)
		all, err := f.model.EffectivePermissions(tx, f.acme, m)
		must(t, err)
		byName := map[string]model.Provenance{}
		for _, p := range all {
			byName[p.Permission] = p
		}
		cr := byName["contact.read"]
		if !cr.Effective || len(cr.From) != 1 || cr.From[0].Kind != model.SourceRole || cr.From[0].Name != "exporter" || cr.From[0].Via != "contact.manage" {
			t.Errorf("contact.read: %+v", cr)
		}
		run := byName["campaign.run"]
		if len(run.From) != 1 || run.From[0].Kind != model.SourceGrant || run.From[0].Pattern != "campaign.*" {
			t.Errorf("campaign.run: %+v", run)
		}
		return nil
	})
}

// The workspace service: a derived slug, a taken one gets a suffix, the
// owner is recorded as a user and a member, the audit event is written.
func TestCreateWorkspace(t *testing.T) {
	f := newFixture(t)
	now := time.Now().UTC()
	var first, second store.Workspace
	f.update(func(tx store.Tx) error {
		var err error
		nw := model.NewWorkspace{Name: "Blue Sky", Owner: "zoe", OwnerEmail: "zoe@example.com", OwnerRoles: []string{"owner"}, Actor: model.ActorCLI}
		first, err = model.CreateWorkspace(tx, nw, now)
		must(t, err)
		second, err = model.CreateWorkspace(tx, nw, now)
		return err
	})
	if first.Slug != "blue-sky" || !strings.HasPrefix(second.Slug, "blue-sky-") {
		t.Fatalf("slugs %q, %q", first.Slug, second.Slug)
	}
	f.view(func(tx store.Tx) error {
		u, err := tx.User("zoe")
		must(t, err)
		if u.Email != "zoe@example.com" {
			t.Errorf("user %+v", u)
		}
		m, err := tx.Member(first.ID, "zoe")
		must(t, err)
		if !slices.Equal(m.Roles, []string{"owner"}) {
			t.Errorf("member %+v", m)
		}
		taken, err := model.SlugTaken(tx, "blue-sky", second.ID)
		must(t, err)
		if !taken {
			t.Error("blue-sky is not taken")
		}
		return nil
	})
	err := f.store.Update(t.Context(), func(tx store.Tx) error {
		_, err := model.CreateWorkspace(tx, model.NewWorkspace{Name: "Acme\u202egnp.exe", Owner: "zed"}, now)
		return err
	})
	var fe *model.FieldError
	if !errors.As(err, &fe) || fe.Field != "name" {
		t.Fatalf("a bidi override in a name: %v", err)
	}
}
